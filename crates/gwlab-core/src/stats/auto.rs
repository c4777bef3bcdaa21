//! `samples: auto`: the smallest sample with which a split probe can say what
//! it should.
//!
//! - Exact test: a share off by [`AUTO_DEVIATION`] is caught with [`super::POWER`].
//! - Tolerance test: sampled sequentially ([`super::sequential`]), in looks
//!   that double up to 64 times the first, stopping as soon as the data
//!   decide; the sample size is the plan's last look, the most it sends.
//!
//! The result is capped at [`MAX_AUTO_SAMPLES`]; what was wanted is kept so
//! that it can be said.

use serde::Serialize;

use super::exact::detectable_deviation;
use super::sequential::{self, LOOKS, Sequential};
use super::{AUTO_DEVIATION, MAX_AUTO_SAMPLES};

/// How far past the cap the search goes to say what was wanted.
const SEARCH_LIMIT: u64 = 10_000_000;

/// What `samples: auto` computed for a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoSamples {
    /// The requests the probe sends: `wanted`, capped.
    pub samples: u32,
    /// The requests the criterion needs; `None`: more than ten million.
    pub wanted: Option<u64>,
    /// With a tolerance: the sequential plan whose last look `samples` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequential: Option<Sequential>,
}

impl AutoSamples {
    pub fn capped(&self) -> bool {
        self.wanted != Some(u64::from(self.samples))
    }
}

/// The sample size for `shares` (above 0, summing to 1) judged exactly or,
/// with `tolerance` (a fraction), by the tolerance test.
pub fn auto_samples(shares: &[f64], tolerance: Option<f64>) -> AutoSamples {
    if let Some(t) = tolerance {
        let plan = sequential::plan(shares, t);
        // What a full plan of seven looks would send: this one, unless the
        // cap cut it short.
        let wanted = if plan.looks == LOOKS {
            Some(plan.cap())
        } else {
            sequential::first_look(shares, t, SEARCH_LIMIT)
                .map(|first| first << (LOOKS - 1))
                .filter(|w| *w <= SEARCH_LIMIT)
        };
        return AutoSamples {
            samples: plan.cap() as u32,
            wanted,
            sequential: Some(plan),
        };
    }
    let enough = |n: u64| detectable_deviation(shares, n).is_some_and(|d| d <= AUTO_DEVIATION);
    let cap = u64::from(MAX_AUTO_SAMPLES);
    let wanted = if enough(cap) {
        Some(smallest(1, cap, &enough))
    } else if enough(SEARCH_LIMIT) {
        Some(smallest(cap + 1, SEARCH_LIMIT, &enough))
    } else {
        None
    };
    let samples = wanted.map_or(MAX_AUTO_SAMPLES, |w| w.min(cap) as u32);
    AutoSamples {
        samples,
        wanted,
        sequential: None,
    }
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
    fn a_tolerance_test_is_sequential_up_to_its_last_look() {
        let a = auto_samples(&[0.5, 0.5], Some(0.05));
        let plan = a.sequential.expect("a plan");
        assert_eq!(u64::from(a.samples), plan.cap());
        assert!(!a.capped());
        assert!(auto_samples(&[0.5, 0.5], None).sequential.is_none());
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
        // (exact test; with tolerance 5 and 1: first look, last look).
        for (shares, exact, five, one) in [
            ([0.5, 0.5], 2418, (618, 39552), (15108, 60432)),
            ([0.9, 0.1], 971, (293, 18752), (5812, 92992)),
            ([0.99, 0.01], 195, (115, 7360), (1101, 70464)),
        ] {
            let looks = |t: f64| {
                let a = auto_samples(&shares, Some(t));
                (a.sequential.unwrap().first, a.samples)
            };
            let got = (
                auto_samples(&shares, None).samples,
                looks(0.05),
                looks(0.01),
            );
            assert_eq!(got, (exact, five, one), "{shares:?}");
        }
    }

    #[test]
    fn a_tiny_tolerance_is_capped_and_says_what_it_wanted() {
        let a = auto_samples(&[0.5, 0.5], Some(0.005));
        assert!(a.capped());
        assert!(a.samples <= MAX_AUTO_SAMPLES, "{a:?}");
        assert!(a.wanted.unwrap() > u64::from(MAX_AUTO_SAMPLES), "{a:?}");
    }
}
