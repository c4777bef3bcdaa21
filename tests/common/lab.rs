//! The lab on the stand-in's envtest API server, as a user makes it: `gwlab
//! up --provider existing --addons crds,kong`, with gwlab's reference gateway
//! standing in for Kong. Brought up once per test binary (or on a server of
//! its own, [`own`]), in a gwlab home of its own.

#![allow(dead_code)]

use std::process::Output;
use std::sync::OnceLock;

use super::bin::text;
use super::home::{command, filled_cache};
use super::standin::StandIn;

pub struct Lab {
    pub home: tempfile::TempDir,
    pub standin: &'static StandIn,
}

impl Lab {
    pub fn gwlab<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        command(args, self.home.path())
            .output()
            .expect("gwlab runs")
    }

    pub fn kubeconfig(&self) -> &str {
        self.standin.env.kubeconfig.to_str().unwrap()
    }
}

static LAB: OnceLock<Option<Lab>> = OnceLock::new();

/// The lab on the shared API server, brought up once per test binary.
pub fn lab() -> Option<&'static Lab> {
    let standin = super::standin::get()?;
    LAB.get_or_init(|| up(standin)).as_ref()
}

/// A lab of its own, on an API server of its own: for tests that break the
/// lab's Kong objects, which the shared lab's tests must not see.
pub fn own() -> Option<Lab> {
    let env = super::envtest::another()?;
    let standin: &'static StandIn = Box::leak(Box::new(super::standin::on(env)));
    up(standin)
}

/// A lab of its own on an API server started with `flags` (flow control
/// made tight, say).
pub fn own_with(flags: &[&str]) -> Option<Lab> {
    let env = super::envtest::another_with(flags)?;
    let standin: &'static StandIn = Box::leak(Box::new(super::standin::on(env)));
    up(standin)
}

/// A lab of its own whose stand-in answers as `implementation` (a Kong of
/// that version, as `gwlab test --as` models it).
pub fn own_as(implementation: gwlab::implementations::Implementation) -> Option<Lab> {
    let env = super::envtest::another()?;
    let standin: &'static StandIn = Box::leak(Box::new(super::standin::on_as(env, implementation)));
    up(standin)
}

/// `gwlab up --provider existing --addons crds,kong` on the stand-in's server.
pub fn up_on(standin: &'static StandIn) -> Option<Lab> {
    up(standin)
}

fn up(standin: &'static StandIn) -> Option<Lab> {
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
}
