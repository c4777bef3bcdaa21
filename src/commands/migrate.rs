//! `gwlab migrate`: read Ingress manifests, write HTTPRoutes (and a scenario),
//! list every annotation that could not be carried over exactly.

use std::path::{Path, PathBuf};

use crate::cli::{MigrateArgs, TargetKind, TestArgs};
use crate::exit;
use crate::implementations::Implementation;
use crate::manifest;
use crate::migrate::{self, Migration, compare, output, scenario};

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
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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
    let (objects, inputs) = match read_inputs(&args.paths) {
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
            compare(args, dir, &objects, &m, s).await
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

/// --compare without a cluster: the original's answers as the scenario
/// states them (gwlab's model of its controller) beside the new routes run
/// on the embedded gateway as the implementation of --as; a prediction,
/// labelled so.
async fn predict(args: &MigrateArgs, dir: &Path, s: &scenario::ScenarioOut) -> i32 {
    let implementation = crate::cli::AsArg::one(&args.implementation);
    let scenario = match crate::scenario::load(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return exit::BAD_INPUT;
        }
    };
    let runs = match crate::run::under::under(&scenario, &[implementation]).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    let report = crate::report::json::to_value(&runs[0]);
    let verdicts = compare::verdicts(&report);
    let answers = compare::answers(&report);
    let rows = compare::predicted_rows(&s.probes, &verdicts, &answers);
    println!(
        "prediction, no cluster: the original's answers as gwlab models its Ingress controller (the scenario's expectations); the new routes' as gwlab's reference gateway answers as {}",
        implementation.describe()
    );
    print!("{}", compare::table(&rows));
    if rows.iter().all(|r| r.same) {
        exit::OK
    } else {
        exit::FAILED
    }
}

/// `gwlab test`'s arguments for one --compare run of `dir`, reporting to `json`.
fn test_args(
    args: &MigrateArgs,
    dir: PathBuf,
    json: Option<PathBuf>,
    diagnostics: PathBuf,
) -> TestArgs {
    TestArgs {
        paths: vec![dir],
        on: args.on.clone(),
        parallel: 1,
        shard: None,
        keep: false,
        diagnostics,
        tags: vec![],
        implementations: None,
        require_features: false,
        junit: None,
        json,
        html: None,
        quiet: true,
        nested: true,
    }
}

/// The target --compare runs on: a cluster; or the embedded gateway with
/// --as, as a prediction.
fn compare_target(args: &MigrateArgs) -> Result<TargetKind, i32> {
    match (args.on.choose(true), &args.implementation) {
        ((TargetKind::Cluster, why), Some(_)) => {
            eprintln!(
                "error: --as predicts the comparison on gwlab's reference gateway, and the target is a cluster ({why}), where Kong answers: leave out --as, or give --target embedded"
            );
            Err(exit::BAD_INPUT)
        }
        ((TargetKind::Cluster, _), None) => Ok(TargetKind::Cluster),
        ((TargetKind::Embedded, _), Some(_)) => Ok(TargetKind::Embedded),
        ((TargetKind::Embedded, why), None) => {
            eprintln!(
                "error: --compare runs the original Ingress objects, which only Kong serves, and the target is embedded ({why}): the original needs the lab: run `gwlab up` first (or name a cluster with --kubeconfig/--context), or predict the comparison without one with --as kong-3.9"
            );
            Err(exit::BAD_INPUT)
        }
    }
}

