//! Gateway API durations (GEP-2257): one to four `<number><unit>` parts,
//! units h, m, s, ms, numbers of at most five digits.

use std::time::Duration;

pub fn parse_gateway_duration(text: &str) -> Result<Duration, String> {
    let mut rest = text;
    let mut parts = 0;
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 || digits > 5 {
            return Err(format!("`{text}` is not a Gateway API duration"));
        }
        let n: u64 = rest[..digits].parse().map_err(|_| format!("`{text}`"))?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (Duration::from_millis(n), 2)
        } else if rest.starts_with('h') {
            (Duration::from_secs(n * 3600), 1)
        } else if rest.starts_with('m') {
            (Duration::from_secs(n * 60), 1)
        } else if rest.starts_with('s') {
            (Duration::from_secs(n), 1)
        } else {
            return Err(format!("`{text}` is not a Gateway API duration"));
        };
        total += unit;
        rest = &rest[len..];
        parts += 1;
    }
    if parts == 0 || parts > 4 {
        return Err(format!("`{text}` is not a Gateway API duration"));
    }
    Ok(total)
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
}
