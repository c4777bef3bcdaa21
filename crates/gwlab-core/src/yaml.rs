//! YAML reading with locations: documents of a stream, each parsed on its own so
//! that every error names the file and the line in that file.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter};

use crate::diag::Diagnostic;

/// One document of a multi-document YAML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    /// 1-based line in the file where the document's text starts.
    pub first_line: u64,
    pub text: &'a str,
}

/// Splits a YAML stream at `---` document markers (and `...` end markers),
/// keeping each document's first line so errors can be reported in file lines.
/// Documents holding only comments or blanks are dropped, as kubectl does.
pub fn split_documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u64;
    let mut offset = 0usize;
    for (line_no, line) in (1u64..).zip(text.split_inclusive('\n')) {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_marker =
            bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t") || bare == "...";
        if is_marker {
            docs.push(Document {
                first_line: start_line,
                text: &text[start..offset],
            });
            // A `--- value` line carries content of the next document.
            if bare.starts_with("--- ") || bare.starts_with("---\t") {
                start = offset + 3;
                start_line = line_no;
            } else {
                start = offset + line.len();
                start_line = line_no + 1;
            }
        }
        offset += line.len();
    }
    docs.push(Document {
        first_line: start_line,
        text: &text[start..],
    });
    docs.retain(|d| !is_blank_document(d.text));
    docs
}

fn is_blank_document(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// Options shared by every typed read: a plain `1`, `yes` or `2.0` given where a
/// string is expected is an error (so a value never changes type silently).
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        no_schema: true,
        with_snippet: false,
        reject_unsupported_tags: true,
        reject_tagged_field_names: true,
    }
}

/// Parses one document into `T`, reporting errors at their line in `file`.
pub fn parse<T: DeserializeOwned>(file: &Path, doc: &Document<'_>) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options::<T>(doc.text, options())
        .map_err(|e| diagnostic(file, doc, &e))
}

/// A parser error as a problem at its line in `file`, naming the field at
/// the error's position where there is one.
fn diagnostic(file: &Path, doc: &Document<'_>, e: &serde_saphyr::Error) -> Diagnostic {
    let loc = e.location();
    // A tab that ends a plain scalar is reported at the scalar, the line
    // before the tab: point at the tab's line instead.
    let tab = loc.and_then(|l| indentation_tab(doc.text, l.line()));
    let line = tab
        .or(loc.map(|l| l.line()))
        .map(|l| l + doc.first_line - 1)
        .or(Some(doc.first_line));
    let (message, mut hint) = explain(e);
    if tab.is_some() {
        hint = Some("indent with spaces: YAML does not allow tabs in indentation".into());
    }
    let field = loc.and_then(|l| crate::yaml_path::at(doc.text, l.line(), l.column()));
    // A status code out of a u16's range: say the range a status has.
    let status = field
        .as_deref()
        .is_some_and(|f| f == "status" || f.ends_with(".status"));
    let (message, hint) = match original(e) {
        serde_saphyr::Error::InvalidScalar { ty: "u16", .. } if status => (
            "not an HTTP status code".to_string(),
            Some("give a status code from 100 to 599".to_string()),
        ),
        _ => (message, hint),
    };
    let mut d = Diagnostic::new(file, line, message);
    if let Some(field) = field {
        d = d.field(field);
    }
    if let Some(h) = hint {
        d = d.hint(h);
    }
    d
}

/// The line (1-based, in `text`) of a tab in the indentation at `line` or
/// the line after it, where a parser error at `line` comes from that tab.
fn indentation_tab(text: &str, line: u64) -> Option<u64> {
    let indented_with_tab = |l: &str| {
        l.chars()
            .take_while(|c| c.is_whitespace())
            .any(|c| c == '\t')
    };
    (line..=line + 1).find(|n| {
        usize::try_from(n - 1)
            .ok()
            .and_then(|i| text.lines().nth(i))
            .is_some_and(indented_with_tab)
    })
}

