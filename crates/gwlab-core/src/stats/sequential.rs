//! `samples: auto` with a tolerance: a group sequential equivalence test that
//! stops as soon as the data decide.
//!
//! The sample grows in looks of doubling size, `first`, `2·first`, ... up to
//! `64·first` (seven looks; fewer where [`MAX_AUTO_SAMPLES`] stops the
//! doubling). At each look every share is judged by the tolerance test's two
//! one-sided exact binomial tests ([`super::tolerance`]), at levels corrected
//! for the looks, and sampling stops at the first look that decides:
//!
//! - **within**: every share is shown inside its tolerance, each one-sided
//!   test at [`LEVEL`]` / looks`. A split with a share off by the tolerance or
//!   more passes with at most [`LEVEL`] over all looks (a union bound over the
//!   looks; over the shares, an intersection-union test needs no correction).
//! - **outside**: a share is shown beyond its tolerance, each one-sided test
//!   at [`FALSE_FAILURE`]` / (2 · looks · shares)`. A split whose shares all
//!   lie inside their tolerance fails this way with at most [`FALSE_FAILURE`]
//!   over all looks, sides and shares (a union bound).
//! - neither by the last look: inconclusive, which fails. Only a share very
//!   near the edge of its tolerance gets there (the simulation in
//!   `src/probe/split/simulation.rs` measures how near).
//!
//! The correction is Bonferroni's, spending an equal part of each error rate
//! at every look: the repeated confidence intervals of Jennison and Turnbull,
//! *Group Sequential Methods with Applications to Clinical Trials* (Chapman
//! & Hall/CRC, 2000), chapter 9, with the simplest spending. Pocock's or
//! O'Brien and Fleming's boundaries would spend less and stop a little
//! sooner; the Bonferroni bound holds for any number of shares and exact
//! binomial tests without tables.
//!
//! The first look is the smallest sample in which a split observed exactly
//! at its weights is shown within: nothing smaller could pass.

use serde::Serialize;

use super::tolerance::{self, Finding, LEVEL};
use super::{FALSE_FAILURE, MAX_AUTO_SAMPLES};

/// The looks of a full plan: `first` doubled six times.
pub const LOOKS: u32 = 7;

/// A sequential plan: looks at `first · 2^k` requests for `k < looks`, the
/// levels corrected for [`LOOKS`] (a plan cut short by the cap keeps them:
/// fewer looks only spend less).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sequential {
    pub first: u32,
    pub looks: u32,
}

impl Sequential {
    /// The cumulative sample size at each look.
    pub fn sizes(&self) -> Vec<u64> {
        (0..self.looks)
            .map(|k| u64::from(self.first) << k)
            .collect()
    }

    /// The most requests the plan sends: its last look.
    pub fn cap(&self) -> u64 {
        u64::from(self.first) << (self.looks - 1)
    }

    /// The look (1-based) that a sample of `n` requests has reached.
    pub fn look_of(&self, n: u64) -> u32 {
        self.sizes().iter().take_while(|s| **s <= n).count().max(1) as u32
    }
}

/// The level of each one-sided test that shows a share within.
pub fn within_level() -> f64 {
    LEVEL / f64::from(LOOKS)
}

/// The level of each one-sided test that shows a share outside, for a split
/// of `shares` shares.
pub fn outside_level(shares: usize) -> f64 {
    FALSE_FAILURE / (2.0 * f64::from(LOOKS) * shares.max(1) as f64)
}

/// What `x` of `n` requests show about a share expected at `p0` with
/// tolerance `t` (fractions), at a look of a split of `shares` shares.
pub fn finding(x: u64, n: u64, p0: f64, t: f64, shares: usize) -> Finding {
    tolerance::finding_at(x, n, p0, t, within_level(), outside_level(shares))
}

