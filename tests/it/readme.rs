//! The documentation as a user meets it: the README's example scenarios run
//! as written (copied out of README.md itself), and every relative link of
//! the README and of docs/ leads to a file of the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::bin::{gwlab, text};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The README's YAML blocks that start with a `# DIR/FILE.yaml` comment,
/// grouped by DIR: each group is a scenario directory as the README shows it.
fn example_scenarios(readme: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut lines = readme.lines();
    while let Some(l) = lines.next() {
        if l.trim() != "```yaml" {
            continue;
        }
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let Some(path) = block.first().and_then(|l| l.strip_prefix("# ")) else {
            continue;
        };
        let Some((dir, file)) = path.trim().rsplit_once('/') else {
            continue;
        };
        if file.ends_with(".yaml") {
            out.entry(dir.to_string())
                .or_default()
                .push((file.to_string(), block.join("\n") + "\n"));
        }
    }
    out
}

#[test]
fn the_readme_example_scenarios_pass_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let examples = example_scenarios(&readme);
    assert!(
        examples
            .values()
            .any(|files| files.iter().any(|(f, _)| f == "scenario.yaml")),
        "the README shows a scenario: {examples:?}"
    );
    for (dir, files) in &examples {
        let tmp = tempfile::tempdir().unwrap();
        for (file, body) in files {
            std::fs::write(tmp.path().join(file), body).unwrap();
        }
        let o = gwlab(&["test", tmp.path().to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "the README's {dir}:\n{}",
            text(&o)
        );
    }
}

/// Relative link targets of a Markdown text: `](target)`, without anchors.
fn links(markdown: &str) -> Vec<String> {
    markdown
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(t, _)| t.to_string()))
        .filter(|t| !t.starts_with("http://") && !t.starts_with("https://") && !t.starts_with('#'))
        .map(|t| t.split('#').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_relative_link_of_the_docs_leads_to_a_file_of_the_repository() {
    let mut pages: Vec<PathBuf> = vec![root().join("README.md")];
    pages.extend(
        std::fs::read_dir(root().join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        assert!(
            !text.contains("SCENARIO_FORMAT"),
            "{} points at a file outside the repository",
            page.display()
        );
        for target in links(&text) {
            let path = page.parent().unwrap().join(&target);
            assert!(
                path.exists(),
                "{}: link to {target} leads nowhere",
                page.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 8,
        "the README and docs/ link to each other ({checked} links)"
    );
}

/// The README's sample of `gwlab test scenarios/` starts as the real run
/// does (the run's id aside).
#[test]
fn the_readme_sample_run_starts_as_a_real_run() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let sample = readme
        .lines()
        .skip_while(|l| *l != "$ gwlab test scenarios/")
        .nth(1)
        .expect("the README shows a run of gwlab test scenarios/");
    let o = gwlab(&["test", "scenarios/"]);
    let real = text(&o);
    let first = real.lines().next().unwrap();
    let without_run = |l: &str| {
        let (head, tail) = l.split_once(", run ").unwrap();
        let (_, rest) = tail.split_once(", ").unwrap();
        format!("{head}, run ID, {rest}")
    };
    assert_eq!(without_run(sample), without_run(first));
}
