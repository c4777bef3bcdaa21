//! `gwlab check`: read every scenario and manifest, report every problem,
//! and note the features a scenario's routes use without declaring them and
//! the listeners of its own Gateways that the lab's Kong would not accept.

use std::path::PathBuf;

use crate::cli::CheckArgs;
use crate::diag::Diagnostics;
use crate::exit;
use crate::features;
use crate::gateway_api::Release;
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

/// What a path given to `gwlab check` holds.
enum Given {
    /// Scenario directories found at or below it.
    Scenarios(Vec<PathBuf>),
    /// Manifests without a scenario.yaml, read as the scenario they imply.
    Manifests(PathBuf, Box<Result<Scenario, Diagnostics>>),
}

/// Each path's scenarios, or, where a path holds no scenario.yaml but
/// HTTPRoutes, its manifests; the problems of paths that hold neither.
fn given(paths: &[PathBuf], release: Option<Release>) -> Result<Vec<Given>, Diagnostics> {
    if let Ok(dirs) = scenario::find(paths) {
        return Ok(vec![Given::Scenarios(dirs)]);
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match scenario::find(std::slice::from_ref(p)) {
            Ok(dirs) => out.push(Given::Scenarios(dirs)),
            Err(mut e) => match scenario::load_bare_as(p, release) {
                Ok(None) => problems.append(&mut e.0),
                Ok(Some(s)) => out.push(Given::Manifests(p.clone(), Box::new(Ok(s)))),
                Err(bad) => out.push(Given::Manifests(p.clone(), Box::new(Err(bad)))),
            },
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(problems))
    }
}

pub fn run(args: &CheckArgs) -> i32 {
    let given = match given(&args.paths, args.gateway_api) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    // Each directory once, however many paths lead to it.
    let mut dirs = Vec::new();
    let mut read: Vec<(PathBuf, Result<Scenario, Diagnostics>)> = Vec::new();
    for g in given {
        match g {
            Given::Scenarios(found) => {
                for d in found {
                    if !dirs.contains(&d) {
                        dirs.push(d.clone());
                        read.push((d.clone(), scenario::load_as(&d, args.gateway_api)));
                    }
                }
            }
            Given::Manifests(d, s) => {
                if let Ok(s) = s.as_ref() {
                    println!("{}", crate::commands::bare_note(&d, s));
                }
                dirs.push(d.clone());
                read.push((d, *s));
            }
        }
    }
    let mut bad = 0;
    let mut objects = 0;
    let mut loaded = Vec::new();
    for (dir, result) in read {
        match result {
            Ok(s) => {
                objects += s.all_objects().count();
                println!("ok   {} ({})", s.name, dir.display());
                for line in undeclared(&s) {
                    println!("     {line}");
                }
                for u in crate::implementations::unserved_listeners(s.all_objects()) {
                    println!("     note: {u}");
                }
                for o in crate::implementations::outside_gateway_api(s.all_objects()) {
                    println!("     note: {o}");
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
        "{} checked, {bad} with problems, {}",
        crate::diag::counted(dirs.len(), "scenario"),
        crate::diag::counted(objects, "object")
    );
    if bad > 0 { exit::BAD_INPUT } else { exit::OK }
}
