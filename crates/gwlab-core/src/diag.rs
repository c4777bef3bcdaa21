//! Problems in user input, each pinned to a file and (where known) a line.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// The most characters of a message or field kept from each end when it is
/// cut: a value of input echoed in a message (a 1 MB header, say) must not
/// bury the message.
const KEEP: usize = 150;

/// `text`, with its middle left out when it is longer than twice [`KEEP`]
/// characters; the cut is said where it is.
pub(crate) fn clip(text: &str) -> Cow<'_, str> {
    let chars = text.chars().count();
    if chars <= 2 * KEEP + 40 {
        return Cow::Borrowed(text);
    }
    let head: String = text.chars().take(KEEP).collect();
    let tail: String = text.chars().skip(chars - KEEP).collect();
    Cow::Owned(format!(
        "{head}[… {} characters left out …]{tail}",
        chars - 2 * KEEP
    ))
}

/// One problem found in a scenario or manifest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: Option<u64>,
    /// The field the problem is about, as a dotted path where known.
    pub field: Option<String>,
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            field: None,
            message: clip_words(&message.into()),
            hint: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(clip(&field.into()).into_owned());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Bad input: one or more diagnostics. Maps to exit code 2.
#[derive(Debug, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// `text` with every word (a run without whitespace) longer than twice
/// [`KEEP`] characters cut in its middle: a sentence of gwlab's stays whole,
/// a long value of input echoed in it does not bury it.
pub fn clip_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(&clip(word));
        word.clear();
    };
    for c in text.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `1 scenario`, `2 scenarios`: a count with its noun (made plural with `s`).
pub fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The first `shown` of `items` joined by `, `, and how many more there are:
/// a directory of a thousand files is named by a few of them.
pub fn listed(items: &[String], shown: usize) -> String {
    match items.len().checked_sub(shown) {
        Some(rest) if rest > 0 => format!("{}, and {rest} more", items[..shown].join(", ")),
        _ => items.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_names_its_first_items_and_counts_the_rest() {
        let items: Vec<String> = (1..=7).map(|i| format!("f{i}")).collect();
        assert_eq!(listed(&items, 5), "f1, f2, f3, f4, f5, and 2 more");
        assert_eq!(listed(&items[..5], 5), "f1, f2, f3, f4, f5");
        assert_eq!(listed(&[], 5), "");
    }

    #[test]
    fn long_values_are_cut_in_the_middle_saying_so() {
        // Found by fuzzing: messages echoed 1 MB values in full.
        let value = format!("start{}end", "x".repeat(1_000_000));
        let d = Diagnostic::new(
            Path::new("a.yaml"),
            Some(3),
            format!("`{value}` is not a path"),
        )
        .field(format!("spec.{value}"));
        assert!(d.message.starts_with("`startxx"), "{}", d.message);
        assert!(d.message.ends_with("xxend` is not a path"), "{}", d.message);
        assert!(
            d.message.contains("[… 999710 characters left out …]"),
            "{}",
            d.message
        );
        assert!(d.to_string().len() < 1000, "{d}");
        assert_eq!(clip("short"), "short");
        let long = "x".repeat(1000);
        let sentence = format!(
            "{} redirects to exactly {long}, without the request's path and query; the route keeps the query",
            "a ".repeat(200)
        );
        let clipped = clip_words(&sentence);
        assert!(
            clipped.ends_with(", without the request's path and query; the route keeps the query")
        );
        assert!(clipped.starts_with(&"a ".repeat(200)));
        assert!(
            clipped.len() < 900 && clipped.contains("characters left out"),
            "{}",
            clipped.len()
        );
        assert_eq!(counted(1, "scenario"), "1 scenario");
        assert_eq!(counted(3, "scenario"), "3 scenarios");
    }
}
