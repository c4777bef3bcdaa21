//! The run as JSON (`--json FILE`): the same data as the JUnit report, with the
//! details (last response, split counts) that XML has no place for. Its layout
//! is documented in `docs/reports.md`; names are camelCase, durations are
//! numbers of seconds named `...Seconds`.

use serde::Serialize;

use super::RunReport;

/// The version of the report's layout (`schemaVersion`): raised when a field
/// changes meaning or is removed, kept when fields are added. Version 1 was
/// the unversioned layout before it (snake_case details, `duration`).
pub(crate) const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Versioned<'a> {
    schema_version: u32,
    #[serde(flatten)]
    report: &'a RunReport,
}

pub(crate) fn render(report: &RunReport) -> String {
    let doc = Versioned {
        schema_version: SCHEMA_VERSION,
        report,
    };
    serde_json::to_string_pretty(&doc).expect("reports serialise")
}
