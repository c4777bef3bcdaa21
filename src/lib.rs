//! gwlab: a Gateway API lab and end-to-end test harness, with an embedded
//! reference gateway that implements Gateway API v1.2 HTTPRoute semantics.

pub mod api_error;
pub mod cli;
pub mod commands;
pub mod controller;
pub mod course;
pub mod diag;
pub mod doctor;
pub mod explain;
pub mod features;
pub mod files;
pub mod kinds;
pub mod kong;
pub mod lab;
pub mod manifest;
pub mod migrate;
pub mod model;
pub mod ownership;
pub mod probe;
pub mod report;
pub mod route_map;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod targets;
pub mod yaml;
pub mod yaml_path;

/// Exit codes: 0 success, 1 failed scenarios, 2 bad input or usage.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: i32 = 130;
}
