//! The cluster target end to end on a real API server: `gwlab up --provider
//! existing --addons crds,kong` makes the lab with gwlab's reference gateway
//! standing in for Kong (statuses and traffic both computed from what the API
//! server holds), then `gwlab test` runs the repository's scenarios on it.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use common::bin::text;
use common::home::{command, filled_cache};
use common::standin::StandIn;

struct Lab {
    home: tempfile::TempDir,
    standin: &'static StandIn,
}

impl Lab {
    fn gwlab(&self, args: &[&str]) -> Output {
        command(args, self.home.path())
            .output()
            .expect("gwlab runs")
    }

    fn kubeconfig(&self) -> &str {
        self.standin.env.kubeconfig.to_str().unwrap()
    }
}

static LAB: OnceLock<Option<Lab>> = OnceLock::new();

/// The lab, brought up once per test binary.
fn lab() -> Option<&'static Lab> {
    let standin = common::standin::get()?;
    LAB.get_or_init(|| {
        let home = tempfile::tempdir().unwrap();
        if !filled_cache(&home.path().join("cache")) {
            return None;
        }
        let lab = Lab { home, standin };
        let t0 = std::time::Instant::now();
        let o = lab.gwlab(&[
            "up",
            "--provider",
            "existing",
            "--kubeconfig",
            lab.kubeconfig(),
            "--addons",
            "crds,kong",
            "--timeout",
            "120s",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        eprintln!(
            "lab up on the stand-in in {:.1}s",
            t0.elapsed().as_secs_f64()
        );
        Some(lab)
    })
    .as_ref()
}

fn scenarios() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .display()
        .to_string()
}

#[test]
fn every_scenario_runs_on_the_lab_and_leaves_nothing() {
    let Some(lab) = lab() else { return };
    let report = lab.home.path().join("report.json");
    let bundles = lab.home.path().join("bundles");
    let gateway = lab.standin.gateway_address();
    let o = lab.gwlab(&[
        "test",
        &scenarios(),
        "--gateway-address",
        &gateway,
        "--json",
        report.to_str().unwrap(),
        "--diagnostics",
        bundles.to_str().unwrap(),
    ]);
    let t = text(&o);
    eprintln!("{t}");
    assert_eq!(o.status.code(), Some(0), "{t}");
}
