//! The envtest API server of gwlab-standin, for this test binary.

#![allow(dead_code, unused_imports)]

pub use gwlab_standin::envtest::{
    Envtest, apply_as, assert_untouched, install_gateway_api, install_gateway_api_at, labelled,
    until_none_labelled, upstream,
};

fn or_not_run(got: Result<&'static Envtest, String>) -> Option<&'static Envtest> {
    got.map_err(|why| super::skip::not_run(&format!("no real API server: {why}")))
        .ok()
}

/// The API server this test binary shares, or `None` (the test reported as
/// not run) where it cannot start.
pub fn get() -> Option<&'static Envtest> {
    or_not_run(gwlab_standin::envtest::shared())
}

/// An API server of the caller's own (see gwlab_standin's `another`).
pub fn another() -> Option<&'static Envtest> {
    or_not_run(gwlab_standin::envtest::another())
}

/// [`another`], its kube-apiserver started with `flags` besides its own.
pub fn another_with(flags: &[&str]) -> Option<&'static Envtest> {
    or_not_run(gwlab_standin::envtest::another_with(flags))
}

/// Skips the calling test (returns from it) when there is no API server.
#[macro_export]
macro_rules! envtest_or_skip {
    () => {
        match $crate::common::envtest::get() {
            Some(e) => e,
            None => return,
        }
    };
}
