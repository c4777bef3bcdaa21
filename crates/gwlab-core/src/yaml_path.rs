//! The field path (`probes[0].request.headers.X-Debug`) of a position in a
//! YAML document, so that a parser error that knows only its line and column
//! can name the field it is about.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A document as an untyped tree whose every node knows where it starts.
enum Node {
    Map(Vec<(String, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

/// How deep a document may nest for its field paths to be named.
const MAX_DEPTH: usize = 24;

/// A mapping key of any scalar type, as text.
struct Key(String);

/// The path of the node that starts at `line` and `column` (1-based, within
/// `text`), or of the innermost node whose entry contains that line.
pub fn at(text: &str, line: u64, column: u64) -> Option<String> {
    // Each level of this untyped tree costs tens of kilobytes of stack in a
    // debug build: a document nested deeper than any scenario or manifest
    // gets no field path rather than a stack overflow (found by the fuzzer).
    let opts = serde_saphyr::options! {
        with_snippet: false,
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
    };
    let root: Spanned<Node> = serde_saphyr::from_str_with_options(text, opts).ok()?;
    let mut path = String::new();
    find(&root.value, line, column, &mut path).then_some(path)
}

/// Descends into the child that holds the position: the last child starting
/// at or before it. `true` once `path` names a node starting exactly there,
/// or the deepest entry on that line.
fn find(node: &Node, line: u64, column: u64, path: &mut String) -> bool {
    let before = |s: &Spanned<Node>| {
        let (l, c) = (s.referenced.line(), s.referenced.column());
        l < line || (l == line && c <= column)
    };
    let exact = |s: &Spanned<Node>| s.referenced.line() == line && s.referenced.column() == column;
    let (segment, child) = match node {
        Node::Map(entries) => match entries.iter().rev().find(|(_, v)| before(v)) {
            Some((k, v)) => (segment_key(k, path.is_empty()), v),
            None => return false,
        },
        Node::Seq(items) => match items.iter().enumerate().rev().find(|(_, v)| before(v)) {
            Some((i, v)) => (format!("[{i}]"), v),
            None => return false,
        },
        Node::Leaf => return false,
    };
    path.push_str(&segment);
    if exact(child) {
        return true;
    }
    find(&child.value, line, column, path) || child.referenced.line() == line
}

fn segment_key(k: &str, first: bool) -> String {
    if first {
        k.to_string()
    } else {
        format!(".{k}")
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((Key(k), v)) = m.next_entry::<Key, Spanned<Node>>()? {
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = s.next_element::<Spanned<Node>>()? {
            items.push(v);
        }
        Ok(Node::Seq(items))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_str<E>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deeply_nested_document_gets_no_path_and_no_stack_overflow() {
        // The fuzzer's case: 60 levels overflowed a 2 MB thread stack.
        for depth in [20usize, 60, 1000] {
            let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            let found = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || at(&text, 1, depth as u64 + 1))
                .unwrap()
                .join()
                .expect("no stack overflow");
            assert_eq!(found.is_some(), depth <= MAX_DEPTH, "depth {depth}");
        }
    }

    #[test]
    fn names_the_field_at_a_position_in_flow_and_block_style() {
        let text = "probes:\n  - name: a\n    request:\n      url: http://a/\n      headers: {X-Debug: yes}\n";
        assert_eq!(
            at(text, 5, 26).as_deref(),
            Some("probes[0].request.headers.X-Debug")
        );
        assert_eq!(at(text, 4, 12).as_deref(), Some("probes[0].request.url"));
        let block = "a:\n  b:\n    - 1\n    - x: yes\n";
        assert_eq!(at(block, 4, 10).as_deref(), Some("a.b[1].x"));
    }
}
