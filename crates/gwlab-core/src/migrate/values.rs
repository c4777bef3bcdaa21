//! Numbers read from annotations (text) and from plugin configs (JSON),
//! strictly: a value that is not a whole number, or is outside the range the
//! annotation takes, is a problem the converter reports, never a number that
//! wrapped or was cut to fit (`65838` as a u16 is 302).

use std::ops::RangeInclusive;

/// Why a value is not a number the converter can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadNumber {
    #[error("`{0}` is not a whole number")]
    NotANumber(String),
    #[error("{value} is not within {min}-{max}")]
    OutOfRange { value: String, min: u64, max: u64 },
    #[error("{value} is {found}, not a number")]
    WrongType { value: String, found: &'static str },
}

fn out_of_range(value: String, range: &RangeInclusive<u64>) -> BadNumber {
    BadNumber::OutOfRange {
        value,
        min: *range.start(),
        max: *range.end(),
    }
}

fn in_range(n: u64, value: String, range: &RangeInclusive<u64>) -> Result<u64, BadNumber> {
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(out_of_range(value, range))
    }
}

/// An annotation's value as a whole number within `range`.
pub fn annotation(text: &str, range: RangeInclusive<u64>) -> Result<u64, BadNumber> {
    let t = text.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadNumber::NotANumber(t.into()));
    }
    match unsigned.parse::<u64>() {
        // `-1` is a whole number, but below every range here.
        Ok(n) if !t.starts_with('-') => in_range(n, t.into(), &range),
        // Negative, or only digits and so too many of them.
        _ => Err(out_of_range(t.into(), &range)),
    }
}

/// A plugin config's value as a whole number within `range`; a string is a
/// wrong type, as it is for Kong's schema.
pub fn config(value: &serde_json::Value, range: RangeInclusive<u64>) -> Result<u64, BadNumber> {
    use serde_json::Value;
    let shown = value.to_string();
    let found = match value {
        Value::Number(n) => {
            return match n.as_u64() {
                Some(u) => in_range(u, shown, &range),
                // Negative, or a float: `1e20` is out of range, `3.5` not whole.
                None if n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
                    Err(out_of_range(shown, &range))
                }
                None => Err(BadNumber::NotANumber(shown)),
            };
        }
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
        Value::Null => "null",
    };
    Err(BadNumber::WrongType {
        value: shown,
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_are_whole_numbers_within_the_range() {
        assert_eq!(annotation(" 42 ", 0..=100), Ok(42));
        // Found by fuzzing: 42949673 * 100 wrapped to 0 in a u32.
        assert!(matches!(
            annotation("42949673", 0..=100),
            Err(BadNumber::OutOfRange { .. })
        ));
        assert!(matches!(
            annotation("99999999999999999999999", 0..=100),
            Err(BadNumber::OutOfRange { .. })
        ));
        assert!(matches!(
            annotation("-1", 0..=100),
            Err(BadNumber::OutOfRange { .. })
        ));
        assert_eq!(
            annotation("4x", 0..=100),
            Err(BadNumber::NotANumber("4x".into()))
        );
        assert_eq!(
            annotation("", 0..=100),
            Err(BadNumber::NotANumber("".into()))
        );
    }

    #[test]
    fn config_values_must_be_numbers_of_the_range() {
        assert_eq!(config(&json!(308), 100..=599), Ok(308));
        // Found by fuzzing: each of these became 301 or 302 without a word.
        for v in [json!(65838), json!(-1), json!(99999999999999999999.0)] {
            assert!(
                matches!(config(&v, 100..=599), Err(BadNumber::OutOfRange { .. })),
                "{v}"
            );
        }
        assert_eq!(
            config(&json!("308"), 100..=599),
            Err(BadNumber::WrongType {
                value: "\"308\"".into(),
                found: "a string"
            })
        );
        assert!(matches!(
            config(&json!(301.5), 100..=599),
            Err(BadNumber::NotANumber(_))
        ));
    }
}
