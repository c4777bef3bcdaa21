//! `gwlab migrate`: read Ingress manifests, write HTTPRoutes (and a scenario),
//! list every annotation that could not be carried over exactly.

use std::path::{Path, PathBuf};

use crate::cli::MigrateArgs;
use crate::exit;
use crate::manifest;
use crate::migrate::{self, KONG_UNSUPPORTED, Migration, output, scenario};

/// Why the paths given do not name manifests.
#[derive(Debug, thiserror::Error)]
enum FindError {
    #[error("{}: {source}", .path.display())]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no such file or directory", .0.display())]
    Missing(PathBuf),
}

/// Why the routes or the scenario could not be written.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("cannot create {}: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Serialize(#[source] serde_saphyr::SerializeError),
    #[error("{}: is {what}; -o and --scenario take a directory", .path.display())]
    NotADirectory { path: PathBuf, what: &'static str },
}

/// The manifest files named by `paths`: files as given, and the `*.yaml` and
/// `*.yml` of directories. Whatever is not a regular file is kept, for reading
/// to name it in an error.
fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FindError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| FindError::ReadDir {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            found.sort();
            files.extend(found);
        } else if std::fs::symlink_metadata(p).is_ok() {
            files.push(p.clone());
        } else {
            return Err(FindError::Missing(p.clone()));
        }
    }
    Ok(files)
}

fn create_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|source| WriteError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<(), WriteError> {
    std::fs::write(path, text).map_err(|source| WriteError::Write {
        path: path.to_path_buf(),
        source,
    })
}

pub fn run(args: &MigrateArgs) -> i32 {
    if let Err(e) = check_output_dirs(args) {
        eprintln!("error: {e}");
        return exit::BAD_INPUT;
    }
    let inputs = match read_inputs(&args.paths) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let m = migrate::migrate(&inputs);
    let scenario = args.scenario.as_deref().map(|dir| {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "migrated".into());
        scenario::build(&m, &name)
    });
    if scenario.as_ref().is_some_and(|s| s.probes.is_empty()) {
        print_notes(&inputs, &m);
        eprintln!(
            "error: no route was converted from {}, so a scenario would probe nothing; none written",
            shown(&args.paths)
        );
        return exit::BAD_INPUT;
    }
    if let Err(d) = migrate::check::output(&m, scenario.as_ref()) {
        print_notes(&inputs, &m);
        eprintln!(
            "error: gwlab migrate made output that its own check rejects; nothing written. This is a bug in gwlab: please report it with the input.\n{d}"
        );
        return exit::FAILED;
    }
    if let Err(e) = write_outputs(args, &m, scenario.as_ref()) {
        eprintln!("error: {e}");
        return exit::FAILED;
    }
    print_notes(&inputs, &m);
    exit::OK
}

/// `-o` and `--scenario` name directories: an existing file there is a
/// usage error, found before anything is read or written.
fn check_output_dirs(args: &MigrateArgs) -> Result<(), WriteError> {
    for dir in args.output.iter().chain(&args.scenario) {
        if let Ok(meta) = std::fs::metadata(dir)
            && !meta.is_dir()
        {
            return Err(WriteError::NotADirectory {
                path: dir.clone(),
                what: crate::files::describe(&meta),
            });
        }
    }
    Ok(())
}

fn shown(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The manifests under `paths`, sorted into migrate's inputs; at least one
/// Ingress. Problems are printed; the error is the exit code.
fn read_inputs(paths: &[PathBuf]) -> Result<migrate::Inputs, i32> {
    let files = manifest_files(paths).map_err(|e| {
        eprintln!("error: {e}");
        exit::BAD_INPUT
    })?;
    let objects = load_manifests(&files).ok_or(exit::BAD_INPUT)?;
    let inputs = migrate::inputs(&objects).map_err(|e| {
        eprintln!("error: {e}");
        exit::BAD_INPUT
    })?;
    if inputs.ingresses.is_empty() {
        eprintln!("error: no networking.k8s.io/v1 Ingress in {}", shown(paths));
        return Err(exit::BAD_INPUT);
    }
    Ok(inputs)
}

/// Every manifest in `files`; `None` (after printing every diagnostic) when
/// any file cannot be read.
fn load_manifests(files: &[PathBuf]) -> Option<Vec<manifest::Manifest>> {
    let mut objects = Vec::new();
    let mut unreadable = false;
    for f in files {
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
    (!unreadable).then_some(objects)
}

/// The routes (one file per Ingress under `--output`, else all on stdout),
/// then the scenario if `--scenario` asks for one.
fn write_outputs(
    args: &MigrateArgs,
    m: &Migration,
    s: Option<&scenario::ScenarioOut>,
) -> Result<(), WriteError> {
    match &args.output {
        Some(dir) => {
            create_dir(dir)?;
            for (name, routes) in &m.routes {
                let path = dir.join(format!("{name}.yaml"));
                write(&path, &output::to_yaml(routes))?;
                eprintln!("wrote {}", path.display());
            }
        }
        None => print!("{}", output::to_yaml(&m.all_routes())),
    }
    if let (Some(dir), Some(s)) = (&args.scenario, s) {
        write_scenario(dir, m, s)?;
    }
    Ok(())
}

/// A scenario directory: every route in routes.yaml, and the scenario.
fn write_scenario(dir: &Path, m: &Migration, s: &scenario::ScenarioOut) -> Result<(), WriteError> {
    create_dir(dir)?;
    write(
        &dir.join(migrate::check::ROUTES_FILE),
        &output::to_yaml(&m.all_routes()),
    )?;
    write(
        &dir.join(crate::scenario::SCENARIO_FILE),
        &serde_saphyr::to_string(s).map_err(WriteError::Serialize)?,
    )?;
    eprintln!(
        "wrote the scenario {} (run it with: gwlab test {})",
        dir.display(),
        dir.display()
    );
    Ok(())
}

/// Warnings, ignored objects, the features the routes need, and a summary.
fn print_notes(inputs: &migrate::Inputs, m: &Migration) {
    for w in &m.warnings {
        eprintln!("warning: {w}");
    }
    for ignored in &inputs.ignored {
        eprintln!(
            "note: {ignored} is not an Ingress, KongPlugin, KongClusterPlugin or Service; ignored"
        );
    }
    print_features(m);
    eprintln!(
        "{} Ingress(es) converted to {} HTTPRoute(s), {} warning(s)",
        inputs.ingresses.len(),
        m.routes.iter().map(|(_, r)| r.len()).sum::<usize>(),
        m.warnings.len()
    );
}

/// The Gateway API features the routes need, and those the lab's Kong lacks.
fn print_features(m: &Migration) {
    if m.features.is_empty() {
        return;
    }
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
