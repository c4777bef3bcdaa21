//! Judging a weighted split: a chi-square goodness-of-fit test of the counts per
//! backend against the weights, at the format's 0.001 significance level.

use std::collections::BTreeMap;

use serde::Serialize;

pub const SIGNIFICANCE: f64 = 0.001;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitVerdict {
    pub passed: bool,
    pub counts: BTreeMap<String, u32>,
    pub expected: BTreeMap<String, f64>,
    pub chi_square: f64,
    pub degrees_of_freedom: u32,
    pub p_value: f64,
    /// Why it failed, in words.
    pub problems: Vec<String>,
}

/// Judges `counts` (backend → requests answered) against relative `weights`.
/// Weight-0 backends and backends outside the split must have no request.
pub fn judge(weights: &BTreeMap<String, u32>, counts: &BTreeMap<String, u32>) -> SplitVerdict {
    let mut problems = Vec::new();
    for (backend, n) in counts {
        match weights.get(backend) {
            None if *n > 0 => problems.push(format!(
                "{backend} answered {n} requests but is not in the split"
            )),
            Some(0) if *n > 0 => {
                problems.push(format!("{backend} has weight 0 but answered {n} requests"))
            }
            _ => {}
        }
    }
    let positive: Vec<(&String, u32)> = weights
        .iter()
        .filter(|(_, w)| **w > 0)
        .map(|(b, w)| (b, *w))
        .collect();
    let total_weight: u32 = positive.iter().map(|(_, w)| w).sum();
    let n: u32 = positive
        .iter()
        .map(|(b, _)| counts.get(*b).copied().unwrap_or(0))
        .sum();
    let mut expected = BTreeMap::new();
    let mut chi = 0.0;
    for (b, w) in &positive {
        let e = n as f64 * *w as f64 / total_weight as f64;
        let o = counts.get(*b).copied().unwrap_or(0) as f64;
        if e > 0.0 {
            chi += (o - e) * (o - e) / e;
        }
        expected.insert((*b).clone(), e);
    }
    let df = positive.len().saturating_sub(1) as u32;
    let p_value = if df == 0 {
        1.0
    } else {
        chi_square_survival(chi, df as f64)
    };
    if n == 0 {
        problems.push("no request reached a backend of the split".into());
    } else if p_value < SIGNIFICANCE {
        problems.push(format!(
            "the counts do not fit the weights (chi-square {chi:.2}, {df} degrees of freedom, p = {p_value:.2e} < {SIGNIFICANCE})"
        ));
    }
    SplitVerdict {
        passed: problems.is_empty(),
        counts: counts.clone(),
        expected,
        chi_square: chi,
        degrees_of_freedom: df,
        p_value,
        problems,
    }
}

/// P(X > x) for X chi-square distributed with `k` degrees of freedom:
/// the regularised upper incomplete gamma function Q(k/2, x/2).
pub fn chi_square_survival(x: f64, k: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    upper_regularized_gamma(k / 2.0, x / 2.0)
}

fn ln_gamma(x: f64) -> f64 {
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
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        let p = sum * (-x + a * x.ln() - ln_gamma(a)).exp();
        (1.0 - p).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        ((-x + a * x.ln() - ln_gamma(a)).exp() * h).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map<T: Copy>(pairs: &[(&str, T)]) -> BTreeMap<String, T> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn survival_function_matches_tables() {
        // Critical values of the chi-square distribution at 0.001.
        assert!((chi_square_survival(10.828, 1.0) - 0.001).abs() < 2e-5);
        assert!((chi_square_survival(13.816, 2.0) - 0.001).abs() < 2e-5);
        assert!((chi_square_survival(3.841, 1.0) - 0.05).abs() < 2e-4);
        assert!((chi_square_survival(2.0, 2.0) - (-1.0f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn a_fair_90_10_sample_passes() {
        let v = judge(
            &map(&[("app-v1", 90), ("app-v2", 10)]),
            &map(&[("app-v1", 176), ("app-v2", 24)]),
        );
        assert!(v.passed, "{v:?}");
    }

    #[test]
    fn a_50_50_sample_fails_a_90_10_split() {
        let v = judge(
            &map(&[("app-v1", 90), ("app-v2", 10)]),
            &map(&[("app-v1", 100), ("app-v2", 100)]),
        );
        assert!(!v.passed);
        assert!(v.p_value < 1e-10, "{v:?}");
    }

    #[test]
    fn traffic_to_a_weight_0_backend_fails() {
        let v = judge(&map(&[("a", 1), ("b", 0)]), &map(&[("a", 199), ("b", 1)]));
        assert!(!v.passed);
        assert!(v.problems[0].contains("weight 0"), "{v:?}");
    }

    #[test]
    fn a_backend_outside_the_split_fails() {
        let v = judge(&map(&[("a", 1)]), &map(&[("a", 150), ("c", 50)]));
        assert!(!v.passed);
        assert!(v.problems[0].contains("not in the split"));
    }
}
