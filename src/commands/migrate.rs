//! `gwlab migrate`: read Ingress manifests, write HTTPRoutes (and a scenario),
//! list every annotation that could not be carried over exactly.

use std::path::{Path, PathBuf};

use crate::cli::MigrateArgs;
use crate::exit;
use crate::manifest;
use crate::migrate::{self, KONG_UNSUPPORTED, output, scenario};

fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            found.sort();
            files.extend(found);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(files)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn run(args: &MigrateArgs) -> i32 {
    let files = match manifest_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let mut objects = Vec::new();
    let mut unreadable = false;
    for f in &files {
        match manifest::load_file(f) {
            Ok(mut o) => objects.append(&mut o),
            Err(diags) => {
                unreadable = true;
                for d in diags {
                    eprintln!("{d}");
                }
            }
        }
    }
    if unreadable {
        return exit::BAD_INPUT;
    }
    let inputs = match migrate::inputs(&objects) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    if inputs.ingresses.is_empty() {
        eprintln!(
            "error: no networking.k8s.io/v1 Ingress in {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return exit::BAD_INPUT;
    }
    let m = migrate::migrate(&inputs);
    let result = (|| -> Result<(), String> {
        match &args.output {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                for (name, routes) in &m.routes {
                    let path = dir.join(format!("{name}.yaml"));
                    write(&path, &output::to_yaml(routes))?;
                    eprintln!("wrote {}", path.display());
                }
            }
            None => {
                let all: Vec<output::Route> =
                    m.routes.iter().flat_map(|(_, r)| r.clone()).collect();
                print!("{}", output::to_yaml(&all));
            }
        }
        if let Some(dir) = &args.scenario {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let all: Vec<output::Route> = m.routes.iter().flat_map(|(_, r)| r.clone()).collect();
            write(&dir.join("routes.yaml"), &output::to_yaml(&all))?;
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "migrated".into());
            let s = scenario::build(&m, &name);
            write(
                &dir.join("scenario.yaml"),
                &serde_saphyr::to_string(&s).map_err(|e| e.to_string())?,
            )?;
            eprintln!(
                "wrote the scenario {} (run it with: gwlab test {})",
                dir.display(),
                dir.display()
            );
        }
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("error: {e}");
        return exit::FAILED;
    }
    for w in &m.warnings {
        eprintln!("warning: {w}");
    }
    for ignored in &inputs.ignored {
        eprintln!(
            "note: {ignored} is not an Ingress, KongPlugin, KongClusterPlugin or Service; ignored"
        );
    }
    if !m.features.is_empty() {
        let features: Vec<&str> = m.features.iter().map(String::as_str).collect();
        eprintln!(
            "note: the routes need these Gateway API features: {}",
            features.join(", ")
        );
        let lacking: Vec<&str> = features
            .iter()
            .copied()
            .filter(|f| KONG_UNSUPPORTED.contains(f))
            .collect();
        if !lacking.is_empty() {
            eprintln!(
                "note: Kong KIC 3.4 (the lab's gateway) does not support {}: on Kong these routes are not programmed as written",
                lacking.join(", ")
            );
        }
    }
    eprintln!(
        "{} Ingress(es) converted to {} HTTPRoute(s), {} warning(s)",
        inputs.ingresses.len(),
        m.routes.iter().map(|(_, r)| r.len()).sum::<usize>(),
        m.warnings.len()
    );
    exit::OK
}
