//! gwlab: a Gateway API lab and end-to-end test harness, with an embedded
//! reference gateway that implements Gateway API v1.2 HTTPRoute semantics.

// std's print macros panic when a write fails, as it does once the reader of
// a pipe has gone (`gwlab lab list | head -1`). These, defined before every
// module and so used by all of them, drop the output instead: a closed pipe
// ends what is shown, not the command (which still cleans up and exits with
// its own code).
macro_rules! println {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! eprintln {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub use gwlab_core::{
    diag, duration, explain, features, files, gateway_api, implementations, kong, manifest,
    migrate, model, route_map, scenario, stats, xml, yaml,
};

mod causes;
pub mod cli;
pub mod commands;
pub mod kube_api;

pub(crate) mod course;
pub mod doctor;
pub mod kinds;
pub mod lab;
pub mod ownership;
pub(crate) mod probe;
pub mod report;
pub mod run;
pub mod targets;

/// Exit codes: 0 success, 1 failed scenarios, 2 bad input or usage.
pub mod exit {
    pub const OK: i32 = 0;
    pub(crate) const FAILED: i32 = 1;
    pub(crate) const BAD_INPUT: i32 = 2;
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    pub(crate) const INTERRUPTED: i32 = 130;
}
