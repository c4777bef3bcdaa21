//! Path matching and path rewriting (`ReplaceFullPath`, `ReplacePrefixMatch`).

/// PathPrefix matching, element by element; a trailing `/` in the prefix is ignored.
/// `/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`.
pub(crate) fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Exact matching: case-sensitive, no normalisation (`/abc` does not match `/abc/`).
pub(crate) fn exact_matches(value: &str, path: &str) -> bool {
    value == path
}

/// Replaces the matched prefix of `path`, with the slash rules of the spec's
/// table (httproute_types.go, HTTPPathModifier.ReplacePrefixMatch).
pub(crate) fn replace_prefix(path: &str, matched_prefix: &str, replacement: &str) -> String {
    let prefix = matched_prefix.trim_end_matches('/');
    let rest = path.strip_prefix(prefix).unwrap_or(path);
    let replacement = replacement.trim_end_matches('/');
    let joined = if rest.is_empty() || rest == "/" {
        // `/foo` → `/xyz`; `/foo/` → `/xyz/`; with an empty or `/` replacement, `/`.
        if replacement.is_empty() {
            "/".to_string()
        } else {
            format!("{replacement}{rest}")
        }
    } else {
        format!("{replacement}{rest}")
    };
    if joined.is_empty() {
        "/".into()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_matches_whole_segments() {
        assert!(prefix_matches("/foo", "/foo"));
        assert!(prefix_matches("/foo", "/foo/"));
        assert!(prefix_matches("/foo", "/foo/bar"));
        assert!(!prefix_matches("/foo", "/foobar"));
        assert!(prefix_matches("/foo/", "/foo"));
        assert!(prefix_matches("/foo/", "/foo/bar"));
        assert!(prefix_matches("/", "/anything"));
        assert!(!prefix_matches("/Foo", "/foo"));
    }

    #[test]
    fn exact_is_exact() {
        assert!(exact_matches("/abc", "/abc"));
        assert!(!exact_matches("/abc", "/abc/"));
        assert!(!exact_matches("/abc", "/Abc"));
        assert!(!exact_matches("/abc", "/abcd"));
    }

    /// The table in the spec's HTTPPathModifier.ReplacePrefixMatch documentation.
    #[test]
    fn replace_prefix_follows_the_spec_table() {
        let table = [
            ("/foo/bar", "/foo", "/xyz", "/xyz/bar"),
            ("/foo/bar", "/foo", "/xyz/", "/xyz/bar"),
            ("/foo/bar", "/foo/", "/xyz", "/xyz/bar"),
            ("/foo/bar", "/foo/", "/xyz/", "/xyz/bar"),
            ("/foo", "/foo", "/xyz", "/xyz"),
            ("/foo/", "/foo", "/xyz", "/xyz/"),
            ("/foo/bar", "/foo", "", "/bar"),
            ("/foo/", "/foo", "", "/"),
            ("/foo", "/foo", "", "/"),
            ("/foo/", "/foo", "/", "/"),
            ("/foo", "/foo", "/", "/"),
        ];
        for (path, prefix, replacement, want) in table {
            assert_eq!(
                replace_prefix(path, prefix, replacement),
                want,
                "{path} {prefix} {replacement}"
            );
        }
    }

    #[test]
    fn replace_root_prefix_prepends() {
        assert_eq!(replace_prefix("/a/b", "/", "/v2"), "/v2/a/b");
        assert_eq!(replace_prefix("/", "/", "/v2"), "/v2/");
    }
}
