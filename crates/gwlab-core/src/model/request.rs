//! The request as the gateway sees it while routing and filtering.

/// Method, host, path, query and headers of one request; headers keep their
/// order and repeated names, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestHead {
    pub method: String,
    /// `http` or `https`: the protocol of the listener the request came in on.
    pub scheme: String,
    /// The Host header as received (may carry a port).
    pub host: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The values of a header (case-insensitive name), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter; only the first is considered, as
    /// the spec recommends for repeated parameters.
    pub fn query_value(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }

    /// Every value of a query parameter, decoded, in order.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        let Some(q) = self.query.as_deref() else {
            return Vec::new();
        };
        q.split('&')
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k) == name).then(|| percent_decode(v))
            })
            .collect()
    }

    /// The request a client sends for `url` (http or https with a host): the
    /// Host header first (with the URL's port when it names one), then `headers`.
    pub fn for_url(method: &str, url: &url::Url, headers: Vec<(String, String)>) -> RequestHead {
        let host = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let mut all = vec![("host".to_string(), host.clone())];
        all.extend(headers);
        RequestHead {
            method: method.to_ascii_uppercase(),
            scheme: url.scheme().into(),
            host,
            path: url.path().into(),
            query: url.query().map(String::from),
            headers: all,
        }
    }

    /// Path and query as a request target.
    pub fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Header operations of RequestHeaderModifier / ResponseHeaderModifier on an
/// ordered header list: `set` replaces every value, `add` appends a value,
/// `remove` drops the header. Applied in the order set, add, remove.
pub fn modify_headers(
    headers: &mut Vec<(String, String)>,
    set: &[(String, String)],
    add: &[(String, String)],
    remove: &[String],
) {
    for (name, value) in set {
        if let Some(pos) = headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.insert(pos.min(headers.len()), (name.clone(), value.clone()));
        } else {
            headers.push((name.clone(), value.clone()));
        }
    }
    for (name, value) in add {
        headers.push((name.clone(), value.clone()));
    }
    for name in remove {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn set_replaces_add_appends_remove_drops() {
        let mut headers = h(&[("X-A", "1"), ("x-a", "2"), ("X-B", "b"), ("X-C", "c")]);
        modify_headers(
            &mut headers,
            &h(&[("x-a", "set"), ("X-New", "n")]),
            &h(&[("X-B", "b2")]),
            &["X-C".to_string()],
        );
        assert_eq!(
            headers,
            h(&[("x-a", "set"), ("X-B", "b"), ("X-New", "n"), ("X-B", "b2")])
        );
    }

    #[test]
    fn query_values_are_decoded_and_first_wins() {
        let r = RequestHead {
            method: "GET".into(),
            scheme: "http".into(),
            host: "a".into(),
            path: "/".into(),
            query: Some("a=1&b=x%20y&a=2&c".into()),
            headers: vec![],
        };
        assert_eq!(r.query_value("a").as_deref(), Some("1"));
        assert_eq!(r.query_value("b").as_deref(), Some("x y"));
        assert_eq!(r.query_value("c").as_deref(), Some(""));
        assert_eq!(r.query_value("d"), None);
    }
}
