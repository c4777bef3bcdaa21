//! Command-line arguments: the commands, and the arguments of those that
//! run scenarios; the lab's in [`lab`], parsed values in [`values`].

mod lab;
mod values;

pub use lab::*;
pub use values::{AsArg, AsError, ParallelError};
pub(crate) use values::{parse_as, parse_as_one, parse_duration, parse_parallel, parse_release};

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gwlab",
    version,
    about = "Prove that Gateway API routes really work: scenarios of manifests, conditions and HTTP probes, on gwlab's embedded reference gateway or on a real cluster (the lab of `gwlab up`, or any kubeconfig)",
    after_help = "Examples:
  gwlab init my-route             write a starter scenario into my-route/
  gwlab test my-route             run it on the embedded gateway (no cluster needed)
  gwlab test scenarios/ --junit junit.xml --json report.json
  gwlab up && gwlab test scenarios/   the same scenarios on a k3s lab with Kong

Exit codes: 0 passed, 1 a scenario failed, 2 bad input or usage, 130 interrupted."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios: apply their manifests, wait for conditions, send probes.
    #[command(after_help = "Examples:
  gwlab test scenarios/                       every scenario below scenarios/
  gwlab test scenarios/redirect --tag seed    one directory, scenarios tagged seed
  gwlab test scenarios/ --junit junit.xml --json report.json
  gwlab test scenarios/ --html report.html    one page to open in a browser
  gwlab test scenarios/ --target cluster --parallel 4
  gwlab test scenarios/ --kubeconfig ~/.kube/config --context staging --gateway-address 127.0.0.1:8080,8443")]
    Test(TestArgs),
    /// Render a saved JSON report (`gwlab test --json`) as an HTML page.
    #[command(after_help = "Examples:
  gwlab report report.json --html report.html
  gwlab test scenarios/ --json report.json; gwlab report report.json --html report.html")]
    Report(ReportArgs),
    /// Check scenarios and manifests without running anything.
    #[command(after_help = "Examples:
  gwlab check scenarios/          every scenario below scenarios/; exit 2 on any problem
  gwlab check my-route            one scenario directory")]
    Check(CheckArgs),
    /// Write a commented starter scenario that passes on the embedded gateway.
    #[command(after_help = "Examples:
  gwlab init                      into the current directory
  gwlab init my-route && gwlab test my-route")]
    Init(InitArgs),
    /// Explain how the embedded gateway routes one request for a scenario, or draw its route map.
    #[command(after_help = "Examples:
  gwlab explain scenarios/canary --url http://canary.example.com/
  gwlab explain scenarios/header-routing --url http://app.example.com/ -H 'X-Version: v2'
  gwlab explain scenarios/cross-namespace --url http://portal.example.com/api --step 2 -o json
  gwlab explain scenarios/canary --graph svg > canary.svg        the route map
  gwlab explain scenarios/precedence --graph mermaid             for Markdown")]
    Explain(ExplainArgs),
    /// Serve a scenario on the embedded gateway in the foreground, to try by hand.
    #[command(after_help = "Examples:
  gwlab serve scenarios/redirect                  port 80 listeners on 127.0.0.1:8080, 443 on :8443
  gwlab serve scenarios/cross-namespace --step 2 --port 9080")]
    Serve(ServeArgs),
    /// Convert Ingress objects (Kong and ingress-nginx annotations) to HTTPRoutes.
    #[command(after_help = "Examples:
  gwlab migrate ingress.yaml                      print the HTTPRoutes
  gwlab migrate manifests/ -o routes/             one file per Ingress
  gwlab migrate examples/seed-migration/before --scenario /tmp/seed && gwlab test /tmp/seed")]
    Migrate(MigrateArgs),
    /// Create the lab: a cluster, the Gateway API CRDs, MetalLB and Kong.
    #[command(after_help = "Examples:
  gwlab up                                        k3s in Docker, with every addon
  gwlab up --provider kind --name workshop
  gwlab up --provider existing --context my-cluster --addons crds,kong")]
    Up(UpArgs),
    /// Delete the lab's cluster, network and containers (only what gwlab created).
    #[command(after_help = "Examples:
  gwlab down
  gwlab down --name workshop --crds")]
    Down(DownArgs),
    /// Show the lab: provider, addons, the Gateway and how probes reach it.
    #[command(after_help = "Examples:
  gwlab status
  gwlab status --name workshop -o json")]
    Status(StatusArgs),
    /// Fill the download cache and pull every image, for an offline `gwlab up`.
    #[command(after_help = "Examples:
  gwlab pull
  gwlab pull --provider kind --mirror https://mirror.example.com/github")]
    Pull(PullArgs),
    /// Maintainers: check the lock against the registries and upstream files.
    #[command(after_help = "Examples:
  gwlab lock resolve                                   what every tag points at now, and every file's sum
  gwlab lock resolve --lock manifests/lock.yaml --write   pin the digests the registries serve now")]
    Lock(LockArgs),
    /// Delete everything of one test run, by its run label.
    #[command(after_help = "Examples:
  gwlab clean --run 4kq0vz        the run id printed on the first line of `gwlab test`")]
    Clean(CleanArgs),
    /// Find and explain what keeps the lab's Gateway from working.
    #[command(after_help = "Examples:
  gwlab doctor
  gwlab doctor --kubeconfig ~/.kube/config --context staging -o json")]
    Doctor(DoctorArgs),
    /// Workshop labs: guided exercises, each checked by a scenario on your files.
    #[command(after_help = "Examples:
  gwlab lab list
  gwlab lab start kong-to-gateway-api --dir ~/workshop
  gwlab lab check ~/workshop --watch
  gwlab lab hint ~/workshop
  gwlab lab verify labs/")]
    Lab(crate::commands::lab::CourseArgs),
    /// Print the shell completion script for bash, zsh, fish or powershell.
    #[command(after_help = "Examples:
  gwlab completions bash > ~/.local/share/bash-completion/completions/gwlab
  gwlab completions zsh > \"${fpath[1]}/_gwlab\"
  gwlab completions fish > ~/.config/fish/completions/gwlab.fish
  gwlab completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write scenario.yaml and routes.yaml (created if missing).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub lab: LabArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The provider whose needs to check (default: the lab's, else k3s).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderKind>,
    /// Judge a recorded cluster state instead of a live cluster: a directory
    /// of `kubectl get ... -o yaml` output (and controller logs as
    /// `<pod>.log`), or a gwlab diagnostics bundle. The machine is not checked.
    #[arg(long, value_name = "DIR")]
    pub from: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// The run id that `gwlab test` printed.
    #[arg(long)]
    pub run: String,
    #[command(flatten)]
    pub lab: LabArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Manifest files, or directories of them (*.yaml, *.yml), holding Ingress
    /// objects and the KongPlugins and Services they use.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Write one `<ingress>.yaml` per Ingress into this directory instead of printing.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Also write a gwlab scenario (routes.yaml and scenario.yaml) into this
    /// directory, whose probes state what the original Ingress did.
    #[arg(long, value_name = "DIR")]
    pub scenario: Option<PathBuf>,
    /// Run the scenario on the lab against the original Ingress objects (with
    /// their KongPlugins) and against the new routes, and print per probe
    /// what each answered. Needs the cluster target: only Kong serves the original.
    #[arg(long, requires = "scenario")]
    pub compare: bool,
    /// Where --compare runs and how its probes reach the Gateway: on a
    /// cluster Kong serves the original; without one, give --as.
    #[command(flatten)]
    pub on: TargetArgs,
    /// With --compare and no cluster: a prediction on the embedded gateway,
    /// the original's answers as gwlab models its controller (the scenario's
    /// expectations) beside the new routes answered as IMPL (`kong-3.9`,
    /// `kong-3.8`, `spec`).
    #[arg(long = "as", value_name = "IMPL", value_parser = parse_as_one, requires = "compare")]
    pub implementation: Option<AsArg>,
    /// With --compare: how long each probe waits for the answer the original
    /// is expected to give before what it got is recorded (raise it where the
    /// gateway takes long to apply a change).
    #[arg(
        long,
        default_value = "10s",
        value_name = "DURATION",
        value_parser = parse_duration,
        requires = "compare"
    )]
    pub probe_timeout: std::time::Duration,
    /// Write the routes for Gateway API VERSION (v1.2.1 by default, to
    /// v1.6.1): from v1.5.1 a 303, 307 or 308 redirect keeps its code, and
    /// the scenario written says `gatewayAPI: VERSION`.
    #[arg(long = "gateway-api", value_name = "VERSION", value_parser = parse_release)]
    pub gateway_api: Option<crate::gateway_api::Release>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The scenario directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The request URL, as a probe would write it.
    #[arg(long, required_unless_present_any = ["graph", "implementation"])]
    pub url: Option<String>,
    /// The request method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A request header, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The Gateway (`namespace/name`, or a name in the scenario namespace); by
    /// default the scenario's only Gateway, else the lab Gateway.
    #[arg(long)]
    pub gateway: Option<String>,
    /// Explain the state after this step (1-based) of a scenario with steps;
    /// by default the state before the first step.
    #[arg(long, value_name = "N")]
    pub step: Option<usize>,
    /// Route as this implementation: `spec` (the default), `kong-3.8` or
    /// `kong-3.9`, naming where it departs from the spec; `--as help` lists them.
    #[arg(long = "as", value_name = "IMPL", value_parser = parse_as_one)]
    pub implementation: Option<AsArg>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Read the scenario's manifests as Gateway API VERSION (v1.2.1 to
    /// v1.6.1), whatever its `gatewayAPI:` says.
    #[arg(long = "gateway-api", value_name = "VERSION", value_parser = parse_release)]
    pub gateway_api: Option<crate::gateway_api::Release>,
    /// Print the scenario's route map instead (Gateway, listeners, routes,
    /// rules, backends; routes not attached apart): no request needed.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["url", "method", "headers", "gateway", "output"])]
    pub graph: Option<GraphFormat>,
}

