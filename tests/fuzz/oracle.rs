//! Running one case in process, and what makes it a failure: a panic, a run
//! over the time bound, a problem that names no file of the input, a message
//! longer than a reader can take in, or (for migrate) output that gwlab's own
//! check rejects.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use gwlab::diag::Diagnostic;
use gwlab::manifest::Manifest;
use gwlab::model::{compile, evaluate, lab_gateway, request::RequestHead, world::World};

/// The longest line of a message the fuzzer accepts: long input values are
/// cut in messages.
const MAX_MESSAGE: usize = 2_000;

/// What the fuzzer runs: a scenario directory's files, or one migrate input.
#[derive(Debug, Clone)]
pub enum Case {
    Scenario { files: Vec<(String, Vec<u8>)> },
    Migrate { file: String, bytes: Vec<u8> },
}

/// How a case ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Read and accepted (for migrate: converted, output valid).
    Accepted,
    /// Rejected as bad input, every problem naming a file of the input.
    BadInput,
}

/// Runs `case` in its own directory on a thread of its own: a panic is
/// caught, a run over `limit` is a failure (the thread is left behind).
pub fn run(case: &Case, limit: Duration) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let root = dir.path().to_path_buf();
    write(case, &root)?;
    let (tx, rx) = mpsc::channel();
    let case = case.clone();
    let started = Instant::now();
    std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(|| check(&case, &root)));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => Err(format!("panicked: {}", panic_text(&panic))),
        Err(_) => Err(format!(
            "still running after {:?} (the bound is {limit:?})",
            started.elapsed()
        )),
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Writes the case's files into `dir`.
pub fn write(case: &Case, dir: &Path) -> Result<(), String> {
    let files: Vec<(&String, &Vec<u8>)> = match case {
        Case::Scenario { files } => files.iter().map(|(n, b)| (n, b)).collect(),
        Case::Migrate { file, bytes } => vec![(file, bytes)],
    };
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("write {name}: {e}"))?;
    }
    Ok(())
}

fn check(case: &Case, dir: &Path) -> Result<Outcome, String> {
    match case {
        Case::Scenario { .. } => scenario(dir),
        Case::Migrate { file, .. } => migrate(&dir.join(file)),
    }
}

/// Each problem names a file in `dir`, in a message of bounded length.
fn named(problems: &[Diagnostic], dir: &Path) -> Result<(), String> {
    if problems.is_empty() {
        return Err("rejected with no problem given".into());
    }
    for d in problems {
        if d.file.as_os_str().is_empty() || !d.file.starts_with(dir) {
            return Err(format!("a problem names no file of the input: {d}"));
        }
        bounded(&d.to_string())?;
    }
    Ok(())
}

fn bounded(message: &str) -> Result<(), String> {
    match message.lines().find(|l| l.chars().count() > MAX_MESSAGE) {
        Some(l) => Err(format!(
            "a message line of {} characters: {}…",
            l.chars().count(),
            l.chars().take(200).collect::<String>()
        )),
        None => Ok(()),
    }
}

/// `gwlab check` and the start of `gwlab test` on the embedded gateway: the
/// scenario is read and checked, and if it passes, the gateway model
/// compiles it and routes each probe's request.
fn scenario(dir: &Path) -> Result<Outcome, String> {
    let s = match gwlab::scenario::load(dir) {
        Ok(s) => s,
        Err(d) => return named(&d.0, dir).map(|()| Outcome::BadInput),
    };
    let mut world = World::default();
    for m in lab_gateway::objects()
        .into_iter()
        .chain(s.all_objects().cloned())
    {
        world.apply(in_namespace(m));
    }
    let compiled = compile::compile(&world);
    let lab = compiled.gateway(lab_gateway::GATEWAY_NAMESPACE, lab_gateway::GATEWAY_NAME);
    for probe in s.steps.iter().flat_map(|st| &st.probes) {
        if let Some(table) = lab {
            evaluate::evaluate(table, probe.port(), &head(probe));
        }
    }
    Ok(Outcome::Accepted)
}

fn in_namespace(mut m: Manifest) -> Manifest {
    if m.namespace.is_none() && !m.is_cluster_scoped() {
        m.namespace = Some("fuzz".into());
    }
    m
}

fn head(p: &gwlab::scenario::Probe) -> RequestHead {
    let host = p.url.host_str().unwrap_or_default().to_string();
    RequestHead {
        method: p.method.clone(),
        scheme: p.url.scheme().into(),
        host: host.clone(),
        path: p.url.path().into(),
        query: p.url.query().map(String::from),
        headers: std::iter::once(("host".to_string(), host))
            .chain(p.request.headers.clone())
            .collect(),
    }
}

/// `gwlab migrate FILE --scenario DIR`, in process: input problems name the
/// file, and what is converted passes gwlab's own check.
fn migrate(file: &Path) -> Result<Outcome, String> {
    let objects = match gwlab::manifest::load_file(file) {
        Ok(o) => o,
        Err(d) => {
            let dir = file.parent().map(PathBuf::from).unwrap_or_default();
            return named(&d, &dir).map(|()| Outcome::BadInput);
        }
    };
    let inputs = match gwlab::migrate::inputs(&objects) {
        Ok(i) => i,
        Err(e) if e.file() == file => return bounded(&e.to_string()).map(|()| Outcome::BadInput),
        Err(e) => return Err(format!("an input error names another file: {e}")),
    };
    if inputs.ingresses.is_empty() {
        // `gwlab migrate` names the paths it was given.
        return Ok(Outcome::BadInput);
    }
    let m = gwlab::migrate::migrate(&inputs);
    for w in &m.warnings {
        bounded(&w.to_string())?;
    }
    let s = gwlab::migrate::scenario::build(&m, "fuzz");
    let with = (!s.probes.is_empty()).then_some(&s);
    gwlab::migrate::check::output(&m, with)
        .map_err(|d| format!("migrate made output that its own check rejects:\n{d}"))?;
    Ok(Outcome::Accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oracle_fails_what_it_must() {
        let dir = Path::new("/tmp/case");
        let inside = Diagnostic::new(&dir.join("scenario.yaml"), Some(1), "bad");
        assert!(named(std::slice::from_ref(&inside), dir).is_ok());
        assert!(named(&[], dir).is_err(), "rejected without a problem");
        let elsewhere = Diagnostic::new(Path::new(""), None, "bad");
        assert!(named(&[inside, elsewhere], dir).is_err());
        assert!(bounded(&"x".repeat(MAX_MESSAGE + 1)).is_err());
    }
}
