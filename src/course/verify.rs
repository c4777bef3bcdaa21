//! `gwlab lab verify`: for lab authors and CI, every exercise's solution
//! passes its check and its starting files fail it.

use crate::implementations::Implementation;
use std::path::Path;
use std::time::{Duration, Instant};

use super::CourseError;
use super::breaks;
use super::check::{self, CheckError, Outcome};
use super::format::{Catalogue, Exercise, Files, Lab, LabTarget};
use super::live::{self, Cluster};
use super::scratch::Scratch;
use super::workspace::write_all;

/// What verifying one exercise found.
pub struct Verdict {
    pub lab: String,
    pub exercise: String,
    /// Empty when the exercise is sound; else what is wrong, line by line.
    pub problems: Vec<String>,
    /// One line of what was shown, for the report.
    pub summary: String,
}

/// Verifies every exercise of every lab in `catalogue`. With a cluster, labs
/// that can run there do; without one, labs that need a cluster are named and
/// not run.
pub async fn verify(
    catalogue: &Catalogue,
    labs: &[Lab],
    cluster: Option<&Cluster>,
) -> Result<Vec<Verdict>, CourseError> {
    let mut verdicts = Vec::new();
    for lab in labs {
        let on = match (lab.target, cluster) {
            (LabTarget::Embedded, _) => None,
            (_, Some(c)) => Some(c),
            (LabTarget::Either, None) => None,
            (LabTarget::Cluster, None) => {
                for ex in &lab.exercises {
                    verdicts.push(Verdict {
                        lab: lab.id.clone(),
                        exercise: ex.id.clone(),
                        problems: Vec::new(),
                        summary: "not run: the lab needs a cluster (give --kubeconfig/--context, or --target cluster after `gwlab up`)".into(),
                    });
                }
                continue;
            }
        };
        for ex in &lab.exercises {
            let v = match (on, ex.fault) {
                (Some(c), Some(fault)) => broken(c, lab, ex, fault).await?,
                _ => exercise(catalogue, lab, ex, on).await?,
            };
            verdicts.push(v);
        }
    }
    Ok(verdicts)
}

/// An exercise that breaks the lab, on the cluster: broken, the check fails;
/// put back, it passes.
async fn broken(
    c: &Cluster,
    lab: &Lab,
    ex: &Exercise,
    fault: breaks::Fault,
) -> Result<Verdict, CourseError> {
    let err = |e| CourseError::Check(CheckError::Break(Box::new(e)));
    let changes = breaks::apply(&c.client, fault, &ex.id, &c.ours())
        .await
        .map_err(err)?
        .changes;
    // A fault shows once the cluster's controllers act on it (a rollout's
    // Pending pod), and the lab recovers the same way: each state is checked
    // until it shows, for a while.
    // A Ctrl-C while it shows puts the lab back before stopping (a crash
    // leaves the record on the objects: the next verify adopts and puts back).
    let when_broken = tokio::select! {
        o = until(c, ex, false, SHOW_WAIT) => Some(o),
        _ = tokio::signal::ctrl_c() => None,
    };
    // Put back before judging: the lab must not stay broken, whatever came.
    breaks::restore(&c.client, &ex.id, &changes, false)
        .await
        .map_err(err)?;
    let Some(when_broken) = when_broken else {
        return Err(CourseError::Interrupted {
            exercise: ex.id.clone(),
        });
    };
    let when_broken = when_broken.map_err(CourseError::Check)?;
    let when_fixed = until(c, ex, true, RECOVER_WAIT)
        .await
        .map_err(CourseError::Check)?;
    let mut problems = Vec::new();
    if when_broken.passed {
        problems.push(format!(
            "the check passes with fault {} in the lab: it does not see the fault here",
            fault.name()
        ));
    }
    if !when_fixed.passed {
        problems.push("the check fails on the lab put back:".to_string());
        problems.extend(when_fixed.lines);
    }
    Ok(Verdict {
        lab: lab.id.clone(),
        exercise: ex.id.clone(),
        problems,
        summary: format!(
            "on the cluster: fault {} fails the check, the lab put back passes it ({})",
            fault.name(),
            crate::diag::counted(when_fixed.total, "expectation")
        ),
    })
}