/// Runs the scenario on the lab against the original objects and against the
/// new routes (one after the other: on one Kong they would serve the same
/// hosts and paths), and prints what each probe got from both.
async fn compare(
    args: &MigrateArgs,
    dir: &Path,
    objects: &[manifest::Manifest],
    m: &Migration,
    s: &scenario::ScenarioOut,
) -> i32 {
    let base = dir.with_file_name(format!(
        "{}.compare",
        dir.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let original: Vec<_> = compare::original_objects(objects);
    for note in nginx_notes(m) {
        eprintln!("note: {note}");
    }
    // The route's run waits for its conditions (the routes Accepted); the
    // original's has none to wait for: its Ingress objects have no conditions.
    let runs = [
        (
            "original",
            compare::ORIGINAL_FILE,
            objects_yaml(&original),
            false,
        ),
        (
            "route",
            migrate::check::ROUTES_FILE,
            Ok(output::to_yaml(&m.all_routes())),
            true,
        ),
    ];
    let mut answers = Vec::new();
    for (name, file, text, conditions) in runs {
        let sub = base.join(name);
        let json = base.join(format!("{name}.json"));
        let run = CompareRun {
            file,
            conditions,
            probe_timeout: args.probe_timeout,
        };
        let written = text.and_then(|t| run.write(&sub, &t, s));
        // Not a verdict: no answer differed. As for `gwlab test`, a file
        // that cannot be written or read is exit 2.
        if let Err(e) = written {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
        eprintln!(
            "running the scenario against the {name} ({})",
            sub.display()
        );
        // A difference fails a probe: its bundle goes beside the run.
        let bundles = base.join(format!("{name}-diagnostics"));
        let test = test_args(args, sub, Some(json.clone()), bundles);
        let code = crate::commands::test::run(&test).await;
        if code != exit::OK && code != exit::FAILED {
            eprintln!("error: the {name} run stopped (exit {code}); no comparison");
            return code;
        }
        match read_report(&json) {
            Ok(r) => answers.push(compare::answers(&r)),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    let probes: Vec<String> = s.probes.iter().map(|p| p.name.clone()).collect();
    let rows = compare::rows(&probes, &answers[0], &answers[1]);
    print!("{}", compare::table(&rows));
    if rows.iter().all(|r| r.same) {
        exit::OK
    } else {
        exit::FAILED
    }
}

/// One note per ingress-nginx Ingress, whose original the lab's Kong does not serve.
fn nginx_notes(m: &Migration) -> Vec<String> {
    m.converted
        .iter()
        .filter(|c| c.controller == migrate::Controller::Nginx)
        .map(|c| {
            format!(
                "{} is ingress-nginx's: the lab's Kong serves Ingresses of class kong only, so the original's column shows what the lab answers without it",
                migrate::ingress_name(c.namespace.as_deref(), &c.name)
            )
        })
        .collect()
}

/// The original objects as one multi-document YAML text.
fn objects_yaml(objects: &[&serde_json::Value]) -> Result<String, WriteError> {
    let docs: Result<Vec<String>, _> = objects.iter().map(serde_saphyr::to_string).collect();
    Ok(docs.map_err(WriteError::Serialize)?.join("---\n"))
}

/// One --compare run's scenario.
struct CompareRun {
    /// The file its objects are written to.
    file: &'static str,
    /// Whether it keeps the scenario's conditions (they name the new routes).
    conditions: bool,
    /// How long each probe waits for the original's answer.
    probe_timeout: std::time::Duration,
}

impl CompareRun {
    /// `text` as the run's file, and the scenario without its features (the
    /// table is to show what the lab does with every probe, supported or
    /// not), with the run's probe timeout.
    fn write(&self, dir: &Path, text: &str, s: &scenario::ScenarioOut) -> Result<(), WriteError> {
        create_dir(dir)?;
        write(&dir.join(self.file), text)?;
        let mut v = serde_json::to_value(s).map_err(WriteError::Json)?;
        if let Some(o) = v.as_object_mut() {
            if !self.conditions {
                o.insert("conditions".into(), serde_json::Value::Array(vec![]));
            }
            o.remove("features");
            let probes = format!("{}ms", self.probe_timeout.as_millis());
            o.insert("timeouts".into(), serde_json::json!({ "probes": probes }));
        }
        write(
            &dir.join(crate::scenario::SCENARIO_FILE),
            &serde_saphyr::to_string(&v).map_err(WriteError::Serialize)?,
        )
    }
}

/// A run's JSON report, as written by `gwlab test --json`.
fn read_report(path: &Path) -> Result<serde_json::Value, WriteError> {
    let text = std::fs::read_to_string(path).map_err(|source| WriteError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(WriteError::Json)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nginx_note_names_the_ingress_with_its_namespace() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: docs, namespace: web}\nspec: {ingressClassName: nginx, defaultBackend: {service: {name: docs, port: {number: 80}}}}\n";
        let objects = manifest::parse_text(Path::new("in.yaml"), text).unwrap();
        let m = migrate::migrate(&migrate::inputs(&objects).unwrap());
        let notes = nginx_notes(&m);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("Ingress web/docs is ingress-nginx's"),
            "{notes:?}"
        );
    }
}
