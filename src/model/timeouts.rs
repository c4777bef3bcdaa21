//! Gateway API durations (GEP-2257): one to four `<number><unit>` parts,
//! units h, m, s, ms, numbers of at most five digits.

use std::time::Duration;

/// Why a text is not a Gateway API duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("`{0}` is not a Gateway API duration")]
    Invalid(String),
    #[error("`{text}`")]
    Number {
        text: String,
        #[source]
        source: std::num::ParseIntError,
    },
}

pub fn parse_gateway_duration(text: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(text.to_string());
    let mut rest = text;
    let mut parts = 0;
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 || digits > 5 {
            return Err(invalid());
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|source| DurationError::Number {
                text: text.to_string(),
                source,
            })?;
        rest = &rest[digits..];
        let (unit, len) = unit(rest, n).ok_or_else(invalid)?;
        total += unit;
        rest = &rest[len..];
        parts += 1;
    }
    if parts == 0 || parts > 4 {
        return Err(invalid());
    }
    Ok(total)
}

/// `n` of the unit `rest` starts with, and the unit's length.
fn unit(rest: &str, n: u64) -> Option<(Duration, usize)> {
    if rest.starts_with("ms") {
        Some((Duration::from_millis(n), 2))
    } else if rest.starts_with('h') {
        Some((Duration::from_secs(n * 3600), 1))
    } else if rest.starts_with('m') {
        Some((Duration::from_secs(n * 60), 1))
    } else if rest.starts_with('s') {
        Some((Duration::from_secs(n), 1))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gep_2257_examples() {
        assert_eq!(
            parse_gateway_duration("1h").unwrap(),
            Duration::from_secs(3600)
        );
        assert_eq!(
            parse_gateway_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_gateway_duration("1h2m3s4ms").unwrap(),
            Duration::from_millis(3_723_004)
        );
        assert_eq!(parse_gateway_duration("0s").unwrap(), Duration::ZERO);
        assert!(parse_gateway_duration("1.5s").is_err());
        assert!(parse_gateway_duration("100000s").is_err());
        assert!(parse_gateway_duration("").is_err());
        assert!(parse_gateway_duration("1d").is_err());
    }

    #[test]
    fn errors_name_the_text() {
        assert_eq!(
            parse_gateway_duration("1h2m3s4ms5s")
                .unwrap_err()
                .to_string(),
            "`1h2m3s4ms5s` is not a Gateway API duration"
        );
        assert_eq!(
            parse_gateway_duration("5x"),
            Err(DurationError::Invalid("5x".into()))
        );
    }
}
