//! `gwlab lab`: workshop labs. A student starts a lab into a workspace,
//! edits the files of each exercise, and `gwlab lab check` runs the
//! exercise's check (a scenario) on them on the embedded gateway.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::course::check::{self, CheckError};
use crate::course::format::{Catalogue, Exercise, Lab, LabTarget};
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
    },
    /// Run the current exercise's check on your files (embedded gateway).
    Check {
        #[command(flatten)]
        ws: WorkspaceArg,
        /// Check again at every change of the exercise's files, and go on to the
        /// next exercise when one is solved.
        #[arg(long)]
        watch: bool,
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
    /// files are moved to .gwlab-backup/, never deleted.
    Reset {
        #[command(flatten)]
        ws: WorkspaceArg,
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
    },
}

pub async fn run(args: &CourseArgs) -> i32 {
    let outcome = match &args.command {
        CourseCommand::List { catalogue, dir } => list(catalogue, dir),
        CourseCommand::Start {
            lab,
            dir,
            catalogue,
        } => start(lab, dir.as_deref(), catalogue),
        CourseCommand::Check { ws, watch: false } => check_once(ws).await.map(|(code, _)| code),
        CourseCommand::Check { ws, watch: true } => watch(ws).await,
        CourseCommand::Hint { ws } => hint(ws),
        CourseCommand::Solution { ws } => solution(ws),
        CourseCommand::Reset { ws, exercise } => reset(ws, *exercise),
        CourseCommand::Status { ws } => status(ws),
        CourseCommand::Verify { dir } => verify_catalogue(dir).await,
    };
    outcome.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        match e {
            CourseError::Check(_) | CourseError::Write { .. } => exit::FAILED,
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

fn list(arg: &CatalogueArg, dir: &Path) -> Result<i32, CourseError> {
    let cat = catalogue(arg)?;
    let labs = cat.labs()?;
    let progress = Workspace::open(dir).ok().map(|(ws, _)| ws);
    for lab in &labs {
        let mut line = format!(
            "{:<24} {} ({}, {} exercises, {})",
            lab.id,
            lab.title,
            lab.time,
            lab.exercises.len(),
            target_word(lab.target)
        );
        if let Some(ws) = progress.as_ref().filter(|w| w.progress.lab == lab.id) {
            line.push_str(&format!(
                ": {} of {} done in {}",
                ws.progress.done.len(),
                lab.exercises.len(),
                ws.root.display()
            ));
        }
        println!("{line}");
        for (i, ex) in lab.exercises.iter().enumerate() {
            let mark = progress
                .as_ref()
                .filter(|w| w.progress.lab == lab.id)
                .map(|w| mark(w, ex))
                .unwrap_or(' ');
            println!("  {mark} {:>2}. {} ({})", i + 1, ex.title, ex.time);
        }
    }
    if labs.is_empty() {
        println!("no labs in {}", cat.root.display());
    } else {
        println!("start one with: gwlab lab start LAB [--dir DIR]");
    }
    Ok(exit::OK)
}

fn target_word(t: LabTarget) -> &'static str {
    match t {
        LabTarget::Embedded => "embedded gateway",
        LabTarget::Cluster => "needs a cluster",
        LabTarget::Either => "embedded gateway or a cluster",
    }
}

fn mark(ws: &Workspace, ex: &Exercise) -> char {
    if ws.progress.done.contains(&ex.id) {
        '✓'
    } else if ws.progress.current == ex.id {
        '→'
    } else {
        ' '
    }
}

fn start(id: &str, dir: Option<&Path>, arg: &CatalogueArg) -> Result<i32, CourseError> {
    let cat = catalogue(arg)?;
    let lab = cat.lab(id)?;
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(id));
    let ws = Workspace::create(&dir, &lab, &cat)?;
    println!(
        "Started lab {}: {} ({}, {} exercises) in {}",
        lab.id,
        lab.title,
        lab.time,
        lab.exercises.len(),
        dir.display()
    );
    println!();
    present(&ws, &lab, 0);
    Ok(exit::OK)
}

/// Prints an exercise's heading, where its files are, and its task.
fn present(ws: &Workspace, lab: &Lab, index: usize) {
    let ex = &lab.exercises[index];
    let dir = shown_dir(&ws.root, &ex.id);
    println!(
        "Exercise {} of {}: {} ({}), in {}/",
        index + 1,
        lab.exercises.len(),
        ex.title,
        ex.time,
        dir.display()
    );
    println!();
    for l in ex.task.trim_end().lines() {
        println!("    {l}");
    }
    println!();
    println!("Check your work with: {}", command("check", &ws.root));
}

