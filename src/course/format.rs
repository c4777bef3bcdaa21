//! The lab format: a catalogue directory holds one directory per lab with a
//! `lab.yaml`; each exercise is a directory of that lab with `exercise.yaml`,
//! `task.md`, `start/`, `check/` (a scenario: its `scenario.yaml` and any
//! fixed manifests) and `solution/`. The catalogue is read whole into memory,
//! so the copy embedded in the binary and a directory on disk are read by the
//! same code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::implementations::Implementation;

use super::CourseError;
use super::breaks::Fault;
use crate::diag::{Diagnostic, Diagnostics};
use crate::yaml::{self, Document};

pub(crate) const LAB_FILE: &str = "lab.yaml";
pub(crate) const EXERCISE_FILE: &str = "exercise.yaml";
pub(crate) const TASK_FILE: &str = "task.md";
/// The check's scenario file (the scenario format's name for it).
pub(crate) const SCENARIO_FILE: &str = "scenario.yaml";

/// The catalogue built into the binary from the repository's `labs/`.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/labs.rs"));
}

/// Files by path relative to a directory, `/`-separated.
pub(crate) type Files = BTreeMap<String, Vec<u8>>;

/// Every file of a catalogue, and where it came from (for messages).
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// The directory the files were read from; `labs` for the built-in one.
    pub root: PathBuf,
    /// Whether it is the copy built into the binary.
    pub builtin: bool,
    files: Files,
}

/// Which target a lab's checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabTarget {
    Embedded,
    Cluster,
    Either,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabFile {
    title: String,
    goal: String,
    time: String,
    target: LabTarget,
    exercises: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExerciseFile {
    title: String,
    time: String,
    #[serde(default)]
    hints: Vec<String>,
    #[serde(default)]
    doctor: Option<DoctorCheck>,
    #[serde(default, rename = "break")]
    break_: Option<BreakSpec>,
    /// Implementations (`--as` names) the student's route is shown under
    /// after each check on the embedded gateway.
    #[serde(default)]
    compare: Vec<String>,
}

/// A troubleshooting exercise's `break:`: on the lab cluster, starting the
/// exercise puts this fault into the real lab (see `course::breaks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakSpec {
    fault: Fault,
}

/// A troubleshooting exercise's check, instead of a scenario: `gwlab doctor
/// --from` on a recorded cluster state among the student's files must no
/// longer find these findings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorCheck {
    /// The recorded state's directory, relative to the exercise's.
    pub dir: String,
    /// The finding ids (as `gwlab doctor -o json` names them) that must be gone.
    pub solves: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Lab {
    /// The lab's directory name.
    pub id: String,
    pub title: String,
    pub goal: String,
    /// The estimated time, as written (`2h`, `90m`).
    pub time: String,
    pub target: LabTarget,
    pub exercises: Vec<Exercise>,
}

#[derive(Debug, Clone)]
pub struct Exercise {
    /// The exercise's directory name; also its directory in a workspace.
    pub id: String,
    pub title: String,
    pub time: String,
    /// The task, Markdown.
    pub task: String,
    pub hints: Vec<String>,
    /// For troubleshooting exercises: the doctor check (then `check` is empty).
    pub doctor: Option<DoctorCheck>,
    /// For troubleshooting exercises that break the lab cluster: the fault.
    pub fault: Option<Fault>,
    /// After each check on the embedded gateway, the student's route is
    /// shown answering as each of these (`compare:` in exercise.yaml).
    pub compare: Vec<Implementation>,
    pub start: Files,
    pub check: Files,
    pub solution: Files,
}

impl Lab {
    pub fn exercise(&self, id: &str) -> Option<(usize, &Exercise)> {
        self.exercises.iter().enumerate().find(|(_, e)| e.id == id)
    }
}

impl Catalogue {
    /// The catalogue built into the binary.
    pub fn builtin() -> Catalogue {
        Catalogue {
            root: PathBuf::from("labs"),
            builtin: true,
            files: embedded::FILES
                .iter()
                .map(|(p, b)| (p.to_string(), b.to_vec()))
                .collect(),
        }
    }

