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
            message: clip(&message.into()).into_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
            d.message.contains("[… 999724 characters left out …]"),
            "{}",
            d.message
        );
        assert!(d.to_string().len() < 1000, "{d}");
        assert_eq!(clip("short"), "short");
    }
}
