//! Hostnames as Gateway API defines them: exact names and `*.` wildcards, their
//! matching, the listener/route intersection, and specificity for precedence.

/// Why a hostname is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostnameError {
    #[error("must be 1 to 253 characters")]
    Length,
    #[error("a wildcard must be the whole first label, as in `*.example.com`")]
    Wildcard,
    #[error("IP addresses are not allowed")]
    IpAddress,
    #[error(
        "label `{0}` must be lower-case letters, digits and `-`, not starting or ending with `-`"
    )]
    Label(String),
}

/// Checks a hostname the way the CRDs do: RFC 1123 labels, an optional leading
/// `*.` label, no IP address, lower case.
pub(crate) fn validate(h: &str) -> Result<(), HostnameError> {
    if h.is_empty() || h.len() > 253 {
        return Err(HostnameError::Length);
    }
    let body = h.strip_prefix("*.").unwrap_or(h);
    if body.contains('*') {
        return Err(HostnameError::Wildcard);
    }
    if body.parse::<std::net::Ipv4Addr>().is_ok() || h.contains(':') {
        return Err(HostnameError::IpAddress);
    }
    match body.split('.').find(|label| !valid_label(label)) {
        Some(label) => Err(HostnameError::Label(label.to_string())),
        None => Ok(()),
    }
}

/// The ASCII (IDNA, punycode) form of a hostname written with non-ASCII
/// letters, as browsers send it: `bücher.example` is `xn--bcher-kva.example`.
/// `None` for an ASCII hostname or one IDNA cannot map.
pub(crate) fn ascii_form(h: &str) -> Option<String> {
    if h.is_ascii() {
        return None;
    }
    let wildcard = h.strip_prefix("*.");
    let host = url::Host::parse(wildcard.unwrap_or(h)).ok()?;
    match host {
        url::Host::Domain(d) if d.is_ascii() => Some(match wildcard {
            Some(_) => format!("*.{d}"),
            None => d,
        }),
        _ => None,
    }
}

/// An RFC 1123 label, lower case.
fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

pub(crate) fn is_wildcard(h: &str) -> bool {
    h.starts_with("*.")
}

/// Whether a request host (no port, any case) matches a hostname pattern.
/// `*.example.com` matches `a.example.com` and `a.b.example.com`, not `example.com`.
pub fn matches(pattern: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    match pattern.strip_prefix('*') {
        Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
        None => pattern == host,
    }
}

/// The hostname a route hostname and a listener hostname have in common, or
/// `None` when they have nothing in common. The more specific one is returned:
/// listener `*.example.com` with route `foo.example.com` gives `foo.example.com`.
pub fn intersect(listener: Option<&str>, route: &str) -> Option<String> {
    let Some(listener) = listener else {
        return Some(route.to_string());
    };
    match (is_wildcard(listener), is_wildcard(route)) {
        (false, false) => (listener == route).then(|| route.to_string()),
        (true, false) => matches(listener, route).then(|| route.to_string()),
        (false, true) => matches(route, listener).then(|| listener.to_string()),
        (true, true) => {
            if listener == route || matches(listener, &route[2..]) {
                Some(route.to_string())
            } else if matches(route, &listener[2..]) {
                Some(listener.to_string())
            } else {
                None
            }
        }
    }
}

/// Precedence of a matching hostname: exact names beat wildcards, then more
/// characters beat fewer ("characters in a matching non-wildcard hostname,
/// then characters in a matching hostname"). `None` (no hostname) is lowest.
pub(crate) fn specificity(h: Option<&str>) -> (usize, usize) {
    match h {
        None => (0, 0),
        Some(h) if is_wildcard(h) => (0, h.len()),
        Some(h) => (h.len(), h.len()),
    }
}

