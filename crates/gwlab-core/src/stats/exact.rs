//! The exact test, the format's default: a chi-square goodness-of-fit test of
//! the counts against the shares at [`FALSE_FAILURE`], and the smallest
//! deviation of a share it catches with [`POWER`].

use super::dist::{binomial_cdf, binomial_sf, chi_square_quantile, chi_square_survival};
use super::{FALSE_FAILURE, POWER};

/// Pearson's chi-square statistic of a sample and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquare {
    pub statistic: f64,
    pub degrees_of_freedom: u32,
    pub p_value: f64,
}

impl ChiSquare {
    /// Whether the counts do not fit the shares at the format's level.
    pub fn rejects(&self) -> bool {
        self.p_value < FALSE_FAILURE
    }
}

/// The test of `counts` against `shares` (same order; shares above 0 summing to 1).
pub fn chi_square(shares: &[f64], counts: &[u64]) -> ChiSquare {
    let n: u64 = counts.iter().sum();
    let statistic: f64 = shares
        .iter()
        .zip(counts)
        .map(|(p, o)| {
            let e = n as f64 * p;
            let d = *o as f64 - e;
            if e > 0.0 { d * d / e } else { 0.0 }
        })
        .sum();
    let degrees_of_freedom = shares.len().saturating_sub(1) as u32;
    let p_value = if degrees_of_freedom == 0 {
        1.0
    } else {
        chi_square_survival(statistic, f64::from(degrees_of_freedom))
    };
    ChiSquare {
        statistic,
        degrees_of_freedom,
        p_value,
    }
}

/// The smallest `d` such that, in a sample of `n`, any share off its
/// expectation by `d` or more fails the test with probability [`POWER`] or
/// more; `None` when no such `d` exists.
///
/// With one share, any request elsewhere fails the probe (it went to a
/// weight-0 backend or one outside the split), so a share `d` elsewhere goes
/// unnoticed with probability (1 - d)^n.
///
/// With more, the bound is per share, from that share's count alone: whatever
/// the other shares do, the chi-square statistic is at least
/// (x - np)² / (np(1 - p)) for a share p answered x times (with two shares it
/// is exactly that). So the test fails whenever that one term passes the
/// critical value, and the chance of it is a binomial tail, computed exactly.
/// With more than two shares the real power is higher than this bound.
pub fn detectable_deviation(shares: &[f64], n: u64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    if shares.len() == 1 {
        return Some(1.0 - (1.0 - POWER).powf(1.0 / n as f64));
    }
    let critical = chi_square_quantile(FALSE_FAILURE, (shares.len() - 1) as f64);
    let mut worst: f64 = 0.0;
    // The largest deviation of a side whose every deviation goes unnoticed.
    let mut unnoticed: f64 = 0.0;
    for &p0 in shares {
        let region = Rejection::of_share(p0, n, critical);
        // Up to share 1 and down to share 0: a deviation past those cannot happen.
        for (limit, sign) in [(1.0 - p0, 1.0), (p0, -1.0)] {
            if limit <= 0.0 {
                continue;
            }
            let caught = |d: f64| region.power(p0 + sign * d) >= POWER;
            if !caught(limit) {
                // Not even the share at 0 (or 1) is caught. That is no matter
                // when the statement is about larger deviations than this side
                // can have.
                unnoticed = unnoticed.max(limit);
                continue;
            }
            let (mut lo, mut hi) = (0.0, limit);
            for _ in 0..50 {
                let mid = (lo + hi) / 2.0;
                if caught(mid) { hi = mid } else { lo = mid }
            }
            worst = worst.max(hi);
        }
    }
    (worst > unnoticed).then_some(worst)
}

/// With two shares, the exact chance that the test fails a sample of `n` when
/// the first share is really `p`. At the expectation this is the test's real
/// false-failure rate, which the chi-square approximation puts at
/// [`FALSE_FAILURE`] and small expected counts move away from it (the split
/// simulation checks the stated rate against it).
pub fn two_share_failure_rate(shares: &[f64], n: u64, p: f64) -> f64 {
    assert_eq!(shares.len(), 2, "exact for two shares only");
    Rejection::of_share(shares[0], n, chi_square_quantile(FALSE_FAILURE, 1.0)).power(p)
}

/// The counts of one share that make its own chi-square term exceed the
/// critical value: at most `below` or at least `above`.
struct Rejection {
    n: u64,
    below: i64,
    above: i64,
}

impl Rejection {
    fn of_share(p0: f64, n: u64, critical: f64) -> Self {
        let center = n as f64 * p0;
        let half = (critical * center * (1.0 - p0)).sqrt();
        Rejection {
            n,
            below: (center - half).ceil() as i64 - 1,
            above: (center + half).floor() as i64 + 1,
        }
    }

    /// The chance that the count falls in the region when the share is `p`.
    fn power(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0);
        binomial_cdf(self.below, self.n, p) + binomial_sf(self.above, self.n, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fair_90_10_sample_fits_and_a_50_50_one_does_not() {
        let fair = chi_square(&[0.9, 0.1], &[176, 24]);
        assert!(!fair.rejects(), "{fair:?}");
        let off = chi_square(&[0.9, 0.1], &[100, 100]);
        assert!(off.rejects());
        assert!(off.p_value < 1e-10, "{off:?}");
        assert_eq!(off.degrees_of_freedom, 1);
    }

    #[test]
    fn one_share_has_nothing_to_test() {
        let c = chi_square(&[1.0], &[200]);
        assert_eq!((c.degrees_of_freedom, c.p_value), (0, 1.0));
    }

    #[test]
    fn the_canary_catches_about_eight_points() {
        // Normal approximation, towards 50/50 where the count varies most:
        // d = (z_0.9995 · 0.3 + z_0.95 · √(0.82 · 0.18)) / √400 ≈ 8.0 points.
        let d = detectable_deviation(&[0.9, 0.1], 400).unwrap();
        assert!((0.075..0.085).contains(&d), "{d}");
        // More samples catch less.
        let d4 = detectable_deviation(&[0.9, 0.1], 1600).unwrap();
        assert!(d4 < d * 0.6, "{d4} against {d}");
    }

    #[test]
    fn one_share_catches_what_leaks_elsewhere() {
        // 0.95 = 1 - (1 - d)^59 at d ≈ 4.95 %.
        let d = detectable_deviation(&[1.0], 59).unwrap();
        assert!((d - 0.0495).abs() < 5e-4, "{d}");
    }

    #[test]
    fn too_few_samples_catch_nothing_reliably() {
        assert_eq!(detectable_deviation(&[0.5, 0.5], 5), None);
        assert_eq!(detectable_deviation(&[0.5, 0.5], 0), None);
    }

    #[test]
    fn a_deviation_that_cannot_happen_needs_no_catching() {
        // 300 requests cannot tell 99/1 from 100/0 (a 1-point deviation), but
        // the statement is about 5 points or more, and the 1 % share cannot
        // drop by 5: only its rise to 6 % must be caught.
        let d = detectable_deviation(&[0.99, 0.01], 300).unwrap();
        assert!((0.01..0.05).contains(&d), "{d}");
        let zero = Rejection::of_share(0.01, 300, chi_square_quantile(FALSE_FAILURE, 1.0));
        assert!(zero.power(0.0) < POWER, "100/0 goes unnoticed");
    }
}