/// `gwlab lab SUB DIR`, leaving out a DIR of `.`.
fn command(sub: &str, dir: &Path) -> String {
    if dir == Path::new(".") {
        format!("gwlab lab {sub}")
    } else {
        format!("gwlab lab {sub} {}", dir.display())
    }
}

/// One check of the exercise; returns the exit code and whether the
/// workspace moved on to another exercise.
async fn check_once(arg: &WorkspaceArg) -> Result<(i32, bool), CourseError> {
    let mut o = open(arg)?;
    if o.lab.target == LabTarget::Cluster {
        return Err(CourseError::NeedsCluster {
            lab: o.lab.id.clone(),
        });
    }
    let ex = o.exercise().clone();
    o.ws.materialize(&ex)?;
    let dir = o.ws.dir_of(&ex);
    let total = o.lab.exercises.len();
    println!(
        "Checking exercise {} of {total}: {} ({})",
        o.index + 1,
        ex.title,
        o.shown.display()
    );
    let outcome = match check::exercise(&ex, &dir, &o.shown).await {
        Ok(c) => c,
        Err(CheckError::Bad(d)) => {
            println!("{d}");
            println!(
                "✗ your files are not valid input yet: fix what is named above, then check again"
            );
            return Ok((exit::BAD_INPUT, false));
        }
        Err(CheckError::Recorded(e)) => {
            println!("{e}");
            println!(
                "✗ the recorded cluster state cannot be read: fix what is named above, or start over with `gwlab lab reset --exercise`"
            );
            return Ok((exit::BAD_INPUT, false));
        }
        Err(e) => return Err(CourseError::Check(e)),
    };
    if !outcome.passed {
        println!("Not solved yet:");
        for l in &outcome.lines {
            println!("  {l}");
        }
        println!(
            "A hint: {}   (hints given so far: {} of {})",
            command("hint", &o.given),
            o.ws.progress.hints.get(&ex.id).copied().unwrap_or(0),
            ex.hints.len()
        );
        return Ok((exit::FAILED, false));
    }
    println!(
        "✓ Solved: {} ({} expectations hold)",
        ex.title, outcome.total
    );
    if !o.ws.progress.done.contains(&ex.id) {
        o.ws.progress.done.push(ex.id.clone());
    }
    let next = o
        .lab
        .exercises
        .iter()
        .position(|e| !o.ws.progress.done.contains(&e.id));
    let moved = match next {
        Some(n) if o.lab.exercises[n].id != o.ws.progress.current => {
            o.ws.progress.current = o.lab.exercises[n].id.clone();
            true
        }
        _ => false,
    };
    o.ws.save()?;
    println!("{} of {total} exercises done.", o.ws.progress.done.len());
    match next {
        Some(n) => {
            o.ws.materialize(&o.lab.exercises[n])?;
            println!();
            println!("Next:");
            present(&o.ws, &o.lab, n);
        }
        None => println!("Every exercise of lab {} is solved. Well done!", o.lab.id),
    }
    Ok((exit::OK, moved))
}

/// Checks, then again at every change of the current exercise's files,
/// following the student to the next exercise; ends when all are solved.
async fn watch(arg: &WorkspaceArg) -> Result<i32, CourseError> {
    // After a move to the next exercise, watch the workspace, not the old
    // exercise directory.
    let mut arg = WorkspaceArg {
        dir: arg.dir.clone(),
        catalogue: arg.catalogue.clone(),
    };
    loop {
        let (_, moved) = check_once(&arg).await?;
        let o = open(&arg)?;
        if moved && o.ws.root != arg.dir {
            arg.dir = o.ws.root.clone();
        }
        if o.lab
            .exercises
            .iter()
            .all(|e| o.ws.progress.done.contains(&e.id))
        {
            return Ok(exit::OK);
        }
        let o = open(&arg)?;
        let dir = o.ws.dir_of(o.exercise());
        // Taken before saying so, so that a save right after the line is seen.
        let before = fingerprint(&dir);
        println!(
            "Watching {}/ for changes (Ctrl-C to stop)",
            o.shown.display()
        );
        // Polling: a few files, twice a second, and no watcher dependency.
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if fingerprint(&dir) != before {
                break;
            }
        }
        println!();
    }
}

/// Names, sizes and modification times of a directory's files.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}

fn hint(arg: &WorkspaceArg) -> Result<i32, CourseError> {
    let mut o = open(arg)?;
    let ex = o.exercise().clone();
    if ex.hints.is_empty() {
        println!(
            "Exercise {} has no hints; `gwlab lab solution` shows the answer.",
            ex.title
        );
        return Ok(exit::OK);
    }
    let shown = o.ws.progress.hints.get(&ex.id).copied().unwrap_or(0);
    if shown >= ex.hints.len() {
        for (i, h) in ex.hints.iter().enumerate() {
            println!("Hint {} of {}: {}", i + 1, ex.hints.len(), h.trim());
        }
        println!(
            "No more hints; `{}` shows the answer.",
            command("solution", &o.given)
        );
        return Ok(exit::OK);
    }
    println!(
        "Hint {} of {}: {}",
        shown + 1,
        ex.hints.len(),
        ex.hints[shown].trim()
    );
    o.ws.progress.hints.insert(ex.id.clone(), shown + 1);
    o.ws.save()?;
    Ok(exit::OK)
}