/// Whether a split of `shares` with `counts` (of `n` in all) is decided:
/// within when every share is, outside when any is, else undecided.
pub fn decide(counts: &[u64], shares: &[f64], t: f64) -> Finding {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return Finding::Undecided;
    }
    let findings: Vec<Finding> = counts
        .iter()
        .zip(shares)
        .map(|(x, p0)| finding(*x, n, *p0, t, shares.len()))
        .collect();
    if findings.contains(&Finding::Outside) {
        Finding::Outside
    } else if findings.iter().all(|f| *f == Finding::Within) {
        Finding::Within
    } else {
        Finding::Undecided
    }
}

/// The smallest sample (up to `limit`) in which a split observed exactly at
/// `shares` is shown within `t`; `None` when even `limit` is too small.
pub fn first_look(shares: &[f64], t: f64, limit: u64) -> Option<u64> {
    let exact_within = |n: u64| {
        shares.iter().all(|p0| {
            let x = (p0 * n as f64).round() as u64;
            finding(x, n, *p0, t, shares.len()) == Finding::Within
        })
    };
    if !exact_within(limit) {
        return None;
    }
    // Shown within grows with n but for wobbles of whole-number counts: the
    // bisection finds an n where it holds with it failing just below.
    let (mut lo, mut hi) = (1u64, limit);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if exact_within(mid) {
            hi = mid
        } else {
            lo = mid + 1
        }
    }
    Some(hi)
}

/// The plan for `shares` (above 0, summing to 1) with tolerance `t`, within
/// [`MAX_AUTO_SAMPLES`].
pub fn plan(shares: &[f64], t: f64) -> Sequential {
    let cap = u64::from(MAX_AUTO_SAMPLES);
    let first = first_look(shares, t, cap).unwrap_or(cap);
    let mut looks = 1;
    while looks < LOOKS && first << looks <= cap {
        looks += 1;
    }
    Sequential {
        first: first as u32,
        looks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_doubles_from_the_first_sample_that_could_pass() {
        let p = plan(&[0.9, 0.1], 0.05);
        assert_eq!(p.looks, LOOKS);
        let sizes = p.sizes();
        assert_eq!(sizes.len(), 7);
        assert_eq!(sizes[6], sizes[0] * 64);
        assert_eq!(p.cap(), sizes[6]);
        // Nothing smaller than the first look shows an exact split within.
        let n = u64::from(p.first);
        let exact = |n: u64| {
            let x = (0.9 * n as f64).round() as u64;
            decide(&[x, n - x], &[0.9, 0.1], 0.05)
        };
        assert_eq!(exact(n), Finding::Within);
        assert_ne!(exact(n * 8 / 10), Finding::Within);
        assert_eq!(p.look_of(n), 1);
        assert_eq!(p.look_of(2 * n), 2);
        assert_eq!(p.look_of(p.cap()), 7);
    }

    #[test]
    fn a_tight_tolerance_has_fewer_looks_under_the_cap() {
        let p = plan(&[0.5, 0.5], 0.005);
        assert!(p.looks < LOOKS, "{p:?}");
        assert!(p.cap() <= u64::from(MAX_AUTO_SAMPLES));
    }

    #[test]
    fn the_looks_decide_within_outside_or_neither() {
        let shares = [0.9, 0.1];
        assert_eq!(decide(&[9000, 1000], &shares, 0.05), Finding::Within);
        assert_eq!(decide(&[8000, 2000], &shares, 0.05), Finding::Outside);
        assert_eq!(decide(&[8500, 1500], &shares, 0.05), Finding::Undecided);
        assert_eq!(decide(&[0, 0], &shares, 0.05), Finding::Undecided);
    }

    #[test]
    fn the_corrected_levels_are_stricter_than_a_single_looks() {
        assert!(within_level() < LEVEL);
        assert!(outside_level(2) < FALSE_FAILURE / 2.0);
        // 880 of 1000 at 90 ± 4 is within for one look, not across seven.
        assert_eq!(tolerance::finding(882, 1000, 0.9, 0.04), Finding::Within);
        assert_eq!(finding(882, 1000, 0.9, 0.04, 2), Finding::Undecided);
    }
}
