//! A student's workspace: one directory per exercise reached so far (the
//! starting files, the task as README.md, the check's scenario), and the
//! progress in a small file at its root, so the workspace can be carried to
//! another machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CourseError;
use super::format::{Catalogue, Exercise, Files, Lab};

/// The progress file at the workspace's root.
pub(crate) const PROGRESS_FILE: &str = ".gwlab-lab.json";
/// Where `reset` moves a student's files before starting over.
pub(crate) const BACKUP_DIR: &str = ".gwlab-backup";
/// The task, in each exercise directory.
pub const README: &str = "README.md";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    pub lab: String,
    /// The catalogue directory, when the lab is not the built-in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<PathBuf>,
    /// The exercise being worked on (the last one, once all are done).
    pub current: String,
    /// Exercises solved, in the order they were.
    #[serde(default)]
    pub done: Vec<String>,
    /// Hints shown so far, by exercise.
    #[serde(default)]
    pub hints: BTreeMap<String, usize>,
    /// Set when the workspace's checks run on a cluster: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterPlace>,
    /// What gwlab changed on a cluster for an exercise that breaks the lab,
    /// by exercise, until it is solved or reset.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub breaks: BTreeMap<String, Broken>,
}

/// A cluster as the student named it: `gwlab up`'s lab by name, or a
/// kubeconfig and context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterPlace {
    /// The lab's name (`--name`), used when no kubeconfig is given.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// `--gateway-address`, when probes go elsewhere than the Gateway's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_address: Option<String>,
}

/// A break gwlab put into a cluster, and where.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Broken {
    pub cluster: ClusterPlace,
    pub changes: Vec<super::breaks::Change>,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub progress: Progress,
}

impl Workspace {
    /// Makes a workspace for `lab` in `dir` with its first exercise; refuses
    /// a directory that already holds anything, so nothing is overwritten.
    pub fn create(dir: &Path, lab: &Lab, catalogue: &Catalogue) -> Result<Workspace, CourseError> {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut files: Vec<String> = entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            if !files.is_empty() {
                return Err(CourseError::NotEmpty {
                    dir: dir.to_path_buf(),
                    workspace: files.iter().any(|f| f == PROGRESS_FILE),
                    files,
                });
            }
        }
        let catalogue_dir = if catalogue.builtin {
            None
        } else {
            Some(
                std::path::absolute(&catalogue.root).map_err(|source| CourseError::Read {
                    path: catalogue.root.clone(),
                    source,
                })?,
            )
        };
        let ws = Workspace {
            root: dir.to_path_buf(),
            progress: Progress {
                lab: lab.id.clone(),
                catalogue: catalogue_dir,
                current: lab.exercises[0].id.clone(),
                done: Vec::new(),
                hints: BTreeMap::new(),
                cluster: None,
                breaks: BTreeMap::new(),
            },
        };
        write(&dir.join(README), overview(lab).as_bytes())?;
        ws.save()?;
        ws.materialize(&lab.exercises[0])?;
        Ok(ws)
    }

    /// The workspace `dir` is in: `dir` itself, or the workspace whose
    /// exercise directory `dir` is (then that exercise is returned too).
    pub fn open(dir: &Path) -> Result<(Workspace, Option<String>), CourseError> {
        if dir.join(PROGRESS_FILE).is_file() {
            return Ok((Workspace::read(dir)?, None));
        }
        let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        if let (Some(parent), Some(name)) = (abs.parent(), abs.file_name())
            && parent.join(PROGRESS_FILE).is_file()
        {
            // The parent as the student would write it: `ws` for `ws/01-x`,
            // `.` for `01-x`, an absolute path for `.` itself.
            let root = match (dir.file_name(), dir.parent()) {
                (Some(_), Some(p)) if p.as_os_str().is_empty() => PathBuf::from("."),
                (Some(_), Some(p)) => p.to_path_buf(),
                _ => parent.to_path_buf(),
            };
            return Ok((
                Workspace::read(&root)?,
                Some(name.to_string_lossy().into_owned()),
            ));
        }
        Err(CourseError::NotAWorkspace {
            dir: dir.to_path_buf(),
        })
    }

    fn read(root: &Path) -> Result<Workspace, CourseError> {
        let path = root.join(PROGRESS_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| CourseError::Read {
            path: path.clone(),
            source,
        })?;
        let progress = serde_json::from_str(&text).map_err(|e| CourseError::BadProgress {
            path,
            message: e.to_string(),
        })?;
        Ok(Workspace {
            root: root.to_path_buf(),
            progress,
        })
    }

    pub fn save(&self) -> Result<(), CourseError> {
        let text = serde_json::to_string_pretty(&self.progress).expect("progress serialises");
        // Whole or not at all: the progress holds the record of a break.
        let path = self.root.join(PROGRESS_FILE);
        std::fs::create_dir_all(&self.root).map_err(|source| CourseError::Write {
            path: self.root.clone(),
            source,
        })?;
        crate::lab::cache::replace_file(&path, format!("{text}\n").as_bytes())
            .map_err(|source| CourseError::Write { path, source })
    }

    /// The catalogue the workspace's lab comes from.
    pub fn catalogue(&self, given: Option<&Path>) -> Result<Catalogue, CourseError> {
        match given.or(self.progress.catalogue.as_deref()) {
            Some(dir) => Catalogue::from_dir(dir),
            None => Ok(Catalogue::builtin()),
        }
    }

    pub(crate) fn dir_of(&self, ex: &Exercise) -> PathBuf {
        self.root.join(&ex.id)
    }

    /// Writes what the exercise needs into its directory: the starting files
    /// and the task where missing (a student's file is never overwritten),
    /// and the check's files, which are gwlab's, as the catalogue has them.
    pub(crate) fn materialize(&self, ex: &Exercise) -> Result<(), CourseError> {
        let dir = self.dir_of(ex);
        for (name, bytes) in &ex.start {
            let path = dir.join(name);
            if !path.exists() {
                write(&path, bytes)?;
            }
        }
        let readme = dir.join(README);
        if !readme.exists() {
            write(&readme, ex.task.as_bytes())?;
        }
        self.refresh_check(ex)
    }

    /// The check's files as the catalogue has them (rewritten only when they
    /// differ, so a watcher does not see its own writes).
    pub(crate) fn refresh_check(&self, ex: &Exercise) -> Result<(), CourseError> {
        let dir = self.dir_of(ex);
        for (name, bytes) in &ex.check {
            let path = dir.join(name);
            if std::fs::read(&path).ok().as_ref() != Some(bytes) {
                write(&path, bytes)?;
            }
        }
        Ok(())
    }

    /// The student's files of an exercise: everything in its directory but
    /// the task and the check's files.
    pub(crate) fn student_files(&self, ex: &Exercise) -> Files {
        let mut files = Files::new();
        collect(&self.dir_of(ex), "", &mut files);
        files.retain(|k, _| k != README && !ex.check.contains_key(k));
        files
    }

    /// Moves an exercise's directory into the backup directory and returns
    /// where it went (`None`: there was nothing to move).
    pub fn backup(&self, ex: &Exercise) -> Result<Option<PathBuf>, CourseError> {
        let dir = self.dir_of(ex);
        if !dir.exists() {
            return Ok(None);
        }
        let backups = self.root.join(BACKUP_DIR);
        let dest = (1..)
            .map(|n| backups.join(format!("{}-{n}", ex.id)))
            .find(|p| !p.exists())
            .expect("a free backup name");
        std::fs::create_dir_all(&backups).map_err(|source| CourseError::Write {
            path: backups.clone(),
            source,
        })?;
        std::fs::rename(&dir, &dest).map_err(|source| CourseError::Write {
            path: dest.clone(),
            source,
        })?;
        Ok(Some(dest))
    }
}

