//! Checks across the scenarios of one run: what no single scenario can see.

use std::collections::BTreeMap;

use super::Scenario;
use crate::diag::Diagnostic;

/// Scenarios that share a name: reports (JUnit suites, JSON, annotations)
/// tell scenarios apart by name, so two of one name would be two identical
/// suites. One problem per repeat, naming both directories.
pub fn duplicate_names(scenarios: &[Scenario]) -> Vec<Diagnostic> {
    let mut first: BTreeMap<&str, &Scenario> = BTreeMap::new();
    let mut problems = Vec::new();
    for s in scenarios {
        match first.get(s.name.as_str()) {
            None => {
                first.insert(&s.name, s);
            }
            Some(earlier) => problems.push(
                Diagnostic::new(
                    &s.file,
                    None,
                    format!(
                        "two scenarios are named `{}`: {} and {}",
                        s.name,
                        earlier.dir.display(),
                        s.dir.display()
                    ),
                )
                .field("name")
                .hint("give one of them another `name:` (without one, a scenario is named after its directory); reports tell scenarios apart by name"),
            ),
        }
    }
    problems
}
