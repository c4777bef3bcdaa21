//! What a split judgement could have detected, as data and as the sentence
//! every report prints: "400 samples: a deviation of 7.4 points or more would
//! have been caught with 95 % probability".

use serde::Serialize;

use super::{Rule, SequentialRun};
use crate::stats::{AutoSamples, FALSE_FAILURE, POWER, exact, tolerance};

/// The power of one split judgement.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Power {
    /// The requests judged: those answered by a backend with a weight.
    pub samples: u64,
    /// The smallest deviation of a share, in percentage points, that would have
    /// been caught with `probability`; `None` when none is caught that reliably.
    pub deviation: Option<f64>,
    pub probability: f64,
    /// With a tolerance: the probability, at least, that a split served
    /// exactly as expected passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_split_passes: Option<f64>,
    /// What `samples: auto` computed, when the probe asked for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto: Option<AutoSamples>,
    pub statement: String,
}

impl Power {
    /// The power of judging `n` requests against `shares` (the backends with a
    /// weight, in order) by `rule`.
    pub fn of(shares: &[f64], n: u64, rule: Rule<'_>, sequential: Option<&SequentialRun>) -> Power {
        let (deviation, exact_split_passes) = match rule.tolerance {
            _ if n == 0 => (None, None),
            // The sequential test's error rates hold over all its looks.
            Some(t) if sequential.is_some() => (Some(t), None),
            // Whatever the sample size, a share off by the tolerance passes
            // with at most 1 - POWER: that is the tolerance test's level.
            Some(t) => (
                Some(t),
                Some(tolerance::exact_split_passes(shares, n, t / 100.0)),
            ),
            None => (
                exact::detectable_deviation(shares, n).map(|d| d * 100.0),
                None,
            ),
        };
        let mut power = Power {
            samples: n,
            deviation,
            probability: POWER,
            exact_split_passes,
            auto: rule.auto.copied(),
            statement: String::new(),
        };
        power.statement = match sequential {
            Some(run) if n > 0 => power.sequential_sentence(run),
            _ => power.sentence(rule.tolerance.is_some()),
        };
        power
    }

    /// The sentence of a sequential sample: where it stopped and why, and
    /// the error rates that hold over all its looks.
    fn sequential_sentence(&self, run: &SequentialRun) -> String {
        let t = self.deviation.map_or_else(String::new, points);
        let capped = match &self.auto {
            Some(a) if a.capped() => format!(
                ", capped; {} wanted",
                a.wanted
                    .map_or_else(|| "more than ten million".to_string(), |w| w.to_string())
            ),
            _ => String::new(),
        };
        format!(
            "{} samples (auto, sequential: look {} of {}, at most {}{capped}), stopped {}: a share off by {t} points (the tolerance) or more passes with at most {} % probability, and a split with every share inside the tolerance fails as outside with at most {} %",
            self.samples,
            run.looks,
            run.plan.looks,
            run.plan.cap(),
            run.stopped.describe(),
            points((1.0 - POWER) * 100.0),
            points(FALSE_FAILURE * 100.0)
        )
    }

    fn sentence(&self, tolerance: bool) -> String {
        let n = self.samples;
        let head = match &self.auto {
            None => format!("{n} samples"),
            Some(a) if !a.capped() => format!("{n} samples (auto)"),
            Some(a) => format!(
                "{n} samples (auto, capped at {}; {} wanted)",
                a.samples,
                a.wanted
                    .map_or_else(|| "more than ten million".to_string(), |w| w.to_string())
            ),
        };
        let power = percent_at_least(self.probability);
        let body = match (self.deviation, self.exact_split_passes) {
            (Some(t), Some(passes)) if tolerance => {
                let caught = format!(
                    "a deviation of {} points (the tolerance) or more would have been caught with {power} % probability",
                    points(t)
                );
                // The figure is a lower bound: at 0 it says nothing but that.
                if passes > 0.0 {
                    format!(
                        "{caught}; a split served exactly as expected passes with at least {} % probability",
                        percent_at_least(passes)
                    )
                } else {
                    format!(
                        "{caught}; a split served exactly as expected may well fail with this few"
                    )
                }
            }
            (Some(d), _) => format!(
                "a deviation of {} points or more would have been caught with {power} % probability",
                tenths_up(d)
            ),
            (None, _) if n == 0 => "no request was judged".to_string(),
            (None, _) => {
                format!("too few to catch a deviation of any size with {power} % probability")
            }
        };
        format!("{head}: {body}")
    }
}

/// Percentage points as people write them: `5`, `2.5`, `33.3`.
pub fn points(p: f64) -> String {
    let tenths = (p * 10.0).round();
    if tenths % 10.0 == 0.0 {
        format!("{:.0}", tenths / 10.0)
    } else {
        format!("{:.1}", tenths / 10.0)
    }
}

/// Points rounded up to a tenth, so that "or more" stays true.
fn tenths_up(p: f64) -> String {
    format!("{:.1}", (p * 10.0 - 1e-9).ceil() / 10.0)
}

/// A probability in percent, rounded down to a tenth so that "at least" stays
/// true (0.99996 is "99.9", not "100.0").
fn percent_at_least(p: f64) -> String {
    points((p * 1000.0 + 1e-9).floor() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_drop_a_useless_decimal() {
        assert_eq!(points(5.0), "5");
        assert_eq!(points(2.5), "2.5");
        assert_eq!(points(100.0 / 3.0), "33.3");
    }

    #[test]
    fn deviations_round_up() {
        assert_eq!(tenths_up(7.43), "7.5");
        assert_eq!(tenths_up(8.0), "8.0");
    }

    #[test]
    fn probabilities_round_down() {
        assert_eq!(percent_at_least(0.99996), "99.9");
        assert_eq!(percent_at_least(0.95), "95");
        assert_eq!(percent_at_least(0.6237), "62.3");
    }
}
