//! Workshop labs (`gwlab lab`): a catalogue of labs, each a series of
//! exercises whose "solved" is a scenario run on the student's files.
//!
//! `format` reads a catalogue into plain types, `workspace` keeps a student's
//! directory and progress, `check` runs an exercise's check and says what
//! failed, `diff` compares the student's files with a solution, `verify` proves
//! a catalogue's exercises.

pub(crate) mod breaks;
pub mod check;
pub(crate) mod diff;
pub(crate) mod format;
pub(crate) mod live;
mod scratch;
pub(crate) mod verify;
pub(crate) mod workspace;

/// What can go wrong with labs, apart from a check that fails.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// The catalogue or a lab in it is malformed.
    #[error("{0}")]
    Bad(#[source] crate::diag::Diagnostics),
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("there is no lab {asked:?} in {catalogue}; `gwlab lab list` shows the labs: {known}")]
    NoSuchLab {
        asked: String,
        catalogue: String,
        known: String,
    },
    #[error(
        "{} is not a lab workspace (no {} in it or its parent); start one with `gwlab lab start LAB --dir {}`",
        dir.display(), workspace::PROGRESS_FILE, dir.display()
    )]
    NotAWorkspace { dir: std::path::PathBuf },
    #[error("{}: {message}; start over with `gwlab lab reset`, or start a new workspace", path.display())]
    BadProgress {
        path: std::path::PathBuf,
        message: String,
    },
    #[error(
        "{} already holds files ({}); `gwlab lab start` never overwrites them: {}",
        dir.display(), crate::diag::listed(files, 5), if *workspace {
            format!("it is a lab workspace, continue there with `gwlab lab status {}`", dir.display())
        } else {
            "give --dir an empty or new directory".to_string()
        }
    )]
    NotEmpty {
        dir: std::path::PathBuf,
        files: Vec<String>,
        /// Whether the directory is already a lab workspace.
        workspace: bool,
    },
    /// The check could not run (the embedded gateway did not start).
    #[error("{0}")]
    Check(#[source] check::CheckError),
    #[error(
        "lab {lab} needs a cluster (target: cluster), and the embedded gateway was asked for ({why}); create the lab with `gwlab up`, or name a cluster with --kubeconfig/--context"
    )]
    NeedsCluster { lab: String, why: String },
    #[error(
        "lab {lab} runs on the embedded gateway only (target: embedded), and a cluster was asked for ({why}); leave out --target cluster, --kubeconfig and --context"
    )]
    EmbeddedOnly { lab: String, why: String },
    #[error(
        "--as {0} chooses how gwlab's reference gateway answers, and this check runs on the lab cluster, where Kong itself answers; check with --target embedded --as {0}"
    )]
    AsOnCluster(String),
    #[error("interrupted while {exercise} had the lab broken; gwlab put it back")]
    Interrupted { exercise: String },
    #[error(
        "exercise {other} still has the lab broken (on {place}): one break at a time; solve it, or put it back with `gwlab lab reset --exercise {other}`, before {exercise}"
    )]
    OtherBreak {
        exercise: String,
        other: String,
        place: String,
    },
    #[error(
        "exercise {exercise} broke the lab on {place}, not on the cluster named now ({now}): check it there (or `gwlab lab reset --exercise {exercise}` to put it back there) before moving it"
    )]
    BrokenElsewhere {
        exercise: String,
        place: String,
        now: String,
    },
}

impl From<crate::diag::Diagnostics> for CourseError {
    fn from(d: crate::diag::Diagnostics) -> Self {
        CourseError::Bad(d)
    }
}

impl From<crate::diag::Diagnostic> for CourseError {
    fn from(d: crate::diag::Diagnostic) -> Self {
        CourseError::Bad(d.into())
    }
}
