//! `gwlab check`: read every scenario and manifest, report every problem,
//! and note the features a scenario's routes use without declaring them and
//! the listeners of its own Gateways that the lab's Kong would not accept.

use crate::cli::CheckArgs;
use crate::exit;
use crate::features;
use crate::scenario::{self, Scenario};

/// Notes on the extended features the scenario's manifests use and its
/// `features` does not list: on a target without one the scenario fails
/// instead of being reported `unsupported`. Not an error: some scenarios
/// mean to show what a target does without a feature.
fn undeclared(s: &Scenario) -> Vec<String> {
    features::used(s.all_objects())
        .into_iter()
        .filter(|u| !s.features.iter().any(|f| f == u.feature.name()))
        .map(|u| {
            format!(
                "note: {} ({}:{}) uses {}, which `features` does not list; add it so that a target without it reports the scenario unsupported instead of failing it",
                u.object,
                u.file.display(),
                u.line,
                u.feature
            )
        })
        .collect()
}

pub fn run(args: &CheckArgs) -> i32 {
    let dirs = match scenario::find(&args.paths) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let mut bad = 0;
    let mut objects = 0;
    let mut loaded = Vec::new();
    for dir in &dirs {
        match scenario::load(dir) {
            Ok(s) => {
                objects += s.all_objects().count();
                println!("ok   {} ({})", s.name, dir.display());
                for line in undeclared(&s) {
                    println!("     {line}");
                }
                for u in crate::implementations::unserved_listeners(s.all_objects()) {
                    println!("     note: {u}");
                }
                loaded.push(s);
            }
            Err(e) => {
                bad += 1;
                println!("bad  {}", dir.display());
                eprintln!("{e}");
            }
        }
    }
    for d in scenario::duplicate_names(&loaded) {
        bad += 1;
        eprintln!("{d}");
    }
    println!(
        "{} scenarios checked, {bad} with problems, {objects} objects",
        dirs.len()
    );
    if bad > 0 { exit::BAD_INPUT } else { exit::OK }
}