/// Parses one document into an untyped JSON value (for kinds gwlab does not type).
pub fn parse_value(file: &Path, doc: &Document<'_>) -> Result<serde_json::Value, Diagnostic> {
    // An unknown tag (`!foo bar`) would otherwise be dropped and the value read
    // as if untagged: neither gwlab nor Kubernetes gives such tags a meaning.
    let opts = serde_saphyr::options! {
        with_snippet: false,
        reject_unsupported_tags: true,
    };
    serde_saphyr::from_str_with_options::<serde_json::Value>(doc.text, opts)
        .map_err(|e| diagnostic(file, doc, &e))
}

/// The error under the ones that only add where it happened (a snippet, the
/// aliases it came through).
fn original(mut e: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = e
    {
        e = error;
    }
    e
}

/// Turns a parser error into a message without location noise, plus a hint for
/// the mistakes people make most.
fn explain(e: &serde_saphyr::Error) -> (String, Option<String>) {
    if let serde_saphyr::Error::InvalidScalar { ty, .. } = e.without_snippet()
        && let Some(range) = integer_range(ty)
    {
        return (
            format!("not a whole number from {range}"),
            Some("give a whole number in that range".into()),
        );
    }
    let e = original(e);
    match e {
        serde_saphyr::Error::Unexpected {
            expected: "mapping start",
            ..
        } => {
            return (
                "this field is an object (fields under it), and a single value was given".into(),
                Some("write its fields, e.g. `path: {type: ReplaceFullPath, replaceFullPath: /}`; each field's shape is in docs/scenario-format.md and the Gateway API reference".into()),
            );
        }
        serde_saphyr::Error::Unexpected {
            expected: "sequence start",
            ..
        } => {
            return (
                "this field is a list, and a single value was given".into(),
                Some("write it as a list: `- item` lines, or `[a, b]`".into()),
            );
        }
        serde_saphyr::Error::Budget { .. } => {
            return (
                "the document is too large or too deeply nested to read (a limit that guards against YAML alias bombs)".into(),
                Some("split it, or write it out without anchors and aliases".into()),
            );
        }
        serde_saphyr::Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } if unexpected.starts_with("floating point") && !expected.contains("string") => {
            return (
                format!(
                    "{unexpected} is not a whole number (too large, or with a fraction); expected {expected}"
                ),
                Some("give a whole number that fits the field".into()),
            );
        }
        _ => {}
    }
    // The formatter's message has no location (reported separately); control
    // characters quoted from the input become spaces, so that a message that
    // quotes them cannot move the terminal's cursor or break a line.
    let message: String = DefaultMessageFormatter
        .format_message(e)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let hint = match e {
        serde_saphyr::Error::SerdeUnknownField { .. } => Some("check the spelling; unknown fields are rejected so that a typo never turns an assertion off".to_string()),
        serde_saphyr::Error::SerdeInvalidType { .. } | serde_saphyr::Error::QuotingRequired { .. } => Some("header values, query values and other strings must be quoted when they look like numbers or booleans, e.g. \"1\", \"yes\", \"2.0\"".to_string()),
        _ => None,
    };
    (message, hint)
}

