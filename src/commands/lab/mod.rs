//! `gwlab lab`: workshop labs. A student starts a lab into a workspace,
//! edits the files of each exercise, and `gwlab lab check` runs the
//! exercise's check (a scenario) on them on the embedded gateway.
//!
//! `catalogue` lists, starts and verifies labs; `checking` runs a check once
//! or at every save; `guide` gives hints, solutions, resets and progress.

mod catalogue;
mod checking;
mod guide;
mod on_cluster;

pub use on_cluster::OnArgs;

use catalogue::{command, list, mark, present, start, verify_catalogue};
use checking::{check_once, watch};
use guide::{hint, reset, solution, status};

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::course::check::{self, CheckError};
use crate::course::format::{Catalogue, Exercise, Lab, LabTarget};
use crate::course::live;
use crate::course::workspace::{README, Workspace};
use crate::course::{CourseError, diff, verify};
use crate::exit;

#[derive(Debug, clap::Args)]
pub struct CourseArgs {
    #[command(subcommand)]
    pub command: CourseCommand,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CatalogueArg {
    /// A lab catalogue directory instead of the one built into gwlab.
    #[arg(long, value_name = "DIR", env = "GWLAB_LABS")]
    pub labs: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct WorkspaceArg {
    /// The workspace, or one of its exercise directories.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub catalogue: CatalogueArg,
}

#[derive(Debug, clap::Subcommand)]
pub enum CourseCommand {
    /// The labs of the catalogue, with your progress in a workspace.
    List {
        #[command(flatten)]
        catalogue: CatalogueArg,
        /// The workspace whose progress to show (default: this directory, if it is one).
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
    },
    /// Start a lab: a workspace with the first exercise's files and task.
    Start {
        /// The lab's name, as `gwlab lab list` shows it.
        lab: String,
        /// The workspace directory to make (default: the lab's name); it must be
        /// empty or absent: nothing is overwritten.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[command(flatten)]
        catalogue: CatalogueArg,
        #[command(flatten)]
        on: OnArgs,
    },
    /// Run the current exercise's check on your files (the embedded gateway, or
    /// the lab cluster when asked or when the lab needs it).
    Check {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[command(flatten)]
        on: OnArgs,
        /// Check again at every change of the exercise's files, and go on to the
        /// next exercise when one is solved.
        #[arg(long)]
        watch: bool,
        /// On the embedded gateway, answer as this implementation (`spec`,
        /// the default; `kong-3.8`; `kong-3.9`): see what Kong would do with
        /// your files. `--as help` lists them.
        #[arg(long = "as", value_name = "IMPL", value_parser = crate::cli::parse_as_one)]
        implementation: Option<crate::cli::AsArg>,
    },
    /// The next hint for the current exercise.
    Hint {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// The current exercise's solution, as a diff against your files.
    Solution {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// Start over: the whole lab, or with --exercise the current exercise. Your
    /// files are moved to .gwlab-backup/, never deleted; what an exercise
    /// changed on the lab cluster is put back.
    Reset {
        #[command(flatten)]
        ws: WorkspaceArg,
        #[command(flatten)]
        on: OnArgs,
        /// Only the current exercise.
        #[arg(long)]
        exercise: bool,
    },
    /// Your progress in the lab.
    Status {
        #[command(flatten)]
        ws: WorkspaceArg,
    },
    /// For lab authors and CI: every exercise's solution passes its check and its
    /// starting files fail it.
    Verify {
        /// A catalogue directory, or one lab's directory.
        #[arg(value_name = "DIR", default_value = "labs")]
        dir: PathBuf,
        /// With a cluster (--target cluster, --kubeconfig, --context), labs that
        /// can run there are verified there; without one, labs that need a
        /// cluster are named and skipped.
        #[command(flatten)]
        on: OnArgs,
    },
}

pub async fn run(args: &CourseArgs) -> i32 {
    let outcome = match &args.command {
        CourseCommand::List { catalogue, dir } => list(catalogue, dir),
        CourseCommand::Start {
            lab,
            dir,
            catalogue,
            on,
        } => start(lab, dir.as_deref(), catalogue, on).await,
        CourseCommand::Check {
            implementation: Some(crate::cli::AsArg::Help),
            ..
        } => {
            print!("{}", crate::implementations::help());
            Ok(exit::OK)
        }
        CourseCommand::Check {
            ws,
            on,
            watch: false,
            implementation,
        } => check_once(ws, on, crate::cli::AsArg::one(implementation))
            .await
            .map(|(code, _)| code),
        CourseCommand::Check {
            ws,
            on,
            watch: true,
            implementation,
        } => watch(ws, on, crate::cli::AsArg::one(implementation)).await,
        CourseCommand::Hint { ws } => hint(ws),
        CourseCommand::Solution { ws } => solution(ws),
        CourseCommand::Reset { ws, exercise, on } => reset(ws, *exercise, on).await,
        CourseCommand::Status { ws } => status(ws),
        CourseCommand::Verify { dir, on } => verify_catalogue(dir, on).await,
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        match e {
            // No cluster to run on, or the lab there is not gwlab's: usage.
            // An API server's error on the way is not the student's input.
            CourseError::Check(CheckError::Break(b))
                if matches!(*b, crate::course::breaks::BreakError::Kube(_)) =>
            {
                exit::FAILED
            }
            CourseError::Check(CheckError::NoCluster(_) | CheckError::Break(_)) => exit::BAD_INPUT,
            CourseError::Check(_) | CourseError::Write { .. } => exit::FAILED,
            CourseError::Interrupted { .. } => 130,
            _ => exit::BAD_INPUT,
        }
    })
}

fn catalogue(arg: &CatalogueArg) -> Result<Catalogue, CourseError> {
    match &arg.labs {
        Some(dir) => Catalogue::from_dir(dir),
        None => Ok(Catalogue::builtin()),
    }
}

/// A workspace opened, with its lab and the exercise the command is about:
/// the exercise directory named, else the current exercise.
struct Opened {
    ws: Workspace,
    lab: Lab,
    index: usize,
    /// The exercise directory as the student would name it.
    shown: PathBuf,
    /// The directory the student named, for commands about this exercise.
    given: PathBuf,
}

impl Opened {
    fn exercise(&self) -> &Exercise {
        &self.lab.exercises[self.index]
    }
}

fn open(arg: &WorkspaceArg) -> Result<Opened, CourseError> {
    let (ws, named) = Workspace::open(&arg.dir)?;
    let lab = ws
        .catalogue(arg.catalogue.labs.as_deref())?
        .lab(&ws.progress.lab)?;
    let id = named.clone().unwrap_or_else(|| ws.progress.current.clone());
    let Some((index, _)) = lab.exercise(&id) else {
        return Err(CourseError::BadProgress {
            path: ws.root.join(crate::course::workspace::PROGRESS_FILE),
            message: format!("lab {} has no exercise {id:?}", lab.id),
        });
    };
    let shown = match named {
        Some(_) => arg.dir.clone(),
        None => shown_dir(&ws.root, &id),
    };
    Ok(Opened {
        ws,
        lab,
        index,
        shown,
        given: arg.dir.clone(),
    })
}

/// `ROOT/ID`, without a leading `./`.
fn shown_dir(root: &Path, id: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(id)
    } else {
        root.join(id)
    }
}
