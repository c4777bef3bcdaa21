//! Finding the scenario directories under the paths given on the command line.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};

pub const SCENARIO_FILE: &str = "scenario.yaml";

const HINT: &str = "give a scenario directory (holding scenario.yaml) or a directory of scenarios";

/// Scenario directories under `paths`: a directory holding `scenario.yaml` is
/// one; any other directory is searched recursively. Sorted, and each
/// directory once even when named twice (by its real path).
///
/// The search does not follow symbolic links to directories: a link inside
/// the tree leads where the search goes anyway, and a link out of it (to `/`,
/// `/proc/self`, a parent) would take the search outside what was given, or
/// round in circles.
pub fn find(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut walk = Walk::default();
    for p in paths {
        let Some(dir) = start(p, &mut walk.problems) else {
            continue;
        };
        let problems_before = walk.problems.len();
        if !walk.dir(&dir) && walk.problems.len() == problems_before {
            walk.problems.push(
                Diagnostic::new(p, None, format!("no {SCENARIO_FILE} found here or below"))
                    .hint("a scenario is a directory with a scenario.yaml and its manifests"),
            );
        }
    }
    if walk.problems.is_empty() {
        Ok(walk.found.into_iter().collect())
    } else {
        Err(Diagnostics(walk.problems))
    }
}

/// The directory to search for a path given: the path itself, or the
/// directory of a `scenario.yaml` named directly.
fn start(p: &Path, problems: &mut Vec<Diagnostic>) -> Option<PathBuf> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(_) => {
            problems.push(Diagnostic::new(p, None, "no such file or directory").hint(HINT));
            return None;
        }
    };
    if meta.is_dir() {
        return Some(p.to_path_buf());
    }
    if meta.is_file() && p.file_name().is_some_and(|n| n == SCENARIO_FILE) {
        let parent = p.parent().unwrap_or(Path::new(""));
        return Some(if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent.to_path_buf()
        });
    }
    problems.push(
        Diagnostic::new(
            p,
            None,
            format!("is {}, not a directory", crate::files::describe(&meta)),
        )
        .hint(HINT),
    );
    None
}

#[derive(Default)]
struct Walk {
    /// The scenario directories, as reached from the paths given.
    found: BTreeSet<PathBuf>,
    /// Real paths of the directories searched (each once), and whether a
    /// scenario is there or below.
    searched: HashMap<PathBuf, bool>,
    problems: Vec<Diagnostic>,
}

impl Walk {
    /// Searches `dir`; whether a scenario is there or below.
    fn dir(&mut self, dir: &Path) -> bool {
        let Ok(real) = dir.canonicalize() else {
            return false;
        };
        if let Some(found) = self.searched.get(&real) {
            return *found;
        }
        self.searched.insert(real.clone(), false);
        let mut found = self.scenario_file(dir);
        let Ok(entries) = std::fs::read_dir(dir) else {
            self.searched.insert(real, found);
            return found;
        };
        // `DirEntry::file_type` does not follow links: a link is never a directory here.
        let mut subdirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        subdirs.sort();
        for d in subdirs {
            found |= self.dir(&d);
        }
        self.searched.insert(real, found);
        found
    }

    /// Records `dir` when its `scenario.yaml` is a file; a `scenario.yaml`
    /// that is anything else is a problem, not a directory without scenario.
    fn scenario_file(&mut self, dir: &Path) -> bool {
        let file = dir.join(SCENARIO_FILE);
        match std::fs::metadata(&file) {
            Ok(m) if m.is_file() => {
                self.found.insert(dir.to_path_buf());
                return true;
            }
            Ok(m) => self.problems.push(
                Diagnostic::new(
                    &file,
                    None,
                    format!("is {}, not a file", crate::files::describe(&m)),
                )
                .hint("a scenario's scenario.yaml is a YAML file"),
            ),
            Err(_) if std::fs::symlink_metadata(&file).is_ok() => self.problems.push(
                Diagnostic::new(&file, None, "is a link to nothing")
                    .hint("a scenario's scenario.yaml is a YAML file"),
            ),
            Err(_) => {}
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(SCENARIO_FILE), "probes: []\n").unwrap();
    }

    // Found by fuzzing: `s1 -> .` and `s2 -> .` never finished, a link to
    // /proc/self walked the whole filesystem, `self -> .` counted one
    // scenario 41 times.
    #[cfg(unix)]
    #[test]
    fn links_are_not_followed_in_circles_or_out_of_the_tree() {
        use std::os::unix::fs::symlink;
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        scenario(&root.join("a"));
        scenario(&top.path().join("outside"));
        symlink(".", root.join("s1")).unwrap();
        symlink(".", root.join("s2")).unwrap();
        symlink(".", root.join("a/self")).unwrap();
        symlink(top.path(), root.join("up")).unwrap();
        symlink("/", root.join("slash")).unwrap();
        let found = find(std::slice::from_ref(&root)).unwrap();
        assert_eq!(found, vec![root.join("a")]);
    }

    #[test]
    fn a_directory_named_twice_counts_once() {
        let top = tempfile::tempdir().unwrap();
        scenario(&top.path().join("a"));
        let found = find(&[
            top.path().to_path_buf(),
            top.path().join("a"),
            top.path().join("a/./"),
            top.path().join("a/scenario.yaml"),
        ])
        .unwrap();
        assert_eq!(found, vec![top.path().join("a")]);
    }

    #[test]
    fn a_scenario_yaml_that_is_not_a_file_is_named() {
        let top = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(top.path().join("a/scenario.yaml")).unwrap();
        let e = find(&[top.path().to_path_buf()]).unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].file, top.path().join("a/scenario.yaml"));
        assert_eq!(e.0[0].message, "is a directory, not a file");
    }

    #[test]
    fn a_path_that_is_not_a_directory_says_what_it_is() {
        let top = tempfile::tempdir().unwrap();
        let file = top.path().join("route.yaml");
        std::fs::write(&file, "a: 1\n").unwrap();
        let e = find(&[file.clone(), top.path().join("missing")]).unwrap_err();
        let messages: Vec<&str> = e.0.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "is a regular file, not a directory",
                "no such file or directory"
            ]
        );
        let e = find(&[top.path().to_path_buf()]).unwrap_err();
        assert!(e.0[0].message.contains("no scenario.yaml found"), "{e}");
    }
}