/// How long a fault may take to show, and the lab to recover once put back.
const SHOW_WAIT: Duration = Duration::from_secs(30);
const RECOVER_WAIT: Duration = Duration::from_secs(180);

/// Checks the exercise on the live lab until its verdict is `passed`, or
/// `wait` passes; returns the last outcome.
async fn until(
    c: &Cluster,
    ex: &Exercise,
    passed: bool,
    wait: Duration,
) -> Result<Outcome, CheckError> {
    let here = Path::new(".");
    let start = Instant::now();
    loop {
        let o = live::exercise(c, ex, here, here).await?;
        if o.passed == passed || start.elapsed() > wait {
            return Ok(o);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn exercise(
    catalogue: &Catalogue,
    lab: &Lab,
    ex: &Exercise,
    cluster: Option<&Cluster>,
) -> Result<Verdict, CourseError> {
    let source = catalogue.root.join(&lab.id).join(&ex.id);
    let mut problems = Vec::new();
    let solved = run_with(ex, &ex.solution, &source.join("solution"), cluster).await?;
    let mut summary = String::new();
    if let (Ok(c), Some(_)) = (&solved, cluster)
        && !c.missing_features.is_empty()
    {
        return Ok(Verdict {
            lab: lab.id.clone(),
            exercise: ex.id.clone(),
            problems,
            summary: format!(
                "not run on this cluster: its implementation lacks {}",
                c.missing_features.join(", ")
            ),
        });
    }
    if cluster.is_some() {
        summary.push_str("on the cluster: ");
    }
    match &solved {
        Ok(c) if c.passed => summary.push_str(&format!(
            "the solution passes ({})",
            crate::diag::counted(c.total, "expectation")
        )),
        Ok(c) => {
            problems.push("the solution does not pass its check:".to_string());
            problems.extend(c.lines.iter().cloned());
        }
        Err(d) => {
            problems.push("the solution is not valid input:".to_string());
            problems.extend(d.to_string().lines().map(String::from));
        }
    }
    match run_with(ex, &ex.start, &source.join("start"), cluster).await? {
        Ok(c) if c.passed => problems.push(
            "the starting files already pass the check: the exercise has nothing to do".into(),
        ),
        Ok(c) => summary.push_str(&format!(
            ", the starting files fail it ({} of {})",
            c.failed, c.total
        )),
        // Starting files may be broken on purpose; the student is told where.
        Err(_) => summary.push_str(", the starting files are rejected as input"),
    }
    Ok(Verdict {
        lab: lab.id.clone(),
        exercise: ex.id.clone(),
        problems,
        summary,
    })
}

/// Runs the exercise's check on `files` in a scratch directory. The inner
/// error is the input's fault (its problems naming the catalogue's files, not
/// the scratch copies); the outer one stops the verification.
async fn run_with(
    ex: &Exercise,
    files: &Files,
    files_dir: &Path,
    cluster: Option<&Cluster>,
) -> Result<Result<Outcome, CheckError>, CourseError> {
    let scratch = Scratch::new(&ex.id)?;
    write_all(&scratch.0, &ex.check)?;
    write_all(&scratch.0, files)?;
    let checked = match cluster {
        Some(c) => live::exercise(c, ex, &scratch.0, files_dir).await,
        None => check::exercise(ex, &scratch.0, files_dir, Implementation::Spec).await,
    };
    match checked {
        Ok(c) => Ok(Ok(c)),
        Err(CheckError::Bad(mut d)) => {
            let check_dir = files_dir.with_file_name("check");
            for p in &mut d.0 {
                if let Ok(rel) = p.file.strip_prefix(&scratch.0) {
                    let rel = rel.to_string_lossy().into_owned();
                    p.file = if ex.check.contains_key(&rel) {
                        check_dir.join(rel)
                    } else {
                        files_dir.join(rel)
                    };
                }
            }
            Ok(Err(CheckError::Bad(d)))
        }
        Err(e @ CheckError::Recorded(_)) => Ok(Err(e)),
        Err(e) => Err(CourseError::Check(e)),
    }
}