/// How `explain --graph` draws the route map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// One self-contained SVG image.
    Svg,
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart, as GitHub renders in Markdown.
    Mermaid,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The scenario directory.
    #[arg(
        value_name = "DIR",
        required_unless_present = "implementation",
        default_value = "."
    )]
    pub dir: PathBuf,
    /// Answer as this implementation: `spec` (the default), `kong-3.8` or
    /// `kong-3.9`; `--as help` lists them with their deviations.
    #[arg(long = "as", value_name = "IMPL", value_parser = parse_as_one)]
    pub implementation: Option<AsArg>,
    /// Loopback port for Gateway listeners on port 80 (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Loopback port for Gateway listeners on port 443 (0: any free port).
    #[arg(long, default_value_t = 8443)]
    pub https_port: u16,
    /// Serve the state after this step (1-based) of a scenario with steps.
    #[arg(long, value_name = "N")]
    pub step: Option<usize>,
    /// Read the scenario's manifests as Gateway API VERSION (v1.2.1 to
    /// v1.6.1), whatever its `gatewayAPI:` says.
    #[arg(long = "gateway-api", value_name = "VERSION", value_parser = parse_release)]
    pub gateway_api: Option<crate::gateway_api::Release>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// gwlab's reference gateway on loopback: no cluster, no Docker.
    Embedded,
    /// The cluster of `gwlab up` (or --kubeconfig/--context).
    Cluster,
}