/// The host part of a `Host` header, lower-cased, without port.
pub(crate) fn host_without_port(host: &str) -> String {
    let h = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|s| format!("{s}]"))
            .unwrap_or_default()
    } else {
        host.rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map(|(h, _)| h.to_string())
            .unwrap_or_else(|| host.to_string())
    };
    h.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_ascii_hostname_has_an_ascii_form() {
        assert_eq!(
            ascii_form("bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(
            ascii_form("*.Bücher.example").as_deref(),
            Some("*.xn--bcher-kva.example")
        );
        assert_eq!(ascii_form("books.example"), None);
    }

    #[test]
    fn wildcard_matches_one_or_more_labels_but_not_the_bare_domain() {
        assert!(matches("*.example.com", "foo.example.com"));
        assert!(matches("*.example.com", "foo.bar.example.com"));
        assert!(!matches("*.example.com", "example.com"));
        assert!(!matches("*.example.com", "fooexample.com"));
        assert!(matches("example.com", "EXAMPLE.com"));
        assert!(!matches("example.com", "foo.example.com"));
    }

    #[test]
    fn intersection_follows_the_spec_examples() {
        // Listener test.example.com: routes with test.example.com or *.example.com.
        assert_eq!(
            intersect(Some("test.example.com"), "test.example.com").as_deref(),
            Some("test.example.com")
        );
        assert_eq!(
            intersect(Some("test.example.com"), "*.example.com").as_deref(),
            Some("test.example.com")
        );
        // Listener *.example.com: *.example.com, test.example.com, foo.test.example.com.
        assert_eq!(
            intersect(Some("*.example.com"), "*.example.com").as_deref(),
            Some("*.example.com")
        );
        assert_eq!(
            intersect(Some("*.example.com"), "test.example.com").as_deref(),
            Some("test.example.com")
        );
        assert_eq!(
            intersect(Some("*.example.com"), "foo.test.example.com").as_deref(),
            Some("foo.test.example.com")
        );
        // ...but not example.com nor test.example.net.
        assert_eq!(intersect(Some("*.example.com"), "example.com"), None);
        assert_eq!(intersect(Some("*.example.com"), "test.example.net"), None);
        // Wildcards on both sides: the narrower one.
        assert_eq!(
            intersect(Some("*.example.com"), "*.foo.example.com").as_deref(),
            Some("*.foo.example.com")
        );
        assert_eq!(
            intersect(Some("*.foo.example.com"), "*.example.com").as_deref(),
            Some("*.foo.example.com")
        );
        assert_eq!(
            intersect(None, "a.example.com").as_deref(),
            Some("a.example.com")
        );
    }

    #[test]
    fn exact_beats_wildcard_and_longer_beats_shorter() {
        assert!(specificity(Some("a.example.com")) > specificity(Some("*.example.com")));
        assert!(specificity(Some("*.a.example.com")) > specificity(Some("*.example.com")));
        assert!(specificity(Some("*.example.com")) > specificity(None));
        assert!(specificity(Some("b.co")) > specificity(Some("*.very-long-name.example.com")));
    }

    #[test]
    fn validation_rejects_what_the_crd_rejects() {
        assert!(validate("imprun.dev").is_ok());
        assert!(validate("*.example.com").is_ok());
        assert!(validate("foo.*.com").is_err());
        assert!(validate("10.0.0.1").is_err());
        assert!(validate("Example.com").is_err());
        assert!(validate("-a.com").is_err());
    }

    #[test]
    fn validation_errors_say_what_is_wrong() {
        let text = |h: &str| validate(h).unwrap_err().to_string();
        assert_eq!(text(""), "must be 1 to 253 characters");
        assert_eq!(validate(&"a".repeat(254)), Err(HostnameError::Length));
        assert_eq!(
            text("a.*.com"),
            "a wildcard must be the whole first label, as in `*.example.com`"
        );
        assert_eq!(text("10.0.0.1"), "IP addresses are not allowed");
        assert_eq!(text("::1"), "IP addresses are not allowed");
        assert_eq!(
            text("ok.Bad-.com"),
            "label `Bad-` must be lower-case letters, digits and `-`, not starting or ending with `-`"
        );
        assert_eq!(validate("a..b"), Err(HostnameError::Label(String::new())));
    }

    #[test]
    fn host_header_port_is_ignored() {
        assert_eq!(host_without_port("Example.com:8080"), "example.com");
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
    }
}