fn solution(arg: &WorkspaceArg) -> Result<i32, CourseError> {
    let o = open(arg)?;
    let ex = o.exercise();
    let mine = o.ws.student_files(ex);
    println!(
        "Solution of exercise {}: {} (- your lines, + the solution's)",
        o.index + 1,
        ex.title
    );
    for (name, bytes) in &ex.solution {
        let theirs = String::from_utf8_lossy(bytes);
        let path = o.shown.join(name);
        match mine.get(name) {
            None => {
                println!("\n{} (you have no such file):", path.display());
                for l in theirs.lines() {
                    println!("+ {l}");
                }
            }
            Some(m) => {
                let d = diff::render(&String::from_utf8_lossy(m), &theirs);
                if d.is_empty() {
                    println!("\n{}: the same as the solution", path.display());
                } else {
                    println!("\n{}:", path.display());
                    for l in d {
                        println!("{l}");
                    }
                }
            }
        }
    }
    for name in mine.keys().filter(|n| !ex.solution.contains_key(*n)) {
        println!(
            "\n{}: not in the solution (the check reads every manifest here)",
            o.shown.join(name).display()
        );
    }
    Ok(exit::OK)
}

fn reset(arg: &WorkspaceArg, only_exercise: bool) -> Result<i32, CourseError> {
    let mut o = open(arg)?;
    let targets: Vec<Exercise> = if only_exercise {
        vec![o.exercise().clone()]
    } else {
        o.lab.exercises.clone()
    };
    for ex in &targets {
        if let Some(to) = o.ws.backup(ex)? {
            println!("your files of {} are kept in {}", ex.id, to.display());
        }
        o.ws.progress.done.retain(|d| d != &ex.id);
        o.ws.progress.hints.remove(&ex.id);
    }
    let first = if only_exercise { o.index } else { 0 };
    o.ws.progress.current = o.lab.exercises[first].id.clone();
    o.ws.save()?;
    o.ws.materialize(&o.lab.exercises[first])?;
    println!(
        "{} starts over.",
        if only_exercise {
            "The exercise"
        } else {
            "The lab"
        }
    );
    println!();
    present(&o.ws, &o.lab, first);
    Ok(exit::OK)
}

fn status(arg: &WorkspaceArg) -> Result<i32, CourseError> {
    let o = open(arg)?;
    let p = &o.ws.progress;
    println!(
        "Lab {}: {} ({}), {} of {} exercises done",
        o.lab.id,
        o.lab.title,
        o.lab.time,
        p.done.len(),
        o.lab.exercises.len()
    );
    for (i, ex) in o.lab.exercises.iter().enumerate() {
        let hints = p.hints.get(&ex.id).copied().unwrap_or(0);
        let extra = if hints > 0 {
            format!(", {hints} hint(s) used")
        } else {
            String::new()
        };
        println!(
            "  {} {:>2}. {} ({}{extra})",
            mark(&o.ws, ex),
            i + 1,
            ex.title,
            ex.time
        );
    }
    let cur = &o.lab.exercises[o.index];
    if !p.done.contains(&cur.id) {
        println!(
            "Now: {}/ ({} there), then `{}`",
            shown_dir(&o.ws.root, &cur.id).display(),
            README,
            command("check", &o.given)
        );
    }
    Ok(exit::OK)
}

async fn verify_catalogue(dir: &Path) -> Result<i32, CourseError> {
    let cat = Catalogue::from_dir(dir)?;
    let labs = cat.labs()?;
    if labs.is_empty() {
        println!(
            "no labs in {} (a lab is a directory with lab.yaml)",
            dir.display()
        );
        return Ok(exit::BAD_INPUT);
    }
    let verdicts = verify::verify(&cat, &labs).await?;
    let mut bad = 0;
    for v in &verdicts {
        if v.problems.is_empty() {
            println!("ok   {}/{}: {}", v.lab, v.exercise, v.summary);
        } else {
            bad += 1;
            println!("FAIL {}/{}", v.lab, v.exercise);
            for p in &v.problems {
                println!("       {p}");
            }
        }
    }
    println!(
        "{} exercise(s) in {} lab(s): {} sound, {bad} with problems",
        verdicts.len(),
        labs.len(),
        verdicts.len() - bad
    );
    Ok(if bad == 0 { exit::OK } else { exit::FAILED })
}
