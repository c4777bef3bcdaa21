//! The distribution functions the split statistics need: chi-square (survival
//! and quantile) and binomial (both tails), from the regularised incomplete
//! gamma and beta functions.

/// Iterations after which a series or continued fraction is taken as converged.
/// The beta fraction needs about the square root of the sample size; this
/// covers far beyond the largest sample gwlab sends.
const MAX_ITERATIONS: usize = 20_000;
/// Relative change at which a series or continued fraction stops.
const EPSILON: f64 = 1e-15;
/// Keeps the Lentz continued fractions away from a division by zero.
const TINY: f64 = 1e-300;

/// P(X > x) for X chi-square distributed with `k` degrees of freedom:
/// the regularised upper incomplete gamma function Q(k/2, x/2).
pub(crate) fn chi_square_survival(x: f64, k: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    upper_regularized_gamma(k / 2.0, x / 2.0)
}

/// The `x` with P(X > x) = `alpha` for X chi-square with `k` degrees of
/// freedom (the test's critical value), by bisection of the survival function.
pub(crate) fn chi_square_quantile(alpha: f64, k: f64) -> f64 {
    let mut hi = k.max(1.0);
    while chi_square_survival(hi, k) > alpha {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if chi_square_survival(mid, k) > alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// P(X ≤ k) for X ~ Binomial(n, p).
pub(crate) fn binomial_cdf(k: i64, n: u64, p: f64) -> f64 {
    if k < 0 {
        return 0.0;
    }
    if k as u64 >= n {
        return 1.0;
    }
    // P(X ≤ k) = I_{1-p}(n - k, k + 1).
    let k = k as f64;
    regularized_beta(n as f64 - k, k + 1.0, 1.0 - p)
}

/// P(X ≥ k) for X ~ Binomial(n, p).
pub(crate) fn binomial_sf(k: i64, n: u64, p: f64) -> f64 {
    if k <= 0 {
        return 1.0;
    }
    if k as u64 > n {
        return 0.0;
    }
    // P(X ≥ k) = I_p(k, n - k + 1).
    let k = k as f64;
    regularized_beta(k, n as f64 - k + 1.0, p)
}

pub(super) fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9): 15 significant digits for x > 0.
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Q(a, x) by the series for x < a + 1 and the continued fraction otherwise.
fn upper_regularized_gamma(a: f64, x: f64) -> f64 {
    if x < a + 1.0 {
        let mut sum = 1.0 / a;
        let mut term = sum;
        let mut ap = a;
        for _ in 0..MAX_ITERATIONS {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * EPSILON {
                break;
            }
        }
        let p = sum * (-x + a * x.ln() - ln_gamma(a)).exp();
        (1.0 - p).clamp(0.0, 1.0)
    } else {
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..MAX_ITERATIONS {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = not_tiny(an * d + b);
            c = not_tiny(b + an / c);
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < EPSILON {
                break;
            }
        }
        ((-x + a * x.ln() - ln_gamma(a)).exp() * h).clamp(0.0, 1.0)
    }
}

/// The regularised incomplete beta function I_x(a, b), by its continued
/// fraction on whichever side of the mean converges fast.
pub(crate) fn regularized_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let value = if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b
    };
    value.clamp(0.0, 1.0)
}

/// The continued fraction of I_x(a, b), evaluated by the modified Lentz method.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / not_tiny(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..MAX_ITERATIONS {
        let m = m as f64;
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / not_tiny(1.0 + even * d);
        c = not_tiny(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / not_tiny(1.0 + odd * d);
        c = not_tiny(1.0 + odd / c);
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < EPSILON {
            break;
        }
    }
    h
}

fn not_tiny(v: f64) -> f64 {
    if v.abs() < TINY { TINY } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survival_function_matches_tables() {
        // Critical values of the chi-square distribution at 0.001.
        assert!((chi_square_survival(10.828, 1.0) - 0.001).abs() < 2e-5);
        assert!((chi_square_survival(13.816, 2.0) - 0.001).abs() < 2e-5);
        assert!((chi_square_survival(3.841, 1.0) - 0.05).abs() < 2e-4);
        assert!((chi_square_survival(2.0, 2.0) - (-1.0f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn quantiles_invert_the_survival_function() {
        assert!((chi_square_quantile(0.001, 1.0) - 10.828).abs() < 1e-3);
        assert!((chi_square_quantile(0.001, 2.0) - 13.816).abs() < 1e-3);
        assert!((chi_square_quantile(0.05, 3.0) - 7.815).abs() < 1e-3);
    }

    /// P(X ≤ k) summed term by term (each term's logarithm built up by the
    /// ratio of neighbours, so that no term underflows on the way), to check
    /// the beta route against.
    fn cdf_by_sum(k: u64, n: u64, p: f64) -> f64 {
        let mut ln_term = n as f64 * (1.0 - p).ln();
        let mut sum = ln_term.exp();
        for i in 0..k {
            ln_term += ((n - i) as f64 / (i + 1) as f64 * p / (1.0 - p)).ln();
            sum += ln_term.exp();
        }
        sum
    }

    #[test]
    fn binomial_tails_match_direct_sums() {
        for (k, n, p) in [
            (0, 10, 0.3),
            (3, 10, 0.3),
            (9, 10, 0.5),
            (35, 400, 0.1),
            (380, 400, 0.9),
        ] {
            let direct = cdf_by_sum(k, n, p);
            let cdf = binomial_cdf(k as i64, n, p);
            assert!(
                (cdf - direct).abs() < 1e-12,
                "cdf({k}; {n}, {p}) = {cdf}, by sum {direct}"
            );
            let sf = binomial_sf(k as i64 + 1, n, p);
            assert!(
                (sf - (1.0 - direct)).abs() < 1e-12,
                "sf({}; {n}, {p}) = {sf}",
                k + 1
            );
        }
        assert_eq!(binomial_cdf(-1, 10, 0.5), 0.0);
        assert_eq!(binomial_cdf(10, 10, 0.5), 1.0);
        assert_eq!(binomial_sf(0, 10, 0.5), 1.0);
        assert_eq!(binomial_sf(11, 10, 0.5), 0.0);
        assert_eq!(binomial_cdf(0, 10, 0.0), 1.0);
        assert_eq!(binomial_sf(10, 10, 1.0), 1.0);
    }

    #[test]
    fn binomial_tails_hold_for_large_samples() {
        // Bin(100000, 0.5): P(X ≤ 50000) is one half plus half the mode's mass.
        let mode = (ln_gamma(100_001.0) - 2.0 * ln_gamma(50_001.0) - 100_000.0 * 2f64.ln()).exp();
        let cdf = binomial_cdf(50_000, 100_000, 0.5);
        assert!((cdf - (0.5 + mode / 2.0)).abs() < 1e-9, "{cdf}");
    }
}
