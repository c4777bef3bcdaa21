//! What `gwlab migrate` would write, checked the way `gwlab check` checks a
//! scenario, before anything is written: a route or scenario that gwlab's own
//! check rejects is a bug of the converter, and is reported as one rather
//! than written.

use std::path::Path;

use super::Migration;
use super::output;
use super::scenario::ScenarioOut;
use crate::diag::{Diagnostic, Diagnostics};
use crate::manifest;
use crate::scenario::{self, ManifestFile};

/// The file the routes are checked as (and written to, with `--scenario`).
pub const ROUTES_FILE: &str = "routes.yaml";

/// Checks the routes of `m`, and the scenario `s` with them when given.
pub fn output(m: &Migration, s: Option<&ScenarioOut>) -> Result<(), Diagnostics> {
    let routes = output::to_yaml(&m.all_routes());
    let objects = manifest::parse_text(Path::new(ROUTES_FILE), &routes).map_err(Diagnostics)?;
    let Some(s) = s else {
        return Ok(());
    };
    let text = serde_saphyr::to_string(s).map_err(|e| {
        Diagnostic::new(
            Path::new(scenario::SCENARIO_FILE),
            None,
            format!("cannot be written: {e}"),
        )
    })?;
    let files = vec![ManifestFile {
        name: ROUTES_FILE.into(),
        objects,
    }];
    scenario::from_text(Path::new(""), &text, files).map(|_| ())
}
