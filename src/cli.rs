//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gwlab",
    version,
    about = "Prove that Gateway API routes really work: scenarios of manifests, conditions and HTTP probes, run on gwlab's embedded reference gateway"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios: apply their manifests, wait for conditions, send probes.
    Test(TestArgs),
    /// Check scenarios and manifests without running anything.
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// gwlab's reference gateway on loopback: no cluster, no Docker.
    Embedded,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Scenario directories, or directories searched for scenario.yaml.
    #[arg(required = true, value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Where to run.
    #[arg(long, value_enum, default_value_t = TargetKind::Embedded, env = "GWLAB_TARGET")]
    pub target: TargetKind,
    /// Run only scenarios with one of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Count scenarios the target cannot run (missing features) as failed.
    #[arg(long)]
    pub require_features: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Print only failures and the summary; no progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario directories, or directories searched for scenario.yaml.
    #[arg(required = true, value_name = "DIR")]
    pub paths: Vec<PathBuf>,
}
