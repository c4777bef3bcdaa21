//! The run as JSON (`--json FILE`): the same data as the JUnit report, with the
//! details (last response, split counts) that XML has no place for.

use super::RunReport;

pub fn render(report: &RunReport) -> String {
    serde_json::to_string_pretty(report).expect("reports serialise")
}
