//! Tests that cannot run here (no API server binaries, no Docker, no
//! Chromium) say so where everyone sees it: one line per test, written
//! straight to the process's standard error, which the test harness does not
//! capture (it captures only the `print!` family), so a passing run still
//! shows, and `grep -c '^not run:'` counts, what it did not run.
//!
//! With `GWLAB_REQUIRE_ALL=1` (as `.ci/run` sets, having installed every
//! part) a test that would not run fails instead: CI never goes green on a
//! smaller suite.

#![allow(dead_code)]

use std::io::Write;

/// The variable that turns a test that cannot run into a failure.
pub const REQUIRE_ALL: &str = "GWLAB_REQUIRE_ALL";

/// Reports the calling test as not run, and why (what to install or set).
/// Panics instead when every part is required.
pub fn not_run(why: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    if std::env::var_os(REQUIRE_ALL).is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{REQUIRE_ALL} is set, but {test} cannot run: {why}");
    }
    let _ = writeln!(std::io::stderr().lock(), "not run: {test}: {why}");
}
