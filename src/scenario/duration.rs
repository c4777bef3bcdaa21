//! Durations as scenarios write them: `500ms`, `30s`, `2m`, `1m30s`.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("`{0}` has no unit: write e.g. `30s`, `500ms` or `2m`")]
    NoUnit(String),
    #[error("`{0}` is not a duration: write e.g. `30s`, `500ms` or `2m`")]
    NotADuration(String),
    #[error("`{text}`: number too large")]
    TooLarge {
        text: String,
        #[source]
        source: std::num::ParseIntError,
    },
    #[error("`{text}`: unknown unit `{unit}` (use ms, s, m or h)")]
    UnknownUnit { text: String, unit: String },
    #[error("`{0}` is longer than any duration gwlab can count")]
    Overflow(String),
}

/// Parses `500ms`, `30s`, `2m`, `1h`, or a sequence of those (`1m30s`).
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| DurationError::NoUnit(text.into()))?;
        if digits == 0 {
            return Err(DurationError::NotADuration(text.into()));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|source| DurationError::TooLarge {
                text: text.into(),
                source,
            })?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let seconds_per_unit = match unit {
            "ms" => None,
            "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3600),
            _ => {
                return Err(DurationError::UnknownUnit {
                    text: text.into(),
                    unit: unit.into(),
                });
            }
        };
        // Checked: the numbers come from input, and `n * 3600` or the sum can
        // exceed what a Duration holds.
        let part = match seconds_per_unit {
            None => Some(Duration::from_millis(n)),
            Some(k) => n.checked_mul(k).map(Duration::from_secs),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| DurationError::Overflow(text.into()))?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// A duration as written in a scenario, parsed later so that its problems are
/// reported with the field they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationText(pub String);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A bare number is read too, so that `30` gets "no unit" rather than a type error.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        Ok(DurationText(match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_formats_written_in_scenarios() {
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse("1m30s").unwrap(), Duration::from_secs(90));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        assert!(parse("30").unwrap_err().to_string().contains("no unit"));
        assert!(
            parse("3x")
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        assert!(parse("s").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn numbers_too_large_for_a_duration_are_errors_not_panics_or_wraps() {
        // Found by fuzzing: the sum overflowed (a panic), and `n * 3600` wrapped
        // silently to 3584 s.
        assert_eq!(
            parse("18446744073709551615s1s"),
            Err(DurationError::Overflow("18446744073709551615s1s".into()))
        );
        assert_eq!(
            parse("5124095576030432h"),
            Err(DurationError::Overflow("5124095576030432h".into()))
        );
        assert!(matches!(
            parse("99999999999999999999s"),
            Err(DurationError::TooLarge { .. })
        ));
        assert_eq!(
            parse("5124095576030h").unwrap(),
            Duration::from_secs(5_124_095_576_030 * 3600)
        );
    }
}
