//! The tolerance test: an equivalence test that each share lies within a
//! tolerance of its expectation.
//!
//! For a share expected at p with tolerance t, two one-sided exact binomial
//! tests at [`LEVEL`] reject "the share is p - t or less" and "the share is
//! p + t or more"; the share is shown within when both are rejected, which is
//! the same as its one-sided Clopper-Pearson bounds at 1 - [`LEVEL`] lying
//! strictly inside (p - t, p + t). The split passes when every share is shown
//! within. A share off by the tolerance or more therefore passes with
//! probability [`LEVEL`] at most, whatever the sample size and however many
//! backends there are (an intersection-union test needs no correction).
//! What grows with the sample is the chance that a split served as expected
//! is shown within; [`exact_split_passes`] computes it.

use super::POWER;
use super::dist::{binomial_cdf, binomial_sf};

/// The chance that a share off by exactly the tolerance passes.
pub(crate) const LEVEL: f64 = 1.0 - POWER;

/// What the data show about one share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// Within the tolerance of its expectation.
    Within,
    /// Outside it (beyond the tolerance, on one side).
    Outside,
    /// Neither: more samples are needed.
    Undecided,
}

/// What `x` requests out of `n` show about a share expected at `p0`, with
/// tolerance `t`.
pub fn finding(x: u64, n: u64, p0: f64, t: f64) -> Finding {
    finding_at(x, n, p0, t, LEVEL, LEVEL)
}

/// [`finding`] with the one-sided tests that show the share within at level
/// `within` and those that show it outside at level `outside` (a sequential
/// plan corrects both for its looks).
pub(crate) fn finding_at(x: u64, n: u64, p0: f64, t: f64, within: f64, outside: f64) -> Finding {
    if shows_above_at(x, n, p0 - t, within) && shows_below_at(x, n, p0 + t, within) {
        Finding::Within
    } else if shows_below_at(x, n, p0 - t, outside) || shows_above_at(x, n, p0 + t, outside) {
        Finding::Outside
    } else {
        Finding::Undecided
    }
}

/// Whether `x` of `n` show the share above `q`: P(X ≥ x | q) < LEVEL.
fn shows_above(x: u64, n: u64, q: f64) -> bool {
    shows_above_at(x, n, q, LEVEL)
}

/// Whether `x` of `n` show the share below `q`: P(X ≤ x | q) < LEVEL.
fn shows_below(x: u64, n: u64, q: f64) -> bool {
    shows_below_at(x, n, q, LEVEL)
}

fn shows_above_at(x: u64, n: u64, q: f64, level: f64) -> bool {
    q < 0.0 || (q <= 1.0 && binomial_sf(x as i64, n, q) < level)
}

fn shows_below_at(x: u64, n: u64, q: f64, level: f64) -> bool {
    q > 1.0 || (q >= 0.0 && binomial_cdf(x as i64, n, q) < level)
}

/// The one-sided Clopper-Pearson bounds of a share at 1 - [`LEVEL`] each:
/// the shares that `x` of `n` show it above and below.
pub fn bounds(x: u64, n: u64) -> (f64, f64) {
    bounds_at(x, n, LEVEL)
}

/// The one-sided Clopper-Pearson bounds of a share at `1 - level` each.
pub fn bounds_at(x: u64, n: u64, level: f64) -> (f64, f64) {
    let lower = if x == 0 {
        0.0
    } else {
        boundary(|q| shows_above_at(x, n, q, level))
    };
    let upper = if x == n {
        1.0
    } else {
        boundary(|q| !shows_below_at(x, n, q, level))
    };
    (lower, upper)
}

/// The share in [0, 1] where `holds` turns from true to false.
fn boundary(holds: impl Fn(f64) -> bool) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if holds(mid) { lo = mid } else { hi = mid }
    }
    lo
}

/// The probability, at least, that a split served exactly as `shares` passes
/// the tolerance test with `n` requests.
///
/// Each share's count is binomial whatever the others do, so the chance that
/// a share is not shown within is a sum of two binomial tails; the split
/// fails with at most the sum of those over its shares. With two shares the
/// second one's test mirrors the first's (its count is n minus the first's),
/// so the first alone gives the exact figure.
pub fn exact_split_passes(shares: &[f64], n: u64, t: f64) -> f64 {
    let tested = if shares.len() == 2 {
        &shares[..1]
    } else {
        shares
    };
    let missed: f64 = tested
        .iter()
        .map(|&p0| match within_counts(n, p0, t) {
            Some((a, b)) => binomial_cdf(a as i64 - 1, n, p0) + binomial_sf(b as i64 + 1, n, p0),
            None => 1.0,
        })
        .sum();
    (1.0 - missed).max(0.0)
}

