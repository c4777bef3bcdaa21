//! `samples: auto`: the smallest sample with which a split probe can say what
//! it should.
//!
//! - Exact test: a share off by [`AUTO_DEVIATION`] is caught with [`super::POWER`].
//! - Tolerance test: a share off by the tolerance is caught with [`super::POWER`]
//!   whatever the sample size (the test's level), so the sample is sized for
//!   the other side: a split served exactly as expected passes with
//!   1 - [`FALSE_FAILURE`], the exact test's own false-failure rate.
//!
//! The result is capped at [`MAX_AUTO_SAMPLES`]; what was wanted is kept so
//! that it can be said.

use serde::Serialize;

use super::exact::detectable_deviation;
use super::tolerance::exact_split_passes;
use super::{AUTO_DEVIATION, FALSE_FAILURE, MAX_AUTO_SAMPLES};

/// How far past the cap the search goes to say what was wanted.
const SEARCH_LIMIT: u64 = 10_000_000;

/// What `samples: auto` computed for a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoSamples {
    /// The requests the probe sends: `wanted`, capped.
    pub samples: u32,
    /// The requests the criterion needs; `None`: more than ten million.
    pub wanted: Option<u64>,
}

impl AutoSamples {
    pub fn capped(&self) -> bool {
        self.wanted != Some(u64::from(self.samples))
    }
}

/// The sample size for `shares` (above 0, summing to 1) judged exactly or,
/// with `tolerance` (a fraction), by the tolerance test.
pub fn auto_samples(shares: &[f64], tolerance: Option<f64>) -> AutoSamples {
    let enough = |n: u64| match tolerance {
        None => detectable_deviation(shares, n).is_some_and(|d| d <= AUTO_DEVIATION),
        Some(t) => exact_split_passes(shares, n, t) >= 1.0 - FALSE_FAILURE,
    };
    let cap = u64::from(MAX_AUTO_SAMPLES);
    let wanted = if enough(cap) {
        Some(smallest(1, cap, &enough))
    } else if enough(SEARCH_LIMIT) {
        Some(smallest(cap + 1, SEARCH_LIMIT, &enough))
    } else {
        None
    };
    let samples = wanted.map_or(MAX_AUTO_SAMPLES, |w| w.min(cap) as u32);
    AutoSamples { samples, wanted }
}

/// The smallest `n` in `lo..=hi` for which `enough` holds, given that it holds
/// at `hi` and, past small wobbles from the counts being whole numbers, from
/// some point on.
fn smallest(mut lo: u64, mut hi: u64, enough: &impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if enough(mid) { hi = mid } else { lo = mid + 1 }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_test_is_sized_to_catch_five_points() {
        let a = auto_samples(&[0.9, 0.1], None);
        assert!(!a.capped());
        let n = u64::from(a.samples);
        assert!(detectable_deviation(&[0.9, 0.1], n).unwrap() <= AUTO_DEVIATION);
        assert!(detectable_deviation(&[0.9, 0.1], n * 9 / 10).unwrap() > AUTO_DEVIATION);
    }

    #[test]
    fn a_tolerance_test_is_sized_for_an_exact_split_to_pass() {
        let a = auto_samples(&[0.5, 0.5], Some(0.05));
        let n = u64::from(a.samples);
        assert!(exact_split_passes(&[0.5, 0.5], n, 0.05) >= 0.999);
        assert!(exact_split_passes(&[0.5, 0.5], n * 9 / 10, 0.05) < 0.999);
    }

    #[test]
    fn even_splits_need_more_than_lopsided_ones() {
        let even = auto_samples(&[0.5, 0.5], None).samples;
        let canary = auto_samples(&[0.9, 0.1], None).samples;
        let rare = auto_samples(&[0.99, 0.01], None).samples;
        assert!(even > canary && canary > rare, "{even} {canary} {rare}");
    }

    #[test]
    fn the_sizes_the_readme_gives() {
        for (shares, exact, five, one) in [
            ([0.5, 0.5], 2418, 2442, 60994),
            ([0.9, 0.1], 971, 971, 22172),
            ([0.99, 0.01], 195, 238, 3158),
        ] {
            let got = (
                auto_samples(&shares, None).samples,
                auto_samples(&shares, Some(0.05)).samples,
                auto_samples(&shares, Some(0.01)).samples,
            );
            assert_eq!(got, (exact, five, one), "{shares:?}");
        }
    }

    #[test]
    fn a_tiny_tolerance_is_capped_and_says_what_it_wanted() {
        let a = auto_samples(&[0.5, 0.5], Some(0.005));
        assert!(a.capped());
        assert_eq!(a.samples, MAX_AUTO_SAMPLES);
        assert!(a.wanted.unwrap() > u64::from(MAX_AUTO_SAMPLES), "{a:?}");
    }
}
