//! A private gwlab home for a test: its own state, cache and HOME, and a cache
//! holding the pinned upstream files (from `../shared/upstream` beside the
//! repository), so that `gwlab up` fetches nothing.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use gwlab::lab::lock::Lock;

pub use gwlab_standin::envtest::upstream;

/// Fills `root` (an XDG cache directory) with every pinned file; false, after
/// saying why, when one is missing. Several releases hold files of the same
/// name: the one with the lock's sum is taken.
pub fn filled_cache(root: &Path) -> bool {
    let lock = Lock::builtin();
    for f in &lock.files {
        let Some(src) = std::fs::read_dir(upstream())
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .map(|d| d.path().join(f.file_name()))
            .filter(|p| p.is_file())
            .find(|p| {
                std::fs::read(p).is_ok_and(|b| gwlab::lab::cache::sha256_hex(&b) == f.sha256)
            })
        else {
            super::skip::not_run(&format!(
                "{} is not in ../shared/upstream beside the checkout",
                f.file_name()
            ));
            return false;
        };
        let dest = root
            .join("gwlab/files")
            .join(&f.repo)
            .join(&f.tag)
            .join(&f.path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(src, dest).unwrap();
    }
    true
}

/// `gwlab ARGS` living in `home` (state, cache, HOME), plain output, no
/// environment defaults leaking in.
pub fn command<S: AsRef<std::ffi::OsStr>>(args: &[S], home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gwlab"));
    c.args(args)
        .env("NO_COLOR", "1")
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("GWLAB_TARGET")
        .env_remove("GWLAB_NAME")
        .env_remove("GWLAB_MIRROR")
        .env_remove("KUBECONFIG");
    c
}