/// The workspace's README: the lab at a glance and how to work in it.
fn overview(lab: &Lab) -> String {
    let mut s = format!(
        "# {}\n\n{}\n\nEstimated time: {}.\n\n## Exercises\n\n",
        lab.title,
        lab.goal.trim(),
        lab.time
    );
    for (i, ex) in lab.exercises.iter().enumerate() {
        s.push_str(&format!(
            "{}. {} ({}): `{}/`\n",
            i + 1,
            ex.title,
            ex.time,
            ex.id
        ));
    }
    s.push_str(
        "\nEach exercise's directory appears when you reach it, with its task in README.md.\n\
         Edit the files there, then run `gwlab lab check` (or `gwlab lab check --watch`).\n\
         `gwlab lab hint` gives a hint, `gwlab lab solution` shows the answer against your files,\n\
         `gwlab lab status` shows your progress, `gwlab lab reset --exercise` starts an exercise over.\n",
    );
    s
}

/// Writes a file, making its directory.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), CourseError> {
    let err = |source| CourseError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, bytes).map_err(err)
}

/// Writes a set of files under `dir`.
pub fn write_all(dir: &Path, files: &Files) -> Result<(), CourseError> {
    for (name, bytes) in files {
        write(&dir.join(name), bytes)?;
    }
    Ok(())
}

/// Regular files under `dir`, hidden ones and symlinks left out.
fn collect(dir: &Path, prefix: &str, files: &mut Files) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let key = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.is_dir() {
            collect(&e.path(), &key, files);
        } else if meta.is_file()
            && let Ok(bytes) = std::fs::read(e.path())
        {
            files.insert(key, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exercise_directory_opens_its_workspace_named_as_the_student_wrote_it() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(ws.join("01-x")).unwrap();
        let progress = r#"{"lab": "demo", "current": "01-x"}"#;
        std::fs::write(ws.join(PROGRESS_FILE), progress).unwrap();

        let (w, named) = Workspace::open(&ws.join("01-x")).unwrap();
        assert_eq!(w.root, ws);
        assert_eq!(named.as_deref(), Some("01-x"));
        let (w, named) = Workspace::open(&ws).unwrap();
        assert_eq!((w.root, named), (ws.clone(), None));

        std::fs::write(ws.join(PROGRESS_FILE), "{\"lab\": 1}").unwrap();
        assert!(matches!(
            Workspace::open(&ws),
            Err(CourseError::BadProgress { .. })
        ));
        assert!(matches!(
            Workspace::open(tmp.path()),
            Err(CourseError::NotAWorkspace { .. })
        ));
    }
}
