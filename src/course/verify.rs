//! `gwlab lab verify`: for lab authors and CI, every exercise's solution
//! passes its check and its starting files fail it.

use std::path::{Path, PathBuf};

use super::CourseError;
use super::check::{self, CheckError, Outcome};
use super::format::{Catalogue, Exercise, Files, Lab, LabTarget};
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

/// Verifies every exercise of every lab in `catalogue`. Labs whose checks
/// need a cluster are named and not run.
pub async fn verify(catalogue: &Catalogue, labs: &[Lab]) -> Result<Vec<Verdict>, CourseError> {
    let mut verdicts = Vec::new();
    for lab in labs {
        for ex in &lab.exercises {
            if lab.target == LabTarget::Cluster {
                verdicts.push(Verdict {
                    lab: lab.id.clone(),
                    exercise: ex.id.clone(),
                    problems: Vec::new(),
                    summary: "not run: the lab needs a cluster".into(),
                });
                continue;
            }
            verdicts.push(exercise(catalogue, lab, ex).await?);
        }
    }
    Ok(verdicts)
}

async fn exercise(catalogue: &Catalogue, lab: &Lab, ex: &Exercise) -> Result<Verdict, CourseError> {
    let source = catalogue.root.join(&lab.id).join(&ex.id);
    let mut problems = Vec::new();
    let solved = run_with(ex, &ex.solution, &source.join("solution")).await?;
    let mut summary = String::new();
    match &solved {
        Ok(c) if c.passed => {
            summary.push_str(&format!("the solution passes ({} expectations)", c.total))
        }
        Ok(c) => {
            problems.push("the solution does not pass its check:".to_string());
            problems.extend(c.lines.iter().cloned());
        }
        Err(d) => {
            problems.push("the solution is not valid input:".to_string());
            problems.extend(d.to_string().lines().map(String::from));
        }
    }
    match run_with(ex, &ex.start, &source.join("start")).await? {
        Ok(c) if c.passed => problems.push(
            "the starting files already pass the check: the exercise has nothing to do".into(),
        ),
        Ok(c) => summary.push_str(&format!(
            ", the starting files fail it ({} of {})",
            c.lines.iter().filter(|l| l.starts_with('✗')).count(),
            c.total
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
) -> Result<Result<Outcome, CheckError>, CourseError> {
    let scratch = Scratch::new(&ex.id)?;
    write_all(&scratch.0, &ex.check)?;
    write_all(&scratch.0, files)?;
    match check::exercise(ex, &scratch.0, files_dir).await {
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

/// A directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch, CourseError> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir()
            .join(format!("gwlab-lab-{}-{n}", std::process::id()))
            .join(name);
        std::fs::create_dir_all(&dir).map_err(|source| CourseError::Write {
            path: dir.clone(),
            source,
        })?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(parent) = self.0.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
    }
}