    /// A catalogue directory, or a single lab's directory (one holding
    /// `lab.yaml`), read whole. Symlinks are not followed.
    pub(crate) fn from_dir(dir: &Path) -> Result<Catalogue, CourseError> {
        let read_err = |source| CourseError::Read {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::metadata(dir).map_err(read_err)?;
        if dir.join(LAB_FILE).is_file() {
            // One lab: a catalogue of it alone, rooted at its parent.
            let name = dir
                .canonicalize()
                .map_err(read_err)?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut files = Files::new();
            read_tree(dir, &name, &mut files)?;
            let root = dir.parent().map(Path::to_path_buf).unwrap_or_default();
            return Ok(Catalogue {
                root,
                builtin: false,
                files,
            });
        }
        let mut files = Files::new();
        read_tree(dir, "", &mut files)?;
        Ok(Catalogue {
            root: dir.to_path_buf(),
            builtin: false,
            files,
        })
    }

    /// The ids of the labs: top-level directories holding `lab.yaml`.
    pub(crate) fn lab_ids(&self) -> Vec<String> {
        self.files
            .keys()
            .filter_map(|k| k.strip_suffix(&format!("/{LAB_FILE}")))
            .filter(|id| !id.contains('/'))
            .map(String::from)
            .collect()
    }

    /// Every lab, read and checked; all problems of all labs together.
    pub fn labs(&self) -> Result<Vec<Lab>, Diagnostics> {
        let mut labs = Vec::new();
        let mut problems = Vec::new();
        for id in self.lab_ids() {
            match self.read_lab(&id) {
                Ok(l) => labs.push(l),
                Err(mut d) => problems.append(&mut d.0),
            }
        }
        if problems.is_empty() {
            Ok(labs)
        } else {
            Err(Diagnostics(problems))
        }
    }

    /// One lab by id.
    pub fn lab(&self, id: &str) -> Result<Lab, CourseError> {
        let ids = self.lab_ids();
        if !ids.iter().any(|i| i == id) {
            return Err(CourseError::NoSuchLab {
                asked: id.to_string(),
                catalogue: self.root.display().to_string(),
                known: ids.join(", "),
            });
        }
        Ok(self.read_lab(id)?)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn text(&self, rel: &str) -> Result<&str, Diagnostic> {
        let bytes = self.files.get(rel).ok_or_else(|| {
            Diagnostic::new(
                &self.path(rel),
                None,
                "missing: every lab and exercise needs this file",
            )
        })?;
        std::str::from_utf8(bytes)
            .map_err(|_| Diagnostic::new(&self.path(rel), None, "not UTF-8 text"))
    }

    /// The files under `dir/`, keyed relative to it.
    fn subtree(&self, dir: &str) -> Files {
        let prefix = format!("{dir}/");
        self.files
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|r| (r.to_string(), v.clone())))
            .collect()
    }

    fn read_lab(&self, id: &str) -> Result<Lab, Diagnostics> {
        let rel = format!("{id}/{LAB_FILE}");
        let file = self.path(&rel);
        let text = self.text(&rel)?;
        let raw: LabFile = yaml::parse(&file, &whole(text))?;
        let mut problems = Vec::new();
        check_time(&file, text, "time", &raw.time, &mut problems);
        if raw.exercises.is_empty() {
            problems.push(
                Diagnostic::new(
                    &file,
                    line_of(text, "exercises:"),
                    "a lab needs at least one exercise",
                )
                .field("exercises"),
            );
        }
        let mut exercises = Vec::new();
        for (i, ex) in raw.exercises.iter().enumerate() {
            if raw.exercises[..i].contains(ex) {
                problems.push(
                    Diagnostic::new(
                        &file,
                        line_of(text, ex),
                        format!("exercise {ex:?} is listed twice"),
                    )
                    .field(format!("exercises[{i}]")),
                );
                continue;
            }
            if ex.contains('/')
                || ex.starts_with('.')
                || !self
                    .files
                    .keys()
                    .any(|k| k.starts_with(&format!("{id}/{ex}/")))
            {
                problems.push(
                    Diagnostic::new(
                        &file,
                        line_of(text, ex),
                        format!("there is no exercise directory {id}/{ex}"),
                    )
                    .field(format!("exercises[{i}]"))
                    .hint("list the exercise directories of this lab, in order"),
                );
                continue;
            }
            match self.read_exercise(id, ex) {
                Ok(e) => exercises.push(e),
                Err(mut d) => problems.append(&mut d.0),
            }
        }
        if raw.target == LabTarget::Embedded {
            for ex in exercises.iter().filter(|e| e.fault.is_some()) {
                problems.push(
                    Diagnostic::new(&file, line_of(text, "target:"), format!("exercise {} breaks the lab cluster (`break:`), and this lab runs on the embedded gateway only", ex.id))
                        .field("target")
                        .hint("write `target: either` (the recorded states without a cluster, the real lab with one) or `target: cluster`"),
                );
            }
        }
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        Ok(Lab {
            id: id.to_string(),
            title: raw.title,
            goal: raw.goal,
            time: raw.time,
            target: raw.target,
            exercises,
        })
    }

