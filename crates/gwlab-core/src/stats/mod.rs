//! The statistics of split probes, as pure functions of counts and shares:
//! the exact test (chi-square), the tolerance test (an equivalence test), what
//! each can detect, and the sample size `samples: auto` asks for.
//!
//! Shares and tolerances are fractions here (0.05, not 5 points); the scenario
//! format's percentage points are converted where the format is read.

pub(crate) mod auto;
pub(crate) mod dist;
pub mod exact;
pub mod sequential;
pub mod tolerance;

pub use auto::{AutoSamples, auto_samples};

/// The chance that a split served exactly as expected fails: the exact test's
/// significance level (the format's 0.001), and what `samples: auto` holds the
/// tolerance test to.
pub const FALSE_FAILURE: f64 = 0.001;
/// The probability with which the deviation a result names would have been
/// caught; the tolerance test lets a share off by the tolerance pass with at
/// most `1 - POWER`.
pub const POWER: f64 = 0.95;
/// The deviation of a share that `samples: auto` sizes the exact test to catch.
pub(crate) const AUTO_DEVIATION: f64 = 0.05;
/// The most requests `samples: auto` asks for: beyond this a probe takes
/// longer than a test run should, and the result says what was wanted.
pub const MAX_AUTO_SAMPLES: u32 = 100_000;

/// Relative weights as shares summing to 1. Every weight must be above 0:
/// weight-0 backends are no part of the test (any request to one fails).
pub fn shares(weights: &[u32]) -> Vec<f64> {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    weights
        .iter()
        .map(|w| f64::from(*w) / total as f64)
        .collect()
}
