//! The envtest API server of gwlab-standin, for this test binary.

#![allow(dead_code)]

pub use gwlab_standin::envtest::*;

/// Skips the calling test (returns from it) when there is no API server.
#[macro_export]
macro_rules! envtest_or_skip {
    () => {
        match common::envtest::get() {
            Some(e) => e,
            None => return,
        }
    };
}