/// The values an integer type holds, for messages ("invalid u16" says
/// little to someone writing a port).
fn integer_range(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "u8" => "0 to 255",
        "u16" => "0 to 65535",
        "u32" => "0 to 4294967295",
        "u64" => "0 to 18446744073709551615",
        "i32" => "-2147483648 to 2147483647",
        "i64" => "-9223372036854775808 to 9223372036854775807",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_keeping_their_first_line() {
        let text = "a: 1\n---\n# only a comment\n---\nb: 2\nc: 3\n...\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].first_line, 1);
        assert_eq!(docs[0].text, "a: 1\n");
        assert_eq!(docs[1].first_line, 5);
        assert_eq!(docs[1].text, "b: 2\nc: 3\n");
    }

    #[test]
    fn leading_marker_does_not_make_an_empty_document() {
        let docs = split_documents("---\nkind: A\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].first_line, 2);
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Shapes {
        #[serde(default)]
        path: Option<std::collections::BTreeMap<String, String>>,
        #[serde(default)]
        list: Option<Vec<String>>,
        #[serde(default)]
        count: Option<u32>,
        #[serde(default)]
        status: Option<u16>,
    }

    #[test]
    fn shapes_and_numbers_are_said_in_the_fields_terms() {
        let err = |text: &str| {
            let docs = split_documents(text);
            let e = parse::<Shapes>(Path::new("x.yaml"), &docs[0]).unwrap_err();
            (e.message, e.hint.unwrap_or_default())
        };
        let (m, h) = err("path: /\n");
        assert_eq!(
            m,
            "this field is an object (fields under it), and a single value was given"
        );
        assert!(h.contains("replaceFullPath"), "{h}");
        assert_eq!(
            err("list: a\n").0,
            "this field is a list, and a single value was given"
        );
        let (m, h) = err("count: 99999999999999999999\n");
        assert!(m.contains("not a whole number"), "{m}");
        assert!(!h.contains("quoted"), "{h}");
        assert_eq!(
            err("status: 99999\n"),
            (
                "not an HTTP status code".into(),
                "give a status code from 100 to 599".into()
            )
        );
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        let docs = split_documents(bomb);
        let e = parse_value(Path::new("x.yaml"), &docs[0]).unwrap_err();
        assert!(
            e.message.contains("too large or too deeply nested"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("Nodes"), "{}", e.message);
    }

    #[test]
    fn errors_are_reported_at_the_file_line() {
        let text = "name: a\n---\nname: b\nnmae: c\n";
        let docs = split_documents(text);
        let err = parse::<T>(Path::new("x.yaml"), &docs[1]).unwrap_err();
        assert_eq!(err.line, Some(4), "{err}");
        assert!(err.message.contains("nmae"), "{err}");
    }

    #[test]
    fn unknown_tags_are_errors_at_their_line() {
        // Found by fuzzing: `namespace: !foo bar` read as `bar`.
        let docs = split_documents("a: 1\nnamespace: !foo bar\n");
        let err = parse_value(Path::new("x.yaml"), &docs[0]).unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("!foo"), "{err}");
        let docs = split_documents("name: !foo bar\n");
        let err = parse::<T>(Path::new("x.yaml"), &docs[0]).unwrap_err();
        assert!(err.message.contains("!foo"), "{err}");
        // The core tags keep their meaning.
        let docs = split_documents("name: !!str 1\n");
        assert_eq!(parse::<T>(Path::new("x.yaml"), &docs[0]).unwrap().name, "1");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Port {
        port: u16,
    }

    #[test]
    fn a_number_out_of_its_type_says_the_range() {
        let docs = split_documents("port: 99999\n");
        let err = parse::<Port>(Path::new("x.yaml"), &docs[0]).unwrap_err();
        assert_eq!(err.message, "not a whole number from 0 to 65535", "{err}");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn a_tab_is_reported_at_its_own_line() {
        let text = "name: a\n---\nname: b\n\tnmae: c\n";
        let docs = split_documents(text);
        let err = parse::<T>(Path::new("x.yaml"), &docs[1]).unwrap_err();
        assert_eq!(err.line, Some(4), "{err}");
        assert!(err.hint.unwrap().contains("indent with spaces"));
    }

    #[test]
    fn unquoted_number_for_a_string_is_an_error() {
        let docs = split_documents("name: 1\n");
        let err = parse::<T>(Path::new("x.yaml"), &docs[0]).unwrap_err();
        assert_eq!(err.line, Some(1));
        assert!(err.hint.unwrap().contains("quoted"));
    }
}