/// Where scenarios run and how probes reach the Gateway: the same flags for
/// `gwlab test`, `gwlab migrate --compare` and the lab commands.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// Where to run: `embedded` (gwlab's reference gateway) or `cluster` (the
    /// lab of `gwlab up`, or --kubeconfig/--context). See the commands' help
    /// for the default.
    #[arg(long, value_enum, env = "GWLAB_TARGET")]
    pub target: Option<TargetKind>,
    /// The lab (of `gwlab up`) whose cluster is used.
    #[arg(long, default_value = "gwlab", env = "GWLAB_NAME")]
    pub name: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Send probes to HOST:PORT (HTTP) and HTTPS_PORT instead of the
    /// Gateway's address, e.g. a `kubectl port-forward`.
    #[arg(long, value_name = "HOST:PORT[,HTTPS_PORT]")]
    pub gateway_address: Option<crate::targets::cluster::GatewayAddress>,
}

impl TargetArgs {
    /// The target the user named, if any, and how: `--target` (or
    /// `GWLAB_TARGET`), then `--kubeconfig`/`--context`.
    pub fn asked(&self) -> Option<(TargetKind, String)> {
        if let Some(t) = self.target {
            let from_env = std::env::var("GWLAB_TARGET").is_ok_and(|v| !v.is_empty());
            return Some((t, if from_env { "GWLAB_TARGET" } else { "--target" }.into()));
        }
        self.cluster
            .given()
            .then(|| (TargetKind::Cluster, "--kubeconfig/--context".into()))
    }

