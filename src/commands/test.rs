//! `gwlab test`: load every scenario first (bad input stops the run before
//! anything is applied), then run them one by one and write the reports.

use std::sync::Arc;
use std::time::Instant;

use crate::cli::{TargetKind, TestArgs};
use crate::embedded::EmbeddedTarget;
use crate::embedded::tls::LabCa;
use crate::exit;
use crate::report::human::Console;
use crate::report::{RunReport, junit};
use crate::run::{self, Runner};
use crate::scenario::{self, Scenario};

pub async fn run(args: &TestArgs) -> i32 {
    let scenarios = match load_all(args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let console = Console::new(args.quiet);
    let run_id = run::new_run_id();
    match args.target {
        TargetKind::Embedded => console.line(&format!(
            "target: embedded (gwlab's reference gateway, Gateway API v1.2 semantics, on 127.0.0.1), run {run_id}, {} scenarios",
            scenarios.len()
        )),
    }
    let start = Instant::now();
    let ca = match LabCa::new() {
        Ok(ca) => Arc::new(ca),
        Err(e) => {
            eprintln!("error: cannot make the lab certificate authority: {e}");
            return exit::FAILED;
        }
    };
    let runner = Runner {
        run_id: run_id.clone(),
        console: &console,
        retry_probes: false,
    };
    let mut reports = Vec::new();
    for s in &scenarios {
        console.progress(format!("{}: starting", s.name));
        // A fresh gateway per scenario: nothing leaks from one to the next.
        let mut target = match EmbeddedTarget::start(ca.clone(), Default::default()).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::FAILED;
            }
        };
        let report = runner.run_scenario(&mut target, s).await;
        console.scenario(&report);
        reports.push(report);
    }
    let report = RunReport {
        target: "embedded".into(),
        run_id,
        scenarios: reports,
        duration: start.elapsed(),
        require_features: args.require_features,
    };
    console.finish(&report);
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, junit::render(&report))
    {
        eprintln!(
            "error: cannot write the JUnit report to {}: {e}",
            path.display()
        );
        return exit::BAD_INPUT;
    }
    if let Some(path) = &args.json
        && let Err(e) = std::fs::write(path, crate::report::json::render(&report))
    {
        eprintln!(
            "error: cannot write the JSON report to {}: {e}",
            path.display()
        );
        return exit::BAD_INPUT;
    }
    report.exit_code()
}

fn load_all(args: &TestArgs) -> Result<Vec<Scenario>, i32> {
    let dirs = scenario::find(&args.paths).map_err(|e| {
        eprintln!("{e}");
        exit::BAD_INPUT
    })?;
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        match scenario::load(&dir) {
            Ok(s) => scenarios.push(s),
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "error: {} scenario(s) have problems; nothing was run (fix them, or see `gwlab check`)",
            problems.len()
        );
        return Err(exit::BAD_INPUT);
    }
    if !args.tags.is_empty() {
        scenarios.retain(|s| s.tags.iter().any(|t| args.tags.contains(t)));
        if scenarios.is_empty() {
            eprintln!(
                "error: no scenario has any of the tags {}",
                args.tags.join(", ")
            );
            return Err(exit::BAD_INPUT);
        }
    }
    Ok(scenarios)
}
