//! A line diff between a student's file and the solution's, for
//! `gwlab lab solution`: the changed lines with two lines of context.

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    Same(&'a str),
    /// Only in the student's file.
    Removed(&'a str),
    /// Only in the solution.
    Added(&'a str),
}

/// The lines of `old` and `new` aligned by a longest common subsequence
/// (files here are a few dozen lines, so the quadratic table is cheap).
pub fn lines<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: the common subsequence length of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(Line::Same(a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            // On a tie the student's line goes first, as diffs show it.
            out.push(Line::Removed(a[i]));
            i += 1;
        } else {
            out.push(Line::Added(b[j]));
            j += 1;
        }
    }
    out
}

/// The diff as text: `-` lines are the student's, `+` the solution's, with
/// `CONTEXT` unchanged lines around each change and `...` between far ones.
/// Empty when the texts are the same line for line.
pub(crate) fn render(old: &str, new: &str) -> Vec<String> {
    const CONTEXT: usize = 2;
    let diff = lines(old, new);
    let changed: Vec<usize> = (0..diff.len())
        .filter(|&k| !matches!(diff[k], Line::Same(_)))
        .collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = Vec::new();
    let mut skipped = false;
    for (k, l) in diff.iter().enumerate() {
        if !near(k) {
            skipped = true;
            continue;
        }
        if skipped && !out.is_empty() {
            out.push("...".to_string());
        }
        skipped = false;
        out.push(match l {
            Line::Same(s) => format!("  {s}"),
            Line::Removed(s) => format!("- {s}"),
            Line::Added(s) => format!("+ {s}"),
        });
    }
    out
}

/// Whether two YAML texts hold the same documents once parsed: a file
/// written in flow style (`{name: a}`), with other quoting or comments, is
/// the solution all the same. `false` when either does not parse.
pub(crate) fn same_yaml(old: &str, new: &str) -> bool {
    fn parsed(text: &str) -> Option<Vec<serde_json::Value>> {
        let file = std::path::Path::new("");
        gwlab_core::yaml::split_documents(text)
            .iter()
            .map(|d| gwlab_core::yaml::parse::<serde_json::Value>(file, d).ok())
            .collect()
    }
    matches!((parsed(old), parsed(new)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_as_removed_then_added_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\n";
        assert_eq!(
            render(old, new),
            vec!["  b", "  c", "- d", "+ D", "  e", "  f"]
        );
    }

    #[test]
    fn far_apart_changes_are_separated_and_same_texts_give_nothing() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "0\n1\n2\n3\n4\n5\n6\n7\n8\n";
        let r = render(old, new);
        assert_eq!(r.first().map(String::as_str), Some("+ 0"));
        assert!(r.contains(&"...".to_string()));
        assert_eq!(r.last().map(String::as_str), Some("- 9"));
        assert!(render(old, old).is_empty());
    }

    #[test]
    fn flow_and_block_style_of_the_same_yaml_are_the_same() {
        let block = "kind: HTTPRoute\nspec:\n  parentRefs:\n    - name: kong\n      namespace: kong-system\n";
        let flow = "kind: HTTPRoute # the route\nspec:\n  parentRefs:\n    - {name: kong, namespace: \"kong-system\"}\n";
        assert!(same_yaml(block, flow));
        assert!(!same_yaml(block, &flow.replace("kong-system", "default")));
        assert!(
            !same_yaml(block, "kind: [\n"),
            "what does not parse is not the same"
        );
    }
}
