//! The request path as Kong's router sees it and forwards it. Kong matches
//! routes against the *normalised* path and builds the upstream path from it
//! (Kong/kong@3.9.3 `kong/router/utils.lua` `strip_uri_args` calls
//! `normalize(req_uri, true)` of `kong/tools/uri.lua`; the same file's
//! `escape` makes the forwarded path safe again). Written here from that
//! description:
//!
//! - `%XX` of a character that is not reserved is decoded; a reserved one
//!   (`!*'();:@&=+$,/?%#[]`) stays encoded, its hex digits upper-cased;
//! - `.` and `..` segments are resolved (`..` never climbs above the root);
//! - runs of `/` become one.
//!
//! Kong 3.8.x and 3.9.x carry the same `kong/tools/uri.lua` and
//! `kong/router/utils.lua`.

const RESERVED: &[u8] = b"!*'();:@&=+$,/?%#[]";

/// Decodes percent-encoded triplets of characters outside [`RESERVED`];
/// triplets of reserved characters are kept, with upper-case hex digits.
fn decode_unreserved(path: &str) -> Vec<u8> {
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(c) if !RESERVED.contains(&c) => {
                out.push(c);
                i += 3;
            }
            Some(_) => {
                out.push(b'%');
                out.extend(b[i + 1..i + 3].iter().map(u8::to_ascii_uppercase));
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// Resolves `.`/`..` segments and merges slashes, the way Kong's
/// `normalize` walks the path: each step either drops a dot segment or a
/// slash, or moves one segment (with its leading `/`) to the output.
fn remove_dot_segments(mut rest: &[u8]) -> Vec<u8> {
    let mut segments: Vec<&[u8]> = Vec::new();
    while !rest.is_empty() {
        if rest == b"/." {
            rest = b"/";
        } else if rest == b"/.." {
            rest = b"/";
            segments.pop();
        } else if rest == b"." || rest == b".." {
            rest = b"";
        } else if rest.starts_with(b"../") {
            rest = &rest[3..];
        } else if rest.starts_with(b"./") || rest.starts_with(b"/./") {
            rest = &rest[2..];
        } else if rest.starts_with(b"/../") {
            rest = &rest[3..];
            segments.pop();
        } else if rest.starts_with(b"//") {
            rest = &rest[1..];
        } else {
            let end = rest[1..]
                .iter()
                .position(|c| *c == b'/')
                .map_or(rest.len(), |i| i + 1);
            segments.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    segments.concat()
}

/// The path Kong routes by.
pub fn normalize(path: &str) -> String {
    if path.is_empty() || path == "/" {
        return path.to_string();
    }
    let decoded = decode_unreserved(path);
    let walked = if decoded.contains(&b'.') || decoded.windows(2).any(|w| w == b"//") {
        remove_dot_segments(&decoded)
    } else {
        decoded
    };
    String::from_utf8_lossy(&walked).into_owned()
}

/// The path Kong forwards: the normalised one, with every character that is
/// not safe in a request line percent-encoded again.
pub fn escape(path: &str) -> String {
    let safe = |c: u8| c.is_ascii_alphanumeric() || b"!#$&'()*+,/:;=?@[]-_.~%".contains(&c);
    let mut out = String::with_capacity(path.len());
    for c in path.bytes() {
        if safe(c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_are_decoded_and_reserved_ones_kept() {
        assert_eq!(normalize("/%7Euser/%61"), "/~user/a");
        assert_eq!(normalize("/a%2fb"), "/a%2Fb");
        assert_eq!(normalize("/a%3Bb"), "/a%3Bb");
        assert_eq!(normalize("/100%"), "/100%");
        assert_eq!(normalize("/a%zz"), "/a%zz");
        assert_eq!(normalize("/a%20b"), "/a b");
        assert_eq!(escape("/a b/~user"), "/a%20b/~user");
    }

    #[test]
    fn dot_segments_resolve_and_slashes_merge() {
        assert_eq!(normalize("//foo"), "/foo");
        assert_eq!(normalize("/a//b///c/"), "/a/b/c/");
        assert_eq!(normalize("/a/./b"), "/a/b");
        assert_eq!(normalize("/a/b/../c"), "/a/c");
        assert_eq!(normalize("/../../a"), "/a");
        assert_eq!(normalize("/a/.."), "/");
        assert_eq!(normalize("/a/."), "/a/");
        assert_eq!(normalize("/a/%2e%2e/b"), "/b");
        assert_eq!(normalize("/a.b/c"), "/a.b/c");
        assert_eq!(normalize("/"), "/");
        assert_eq!(normalize("/docs"), "/docs");
    }
}
