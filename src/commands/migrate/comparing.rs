//! `gwlab migrate --compare`: the original Ingress and the new routes run one
//! after the other on the lab (or, with `--as`, a prediction on the embedded
//! gateway), and what each probe got from both.

use super::*;

/// --compare without a cluster: the original's answers as the scenario
/// states them (gwlab's model of its controller) beside the new routes run
/// on the embedded gateway as the implementation of --as; a prediction,
/// labelled so.
pub(super) async fn predict(args: &MigrateArgs, dir: &Path, s: &scenario::ScenarioOut) -> i32 {
    let implementation = crate::cli::AsArg::one(&args.implementation);
    let scenario = match crate::scenario::load_as(dir, args.gateway_api) {
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
    let verdicts = super::answers::verdicts(&runs[0]);
    let answers = super::answers::answers(&runs[0]);
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

/// `gwlab test`'s arguments for one --compare run of `dir`.
fn test_args(args: &MigrateArgs, dir: PathBuf, diagnostics: PathBuf) -> TestArgs {
    TestArgs {
        paths: vec![dir],
        gateway_api: args.gateway_api,
        on: args.on.clone(),
        parallel: 1,
        shard: None,
        keep: false,
        diagnostics,
        tags: vec![],
        implementations: None,
        require_features: false,
        junit: None,
        json: None,
        html: None,
        quiet: true,
        nested: true,
    }
}

/// The target --compare runs on: a cluster; or the embedded gateway with
/// --as, as a prediction.
pub(super) fn compare_target(args: &MigrateArgs) -> Result<TargetKind, i32> {
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
pub(super) async fn compare_on_cluster(
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
        let test = test_args(args, sub, bundles);
        // Compared in memory; its JSON is kept beside the run for the user.
        let console = crate::report::human::Console::new(true).on_stderr();
        let sinks = crate::report::sink::Sinks::terminal(console)
            .with(crate::report::sink::ReportFile::json(json));
        match crate::commands::test::report(&test, &sinks).await {
            Ok(report) if report.interrupted => {
                let code = report.exit_code();
                eprintln!("error: the {name} run stopped (exit {code}); no comparison");
                return code;
            }
            Ok(report) => {
                if let Err(e) = sinks.finished(&report) {
                    eprintln!("error: {e}");
                    return exit::BAD_INPUT;
                }
                answers.push(super::answers::answers(&report));
            }
            Err(code) => {
                eprintln!("error: the {name} run stopped (exit {code}); no comparison");
                return code;
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
