//! A JSON report written by `gwlab test --json`, read back for `gwlab report`
//! as the typed [`RunReport`] it was written from. Fields a newer gwlab adds
//! are ignored; fields this one added after schemaVersion 2 began have
//! defaults, so an older report of that version still reads.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::json::SCHEMA_VERSION;
use super::{RunReport, ScenarioReport};

#[derive(Debug, thiserror::Error)]
pub enum SavedReportError {
    #[error("error: cannot read the report {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("error: {} is not JSON: {source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("error: {} is not a gwlab report of schemaVersion {SCHEMA_VERSION} ({why}); write one with `gwlab test --json FILE`", path.display())]
    NotAReport {
        path: PathBuf,
        #[source]
        why: Malformed,
    },
}

/// What keeps a JSON document from being a report this gwlab reads.
#[derive(Debug, thiserror::Error)]
pub enum Malformed {
    #[error("its schemaVersion is {0}")]
    Version(u64),
    #[error("it has no schemaVersion")]
    NoVersion,
    #[error(
        "scenario {index} lacks a field this gwlab reads, or has one of another type: {source}"
    )]
    Scenario {
        index: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Shape(#[source] serde_json::Error),
}

/// Reads `path` as a report this gwlab can render.
pub fn load(path: &Path) -> Result<RunReport, SavedReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| SavedReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let doc: Value = serde_json::from_str(&text).map_err(|source| SavedReportError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    read(doc).map_err(|why| SavedReportError::NotAReport {
        path: path.to_path_buf(),
        why,
    })
}

/// The version first (a report of another layout is refused as such, not
/// for its first unexpected field), then the whole, naming the first
/// scenario that does not read.
fn read(doc: Value) -> Result<RunReport, Malformed> {
    match doc.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => return Err(Malformed::Version(v)),
        None => return Err(Malformed::NoVersion),
    }
    // `schemaVersion`, checked above, is a field the report itself has not.
    RunReport::deserialize(&doc).map_err(|source| {
        let scenarios = doc.get("scenarios").and_then(Value::as_array);
        let unreadable = scenarios
            .into_iter()
            .flatten()
            .enumerate()
            .find_map(|(i, s)| {
                ScenarioReport::deserialize(s)
                    .err()
                    .map(|source| Malformed::Scenario {
                        index: i + 1,
                        source,
                    })
            });
        unreadable.unwrap_or(Malformed::Shape(source))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_report_of_another_version_or_shape_is_refused_naming_the_file() {
        for (text, why) in [
            ("{\"schemaVersion\": 1}", "its schemaVersion is 1"),
            ("{\"a\": 1}", "it has no schemaVersion"),
            (
                "{\"schemaVersion\": 2, \"target\": \"embedded\", \"runId\": \"x\", \"scenarios\": [{}]}",
                "scenario 1 lacks",
            ),
        ] {
            let (_dir, path) = written(text);
            let e = load(&path).unwrap_err().to_string();
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(e.contains(why), "{e}");
        }
        let (_dir, path) = written("not json");
        assert!(matches!(load(&path), Err(SavedReportError::Parse { .. })));
    }

    #[test]
    fn a_scenario_that_does_not_read_is_named_with_the_field() {
        let run = crate::report::test_support::run_of(
            "embedded",
            vec![crate::report::test_support::scenario_of(vec![])],
        );
        let mut doc: Value = serde_json::from_str(&crate::report::json::render(&run)).unwrap();
        doc["scenarios"][0]["routeMap"] = serde_json::json!({"gateways": "not a list"});
        let (_dir, path) = written(&doc.to_string());
        let e = load(&path).unwrap_err().to_string();
        assert!(
            e.contains("scenario 1 lacks a field this gwlab reads, or has one of another type"),
            "{e}"
        );
        assert!(e.contains("\"not a list\""), "{e}");
        assert!(e.contains("write one with `gwlab test --json FILE`"), "{e}");
    }

    #[test]
    fn a_report_gwlab_wrote_loads() {
        let run = crate::report::RunReport {
            target: "embedded".into(),
            implementation: "spec".into(),
            run_id: "abc".into(),
            scenarios: vec![crate::report::test_support::scenario_of(vec![])],
            duration: std::time::Duration::ZERO,
            require_features: false,
            interrupted: false,
            still_deleting: vec![],
            namespaces_finishing: Vec::new(),
            portability: None,
        };
        let (_dir, path) = written(&crate::report::json::render(&run));
        let back = load(&path).unwrap();
        assert_eq!(back.run_id, "abc");
        // Read back, it writes the same JSON again.
        assert_eq!(
            crate::report::json::render(&back),
            crate::report::json::render(&run)
        );
    }
}
