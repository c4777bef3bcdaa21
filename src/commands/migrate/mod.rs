//! `gwlab migrate`: read Ingress manifests, write HTTPRoutes (and a scenario),
//! list every annotation that could not be carried over exactly.

mod answers;
mod comparing;

use std::path::{Path, PathBuf};

use crate::cli::{MigrateArgs, TargetKind, TestArgs};
use crate::exit;
use crate::implementations::Implementation;
use crate::manifest;
use crate::migrate::{self, Migration, compare, output, scenario};
use comparing::{compare_on_cluster, compare_target, predict};

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
    #[error("{0}")]
    Json(#[source] serde_json::Error),
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

pub async fn run(args: &MigrateArgs) -> i32 {
    if args.on.gateway_address.is_some() && !args.compare {
        eprintln!(
            "error: --gateway-address sends the probes of --compare elsewhere: add --compare (and --scenario DIR)"
        );
        return exit::BAD_INPUT;
    }
    if let Err(e) = check_output_dirs(args) {
        eprintln!("error: {e}");
        return exit::BAD_INPUT;
    }
    if super::as_help(&args.implementation) {
        return exit::OK;
    }
    // Found before anything is written: --compare cannot run where Kong is not.
    let compare_on = match args.compare.then(|| compare_target(args)) {
        Some(Err(code)) => return code,
        Some(Ok(kind)) => Some(kind),
        None => None,
    };
    let (objects, mut inputs) = match read_inputs(&args.paths) {
        Ok(i) => i,
        Err(code) => return code,
    };
    inputs.release = args.gateway_api.unwrap_or_default();
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
    // As for `gwlab test`'s reports, a place that cannot be written is exit 2.
    if let Err(e) = write_outputs(args, &m, scenario.as_ref()) {
        eprintln!("error: {e}");
        return exit::BAD_INPUT;
    }
    print_notes(&inputs, &m);
    if let (Some(dir), None) = (&args.scenario, compare_on) {
        warn_where_kong_differs(dir).await;
    }
    match (compare_on, &args.scenario, &scenario) {
        (Some(TargetKind::Cluster), Some(dir), Some(s)) => {
            compare_on_cluster(args, dir, &objects, &m, s).await
        }
        (Some(TargetKind::Embedded), Some(dir), Some(s)) => predict(args, dir, s).await,
        _ => exit::OK,
    }
}

/// The Kong the lab runs: the built-in lock's (what `gwlab up` installs).
fn lab_kong() -> Option<Implementation> {
    let lock = crate::lab::lock::Lock::builtin();
    crate::kong::image_version(&lock.image("kong").image)
        .and_then(crate::kong::Version::parse)
        .and_then(Implementation::for_kong)
}

/// Runs the written scenario on the embedded gateway as the spec and as the
/// lab's Kong, and warns for every probe they answer differently, with the
/// deviations behind it. A run that cannot be made is said, never a verdict.
async fn warn_where_kong_differs(dir: &Path) {
    let Some(kong) = lab_kong() else {
        return;
    };
    let scenario = match crate::scenario::load(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "note: the scenario in {} does not load, so it was not run as the lab's Kong: {e}",
                dir.display()
            );
            return;
        }
    };
    let runs = match crate::run::under::under(&scenario, &[Implementation::Spec, kong]).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("note: the new routes were not run as the lab's Kong: {e}");
            return;
        }
    };
    let table = crate::report::portability::table(&runs);
    for row in table.rows.iter().filter(|r| r.differs) {
        let [spec, k] = &row.cells[..] else { continue };
        let ids = if k.deviations.is_empty() {
            String::new()
        } else {
            format!(" [{}]", k.deviations.join(", "))
        };
        eprintln!(
            "warning: probe {:?}: the new routes answer {} by the spec and {} on the lab's Kong ({kong}){ids}; see docs/implementations.md",
            row.probe,
            spec.answer.as_deref().unwrap_or("nothing"),
            k.answer.as_deref().unwrap_or("nothing"),
        );
    }
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
fn read_inputs(paths: &[PathBuf]) -> Result<(Vec<manifest::Manifest>, migrate::Inputs), i32> {
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
    Ok((objects, inputs))
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
        // With --compare, stdout is the table; the routes are in the scenario.
        None if args.compare => {}
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
    let ingresses = match inputs.ingresses.len() {
        1 => "1 Ingress".to_string(),
        n => format!("{n} Ingresses"),
    };
    eprintln!(
        "{ingresses} converted to {}, {}",
        crate::diag::counted(m.routes.iter().map(|(_, r)| r.len()).sum(), "HTTPRoute"),
        crate::diag::counted(m.warnings.len(), "warning")
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
    let kic = crate::lab::lock::Lock::builtin()
        .image("kong-ingress-controller")
        .image
        .clone();
    let version = crate::kong::image_version(&kic).unwrap_or(&kic);
    let (claimed, _) = crate::kong::features(Some(version));
    let lacking: Vec<&str> = features
        .iter()
        .copied()
        .filter(|f| !claimed.contains(*f))
        .collect();
    if !lacking.is_empty() {
        eprintln!(
            "note: the lab's Kong Ingress Controller {version} claims no support for {} (KIC's conformance report lists them unsupported): on the lab these scenarios are reported unsupported",
            lacking.join(", ")
        );
    }
}