    /// The target, resolved in one order for every command: what was asked
    /// ([`asked`](Self::asked)), then (with `lab_up`) the lab of `--name`
    /// when `gwlab up` made it, else the embedded gateway; with why.
    pub(crate) fn choose(&self, lab_up: bool) -> (TargetKind, String) {
        if let Some(asked) = self.asked() {
            return asked;
        }
        if lab_up && crate::lab::state::LabState::path(&self.name).exists() {
            return (
                TargetKind::Cluster,
                format!("lab {}, from `gwlab up`", self.name),
            );
        }
        (TargetKind::Embedded, "no lab is up".into())
    }
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Scenario directories, or directories searched for scenario.yaml.
    #[arg(required_unless_present = "implementations", value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Where to run (default: `cluster` when --kubeconfig/--context names one
    /// or `gwlab up` made the lab of --name, else `embedded`), and how probes
    /// reach the Gateway.
    #[command(flatten)]
    pub on: TargetArgs,
    /// Read each scenario's manifests as Gateway API VERSION (v1.2.1 to
    /// v1.6.1), whatever their `gatewayAPI:` says.
    #[arg(long = "gateway-api", value_name = "VERSION", value_parser = parse_release)]
    pub gateway_api: Option<crate::gateway_api::Release>,
    /// Run up to N scenarios side by side (never two that could see each other's traffic).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = parse_parallel)]
    pub parallel: usize,
    /// Run a deterministic share of the scenarios: I of N (1-based), for CI sharding.
    #[arg(long, value_name = "I/N", value_parser = crate::run::plan::parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Leave every scenario's objects in place.
    #[arg(long)]
    pub keep: bool,
    /// Where diagnostics bundles of failed scenarios go (cluster target).
    #[arg(long, default_value = "gwlab-diagnostics", value_name = "DIR")]
    pub diagnostics: PathBuf,
    /// Run only scenarios with one of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// On the embedded gateway, answer as this implementation (`spec`, the
    /// default; `kong-3.8`; `kong-3.9`), naming every known deviation from
    /// the spec; a list (`spec,kong-3.8,kong-3.9`) runs every scenario under
    /// each and prints a portability table. `--as help` lists them.
    #[arg(long = "as", value_name = "IMPL[,IMPL...]", value_parser = parse_as)]
    pub implementations: Option<AsArg>,
    /// Count scenarios the target cannot run (missing features) as failed.
    #[arg(long)]
    pub require_features: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report (no scripts, nothing fetched).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print only failures and the summary; no progress display.
    #[arg(long, short)]
    pub quiet: bool,
    /// Set by `gwlab migrate --compare`, whose stdout is its table: the run's
    /// lines go to stderr, and it writes no GitHub annotations (a difference
    /// there is the comparison's finding, not a failed check).
    #[arg(skip)]
    pub nested: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A JSON report written by `gwlab test --json`.
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    /// Where to write the HTML page.
    #[arg(long, value_name = "FILE", required = true)]
    pub html: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Scenario directories, or directories searched for scenario.yaml.
    #[arg(required = true, value_name = "DIR")]
    pub paths: Vec<PathBuf>,
    /// Read each scenario's manifests as Gateway API VERSION (v1.2.1 to
    /// v1.6.1), whatever their `gatewayAPI:` says.
    #[arg(long = "gateway-api", value_name = "VERSION", value_parser = parse_release)]
    pub gateway_api: Option<crate::gateway_api::Release>,
}