    fn read_exercise(&self, lab: &str, id: &str) -> Result<Exercise, Diagnostics> {
        let dir = format!("{lab}/{id}");
        let rel = format!("{dir}/{EXERCISE_FILE}");
        let file = self.path(&rel);
        let mut problems = Vec::new();
        let text = self.text(&rel)?;
        let raw: ExerciseFile = yaml::parse(&file, &whole(text))?;
        check_time(&file, text, "time", &raw.time, &mut problems);
        let task = self
            .text(&format!("{dir}/{TASK_FILE}"))
            .map(String::from)
            .unwrap_or_else(|d| {
                problems.push(d);
                String::new()
            });
        let start = self.subtree(&format!("{dir}/start"));
        let check = self.subtree(&format!("{dir}/check"));
        let solution = self.subtree(&format!("{dir}/solution"));
        match (&raw.doctor, check.contains_key(SCENARIO_FILE)) {
            (None, false) => problems.push(Diagnostic::new(
                &self.path(&format!("{dir}/check/{SCENARIO_FILE}")),
                None,
                "missing: an exercise's check is a scenario (check/scenario.yaml), or a `doctor:` check in exercise.yaml",
            )),
            (Some(_), true) => problems.push(
                Diagnostic::new(&file, line_of(text, "doctor:"), "an exercise has one check: this one has both `doctor:` and check/scenario.yaml")
                    .field("doctor"),
            ),
            (Some(d), false) => {
                let prefix = format!("{}/", d.dir.trim_end_matches('/'));
                for (what, files) in [("start", &start), ("solution", &solution)] {
                    if !files.keys().any(|k| k.starts_with(&prefix)) {
                        problems.push(
                            Diagnostic::new(&file, line_of(text, "dir:"), format!("{what}/{} holds no recorded cluster state", d.dir))
                                .field("doctor.dir"),
                        );
                    }
                }
                if d.solves.is_empty() {
                    problems.push(
                        Diagnostic::new(&file, line_of(text, "solves:"), "name the finding ids the student must make disappear")
                            .field("doctor.solves"),
                    );
                }
            }
            (None, true) => {}
        }
        if let Some(b) = &raw.break_ {
            let finding = b.fault.finding();
            match &raw.doctor {
                None => problems.push(
                    Diagnostic::new(&file, line_of(text, "break:"), "an exercise that breaks the lab is checked by doctor: add `doctor:` with the recorded state (`dir`) and the finding ids it `solves`")
                        .field("break"),
                ),
                Some(d) if !d.solves.iter().any(|s| s == finding) => problems.push(
                    Diagnostic::new(&file, line_of(text, "solves:"), format!("fault {} shows as doctor's finding {finding}, which `solves` does not name: the check would pass on the broken lab", b.fault.name()))
                        .field("doctor.solves")
                        .hint(format!("add {finding} to doctor.solves")),
                ),
                Some(_) => {}
            }
        }
        let mut compare = Vec::new();
        for name in &raw.compare {
            match Implementation::parse(name) {
                Ok(i) => compare.push(i),
                Err(e) => problems.push(
                    Diagnostic::new(&file, line_of(text, "compare:"), e.to_string())
                        .field("compare"),
                ),
            }
        }
        if !compare.is_empty() && raw.doctor.is_some() {
            problems.push(
                Diagnostic::new(&file, line_of(text, "compare:"), "`compare` shows a route under several implementations: a doctor check has none")
                    .field("compare"),
            );
        }
        if solution.is_empty() {
            problems.push(Diagnostic::new(
                &self.path(&format!("{dir}/solution")),
                None,
                "missing: an exercise needs a solution (the student's files, solved)",
            ));
        }
        // The check's files are gwlab's and are refreshed at every check, so a
        // student's file must never carry one of their names.
        for name in start.keys().chain(solution.keys()) {
            if check.contains_key(name) {
                problems.push(Diagnostic::new(
                    &self.path(&format!("{dir}/check/{name}")),
                    None,
                    format!("{name} is both a check file and a student file (start/ or solution/); rename one"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Diagnostics(problems));
        }
        Ok(Exercise {
            id: id.to_string(),
            title: raw.title,
            time: raw.time,
            task,
            hints: raw.hints,
            doctor: raw.doctor,
            fault: raw.break_.map(|b| b.fault),
            compare,
            start,
            check,
            solution,
        })
    }
}

fn whole(text: &str) -> Document<'_> {
    Document {
        first_line: 1,
        text,
    }
}

/// The first line whose text holds `needle`, for fields that serde does not
/// locate (a value is in one place in these small files).
fn line_of(text: &str, needle: &str) -> Option<u64> {
    (1u64..)
        .zip(text.lines())
        .find(|(_, l)| l.contains(needle))
        .map(|(n, _)| n)
}

fn check_time(file: &Path, text: &str, field: &str, value: &str, problems: &mut Vec<Diagnostic>) {
    if crate::scenario::duration::parse(value).is_err() {
        problems.push(
            Diagnostic::new(
                file,
                line_of(text, &format!("{field}:")),
                format!("{value:?} is not a duration"),
            )
            .field(field)
            .hint("write the estimated time as `10m`, `90m` or `2h`"),
        );
    }
}

/// Reads every regular file under `dir` into `files`, keyed `prefix/rel`.
fn read_tree(dir: &Path, prefix: &str, files: &mut Files) -> Result<(), CourseError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CourseError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let key = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            read_tree(&path, &key, files)?;
        } else if meta.is_file() {
            let bytes = std::fs::read(&path).map_err(|source| CourseError::Read {
                path: path.clone(),
                source,
            })?;
            files.insert(key, bytes);
        }
    }
    Ok(())
}
