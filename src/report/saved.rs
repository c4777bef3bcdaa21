//! A JSON report written by `gwlab test --json`, read back for `gwlab report`.
//! It stays a `serde_json::Value`: the renderers read it by field name, so a
//! report from a newer gwlab that added fields still renders.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::json::SCHEMA_VERSION;

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

/// What keeps a JSON document from being a report this gwlab renders.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("its schemaVersion is {0}")]
    Version(u64),
    #[error("it has no schemaVersion")]
    NoVersion,
    #[error("`{0}` is not a string")]
    NotAString(&'static str),
    #[error("`scenarios` is not a list")]
    NoScenarios,
    #[error("scenario {0} lacks a name, a verdict or checks")]
    Scenario(usize),
}

/// Reads `path` and checks that it is a report this gwlab can render.
pub fn load(path: &Path) -> Result<Value, SavedReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| SavedReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let doc: Value = serde_json::from_str(&text).map_err(|source| SavedReportError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    check(&doc).map_err(|why| SavedReportError::NotAReport {
        path: path.to_path_buf(),
        why,
    })?;
    Ok(doc)
}

/// What a renderer relies on: the version, and the run's identity and
/// scenarios with their kinds.
fn check(doc: &Value) -> Result<(), Malformed> {
    match doc.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => return Err(Malformed::Version(v)),
        None => return Err(Malformed::NoVersion),
    }
    for field in ["target", "runId"] {
        if !doc.get(field).is_some_and(Value::is_string) {
            return Err(Malformed::NotAString(field));
        }
    }
    let Some(scenarios) = doc.get("scenarios").and_then(Value::as_array) else {
        return Err(Malformed::NoScenarios);
    };
    for (i, s) in scenarios.iter().enumerate() {
        let named = s.get("name").is_some_and(Value::is_string)
            && s.get("verdict").is_some_and(Value::is_string)
            && s.get("checks").is_some_and(Value::is_array);
        if !named {
            return Err(Malformed::Scenario(i + 1));
        }
    }
    Ok(())
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
        assert_eq!(load(&path).unwrap()["runId"], "abc");
    }
}