/// The counts of a share expected at `p0` that are shown within `t`: from the
/// first one shown above p0 - t to the last one shown below p0 + t.
fn within_counts(n: u64, p0: f64, t: f64) -> Option<(u64, u64)> {
    let first = first_true(0, n + 1, |x| shows_above(x, n, p0 - t));
    let past_last = first_true(0, n + 1, |x| !shows_below(x, n, p0 + t));
    (first < past_last).then(|| (first, past_last - 1))
}

/// The first `x` in `lo..hi` where a monotone `pred` turns true; `hi` if none.
fn first_true(mut lo: u64, mut hi: u64, pred: impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) { hi = mid } else { lo = mid + 1 }
    }
    lo
}

/// About how many requests would decide a share that stays at the fraction
/// `observed` of its answers: the smallest sample (up to `limit`) in which
/// that share is shown within or outside. `None` when even `limit` would not.
pub fn samples_to_decide(observed: f64, p0: f64, t: f64, limit: u64) -> Option<u64> {
    let decided = |n: u64| {
        let x = (observed * n as f64).round() as u64;
        finding(x, n, p0, t) != Finding::Undecided
    };
    let n = first_true(1, limit + 1, decided);
    (n <= limit).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_clearly_inside_is_within() {
        // 905 of 1000 at 90 ± 5: bounds about 88.9–92.0.
        assert_eq!(finding(905, 1000, 0.9, 0.05), Finding::Within);
        assert_eq!(finding(95, 1000, 0.1, 0.05), Finding::Within);
    }

    #[test]
    fn a_share_clearly_outside_is_outside_on_either_side() {
        assert_eq!(finding(800, 1000, 0.9, 0.05), Finding::Outside);
        assert_eq!(finding(200, 1000, 0.1, 0.05), Finding::Outside);
    }

    #[test]
    fn a_share_at_the_edge_or_a_small_sample_is_undecided() {
        // 85 % observed at 90 ± 5: exactly on the edge, never decided.
        assert_eq!(finding(850, 1000, 0.9, 0.05), Finding::Undecided);
        // 18 of 20 is 90 %, but twenty requests cannot pin a share to ±5 points.
        assert_eq!(finding(18, 20, 0.9, 0.05), Finding::Undecided);
    }

    #[test]
    fn the_within_boundary_is_the_clopper_pearson_bound() {
        // The lower bound of 882/1000 at 95 % is about 0.8645: above 0.86, below 0.87.
        let (lo, hi) = bounds(882, 1000);
        assert!((0.862..0.867).contains(&lo), "{lo}");
        assert!((0.897..0.902).contains(&hi), "{hi}");
        assert_eq!(
            finding(882, 1000, 0.9, 0.04),
            Finding::Within,
            "0.86 < {lo}"
        );
        assert_eq!(
            finding(882, 1000, 0.91, 0.04),
            Finding::Undecided,
            "0.87 > {lo}"
        );
        assert_eq!(bounds(0, 10).0, 0.0);
        assert_eq!(bounds(10, 10).1, 1.0);
    }

    #[test]
    fn a_tolerance_beyond_0_or_1_holds_that_side() {
        // 99/1 with 5 points: the 1 % share cannot be below -4 %, only above 6 %.
        assert_eq!(finding(0, 200, 0.01, 0.05), Finding::Within);
        assert_eq!(finding(30, 200, 0.01, 0.05), Finding::Outside);
    }

    #[test]
    fn an_exact_split_passes_more_often_with_more_samples() {
        let small = exact_split_passes(&[0.9, 0.1], 200, 0.05);
        let large = exact_split_passes(&[0.9, 0.1], 2000, 0.05);
        assert!(small < 0.9, "{small}");
        assert!(large > 0.9999, "{large}");
        assert_eq!(exact_split_passes(&[0.9, 0.1], 5, 0.05), 0.0);
    }

    #[test]
    fn the_samples_to_decide_grow_as_the_share_nears_the_edge() {
        let near = samples_to_decide(0.86, 0.9, 0.05, 1_000_000).unwrap();
        let far = samples_to_decide(0.89, 0.9, 0.05, 1_000_000).unwrap();
        assert!(near > 3 * far, "{near} against {far}");
        assert_eq!(samples_to_decide(0.85, 0.9, 0.05, 100_000), None);
    }
}
