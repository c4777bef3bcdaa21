//! `gwlab init [DIR]`: writes a commented starter scenario (a scenario.yaml
//! showing each kind of expectation, and the routes it tests) that passes on
//! the embedded gateway as written. Never overwrites a file.

use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::exit;

/// The starter's files: name and content.
const FILES: &[(&str, &str)] = &[
    ("scenario.yaml", include_str!("scenario.yaml")),
    ("routes.yaml", include_str!("routes.yaml")),
];

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A starter file is there already.
    #[error("{} exists already; gwlab init never overwrites a file (choose another directory: `gwlab init DIR`)", .0.display())]
    Exists(PathBuf),
    /// The directory or a file could not be written.
    #[error("cannot create {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub fn run(args: &InitArgs) -> i32 {
    match write(&args.dir) {
        Ok(()) => {
            let dir = args.dir.display();
            println!("wrote {dir}/scenario.yaml and {dir}/routes.yaml");
            println!("next: gwlab test {dir}");
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}

/// Writes the starter into `dir` (created if missing), or nothing when any
/// of its files exists.
pub fn write(dir: &Path) -> Result<(), InitError> {
    if let Some((name, _)) = FILES.iter().find(|(n, _)| dir.join(n).exists()) {
        return Err(InitError::Exists(dir.join(name)));
    }
    std::fs::create_dir_all(dir).map_err(|source| InitError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    for (name, text) in FILES {
        let path = dir.join(name);
        let text = text.replace(
            "name: first-scenario\n",
            &format!("name: {}\n", scenario_name(dir)),
        );
        std::fs::write(&path, text).map_err(|source| InitError::Write { path, source })?;
    }
    Ok(())
}

/// The starter's scenario name: its directory's, so that two starters in
/// one run do not clash (`first-scenario` for a directory without a usable
/// name).
fn scenario_name(dir: &Path) -> String {
    let named = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let slug = gwlab_core::slug::slug(&named);
    if slug.is_empty() {
        "first-scenario".into()
    } else {
        slug
    }
}
