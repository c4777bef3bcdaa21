//! Running the `gwlab` binary from integration tests.

#![allow(dead_code)]

use std::process::{Command, Output};

/// An HTTPRoute `app` for app.example.com on the lab Gateway, to echo backend `app`.
pub const APP_ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app
spec:
  parentRefs:
    - {name: kong, namespace: kong-system}
  hostnames: [app.example.com]
  rules:
    - backendRefs:
        - {name: app, port: 8080}
";

/// `gwlab ARGS`, plain output, no environment defaults leaking in.
pub fn gwlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GWLAB_TARGET")
        .env_remove("GWLAB_NAME")
        .env_remove("GWLAB_MIRROR")
        .output()
        .expect("gwlab runs")
}

/// Standard output and standard error, together.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A scenario directory with the given files.
pub fn scenario_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

/// Asserts that `gwlab test` and `gwlab check` both reject the scenario made
/// of `files` as bad input (exit 2), saying each of `needles`.
pub fn assert_bad_input(files: &[(&str, &str)], needles: &[&str]) {
    let dir = scenario_dir(files);
    for cmd in ["test", "check"] {
        let o = gwlab(&[cmd, dir.path().to_str().unwrap()]);
        let all = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {all}");
        for n in needles {
            assert!(all.contains(n), "{cmd}: expected {n:?} in:\n{all}");
        }
    }
}

/// How many scenarios the repository's `scenarios/` holds.
pub fn repository_scenarios() -> usize {
    std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("scenario.yaml").is_file())
        .count()
}
