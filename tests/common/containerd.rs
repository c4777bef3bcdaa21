//! A private containerd (this machine's, from Debian's package) with its own
//! root, state and socket, for importing the image archives `gwlab pull`
//! writes for k3s the way k3s's containerd imports them. A plain process,
//! as the API server is: it is what is under test, not a service gwlab
//! talks to. Skips, saying why, where containerd, ctr or root are missing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

pub struct Containerd {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn found(binary: &str) -> bool {
    Command::new(binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl Containerd {
    pub fn start() -> Option<Containerd> {
        if !found("containerd") || !found("ctr") {
            super::skip::not_run(
                "no containerd and ctr for the import check (apt-get install containerd)",
            );
            return None;
        }
        // SAFETY: getuid has no preconditions.
        if unsafe { libc_getuid() } != 0 {
            super::skip::not_run("the containerd import check needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = |s: &str| dir.path().join(s).display().to_string();
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "version = 2\nroot = \"{}\"\nstate = \"{}\"\n[grpc]\n  address = \"{}\"\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  disable = true\n",
                p("root"),
                p("state"),
                p("c.sock")
            ),
        )
        .unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .stdout(std::fs::File::create(dir.path().join("log")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("err")).unwrap())
            .spawn()
            .unwrap();
        let c = Containerd { child, dir };
        let start = Instant::now();
        while !c.ctr(&["version"]).status.success() {
            if start.elapsed() > Duration::from_secs(20) {
                super::skip::not_run(&format!(
                    "containerd did not answer: {}",
                    std::fs::read_to_string(c.dir.path().join("err")).unwrap_or_default()
                ));
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(c)
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("c.sock")
    }

    /// `ctr` on this containerd, in the namespace `gwlab-test`.
    pub fn ctr(&self, args: &[&str]) -> Output {
        Command::new("ctr")
            .arg("--address")
            .arg(self.socket())
            .args(["--namespace", "gwlab-test"])
            .args(args)
            .output()
            .unwrap()
    }

    /// Imports an archive for this machine's platform and unpacks it.
    pub fn import(&self, archive: &Path) -> Output {
        self.ctr(&[
            "images",
            "import",
            "--snapshotter",
            "native",
            archive.to_str().unwrap(),
        ])
    }
}

unsafe extern "C" {
    #[link_name = "getuid"]
    fn libc_getuid() -> u32;
}
