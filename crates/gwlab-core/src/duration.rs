//! One duration grammar, `<number><unit>` parts with units ms, s, m and h,
//! read two ways: as scenarios and the command line write durations (any
//! number of parts, `1m30s`), and as Gateway API fields do (GEP-2257: one to
//! four parts of at most five digits, `1h2m3s4ms`).

use std::time::Duration;

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
    /// Outside GEP-2257's stricter form (one to four parts, five digits each).
    #[error("`{0}` is not a Gateway API duration")]
    NotGatewayApi(String),
}

/// One `<number><unit>` part, with how many digits the number had.
struct Part {
    value: Duration,
    digits: usize,
}

/// The parts of `text`, in order: the one grammar both forms share.
fn parts(text: &str) -> Result<Vec<Part>, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut out = Vec::new();
    let mut rest = text;
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
        // Checked: the numbers come from input, and `n * 3600` can exceed
        // what a Duration holds.
        let value = match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => Some(Duration::from_secs(n)),
            "m" => n.checked_mul(60).map(Duration::from_secs),
            "h" => n.checked_mul(3600).map(Duration::from_secs),
            _ => {
                return Err(DurationError::UnknownUnit {
                    text: text.into(),
                    unit: unit.into(),
                });
            }
        }
        .ok_or_else(|| DurationError::Overflow(text.into()))?;
        out.push(Part { value, digits });
        rest = &rest[unit_len..];
    }
    Ok(out)
}

fn sum(text: &str, parts: &[Part]) -> Result<Duration, DurationError> {
    parts
        .iter()
        .try_fold(Duration::ZERO, |t, p| t.checked_add(p.value))
        .ok_or_else(|| DurationError::Overflow(text.into()))
}

/// A duration as scenarios and the command line write it: `500ms`, `30s`,
/// `2m`, `1h`, or a sequence of those (`1m30s`); surrounding blanks allowed.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let s = text.trim();
    let parts = parts(s).map_err(|e| match e {
        // Say the text as written, blanks and all.
        DurationError::Empty => DurationError::Empty,
        other => other,
    })?;
    sum(text, &parts)
}

/// A Gateway API duration (GEP-2257): one to four parts, each a number of
/// at most five digits and a unit.
pub fn parse_gateway(text: &str) -> Result<Duration, DurationError> {
    let not = || DurationError::NotGatewayApi(text.to_string());
    let parts = parts(text).map_err(|_| not())?;
    if parts.is_empty() || parts.len() > 4 || parts.iter().any(|p| p.digits > 5) {
        return Err(not());
    }
    sum(text, &parts)
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
        assert_eq!(parse(" 1h ").unwrap(), Duration::from_secs(3600));
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
        assert_eq!(parse(""), Err(DurationError::Empty));
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

    #[test]
    fn gep_2257_examples() {
        assert_eq!(parse_gateway("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_gateway("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(
            parse_gateway("1h2m3s4ms").unwrap(),
            Duration::from_millis(3_723_004)
        );
        assert_eq!(parse_gateway("0s").unwrap(), Duration::ZERO);
        for bad in ["1.5s", "100000s", "", "1d", " 1s", "1h2m3s4ms5s"] {
            assert_eq!(
                parse_gateway(bad),
                Err(DurationError::NotGatewayApi(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            parse_gateway("1h2m3s4ms5s").unwrap_err().to_string(),
            "`1h2m3s4ms5s` is not a Gateway API duration"
        );
        // Scenarios take what the Gateway API does not.
        assert_eq!(parse("100000s").unwrap(), Duration::from_secs(100_000));
    }
}
