//! A step list like kind's: a spinner while a step runs (on a terminal), then
//! one line per step with its time; plain lines elsewhere.

use std::future::Future;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

pub(crate) struct Steps {
    interactive: bool,
    quiet: bool,
}

impl Steps {
    pub fn new(quiet: bool) -> Self {
        let interactive =
            !quiet && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Steps { interactive, quiet }
    }

    /// Runs one step, showing its title while it runs and its outcome after.
    pub async fn run<T, E>(
        &self,
        title: &str,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let start = Instant::now();
        let spinner = self.interactive.then(|| {
            let pb = ProgressBar::new_spinner();
            pb.set_style(
                ProgressStyle::with_template(" {spinner} {msg}").expect("static template"),
            );
            pb.set_message(title.to_string());
            pb.enable_steady_tick(Duration::from_millis(100));
            pb
        });
        let result = work.await;
        let secs = start.elapsed().as_secs_f64();
        let line = match &result {
            Ok(_) => format!(" ✓ {title} ({secs:.1}s)"),
            // The error itself is reported once, by the caller.
            Err(_) => format!(" ✗ {title} ({secs:.1}s)"),
        };
        if let Some(pb) = spinner {
            pb.finish_and_clear();
        }
        if !self.quiet || result.is_err() {
            eprintln!("{line}");
        }
        result
    }

    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
}
