//! The arguments of the lab's commands: up, down, status, pull, lock.

use std::path::PathBuf;

use super::{OutputFormat, parse_duration};

pub use crate::lab::providers::ProviderKind;

/// The providers that run a node image (an existing cluster has none to pull).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NodeProvider {
    /// k3s in Docker.
    K3s,
    /// kind.
    Kind,
}

impl From<NodeProvider> for ProviderKind {
    fn from(p: NodeProvider) -> ProviderKind {
        match p {
            NodeProvider::K3s => ProviderKind::K3s,
            NodeProvider::Kind => ProviderKind::Kind,
        }
    }
}

/// Which cluster, as kubectl chooses it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// A kubeconfig instead of the lab's (else KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context.
    #[arg(long)]
    pub context: Option<String>,
}

impl ClusterArgs {
    /// Whether the user named a cluster explicitly.
    pub fn given(&self) -> bool {
        self.kubeconfig.is_some() || self.context.is_some()
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub lab: LabArgs,
    /// For a lab on an existing cluster: reach it through this kubeconfig or
    /// context instead of the one `up` recorded.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// On an existing cluster, also delete the Gateway API and Kong CRDs gwlab
    /// installed (and with them every object of their kinds).
    #[arg(long)]
    pub crds: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LabArgs {
    /// The lab's name; several labs can live side by side.
    #[arg(long, default_value = "gwlab", env = "GWLAB_NAME")]
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub lab: LabArgs,
    /// Where the cluster comes from.
    #[arg(long, value_enum, default_value_t = ProviderKind::K3s)]
    pub provider: ProviderKind,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Addons to install, comma-separated: crds, metallb, kong (default: all;
    /// on an existing cluster all but metallb).
    #[arg(long, value_name = "LIST")]
    pub addons: Option<String>,
    /// Apply everything and return without waiting for readiness.
    #[arg(long)]
    pub no_wait: bool,
    /// Replace Gateway API CRDs of another bundle version or channel.
    #[arg(long)]
    pub force: bool,
    /// The Gateway API release whose standard-channel CRDs the crds addon
    /// installs: v1.2.1 (the default), v1.3.0, v1.4.1, v1.5.1 or v1.6.1.
    #[arg(long = "gateway-api", value_name = "VERSION", default_value = "v1.2.1", value_parser = crate::cli::parse_release)]
    pub gateway_api: crate::gateway_api::Release,
    /// Take over objects gwlab would write that exist and belong to someone
    /// else (it names each and its owner); without it, `up` changes nothing
    /// of others and stops.
    #[arg(long)]
    pub adopt: bool,
    /// Fetch the pinned files from a mirror keeping the upstream layout
    /// (`<mirror>/<owner>/<repo>/<tag>/<path>`).
    #[arg(long, value_name = "URL", env = "GWLAB_MIRROR")]
    pub mirror: Option<String>,
    /// Also merge the lab's kubeconfig into your kubeconfig.
    #[arg(long)]
    pub merge_kubeconfig: bool,
    /// A lock file of your own instead of the built-in one (another
    /// registry, a newer pin under test); checked the same way.
    #[arg(long, value_name = "FILE", env = "GWLAB_LOCK")]
    pub lock: Option<PathBuf>,
    /// Host port (127.0.0.1) for the Gateway's port 80 (0: a free port).
    #[arg(long, default_value_t = 0)]
    pub http_port: u16,
    /// Host port (127.0.0.1) for the Gateway's port 443 (0: a free port).
    #[arg(long, default_value_t = 0)]
    pub https_port: u16,
    /// How long each readiness wait may take.
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Print only failures.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub lab: LabArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Which provider's node image to pull too.
    #[arg(long, value_enum, default_value_t = NodeProvider::K3s)]
    pub provider: NodeProvider,
    /// Fetch the pinned files from a mirror keeping the upstream layout
    /// (`<mirror>/<owner>/<repo>/<tag>/<path>`; k3s's release assets at
    /// `<mirror>/k3s-io/k3s/releases/download/<tag>/<asset>`).
    #[arg(long, value_name = "URL", env = "GWLAB_MIRROR")]
    pub mirror: Option<String>,
    /// A lock file of your own instead of the built-in one; checked the same way.
    #[arg(long, value_name = "FILE", env = "GWLAB_LOCK")]
    pub lock: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct LockArgs {
    #[command(subcommand)]
    pub command: LockCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LockCommand {
    /// Ask each registry what every image's tag points at now (its index
    /// digest), and download every pinned file again to check its sha256.
    /// Exit 0 when the lock matches, 1 when something moved or failed.
    Resolve(ResolveArgs),
}

#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// The lock file to check (default: the one built into gwlab).
    #[arg(long, value_name = "FILE", env = "GWLAB_LOCK")]
    pub lock: Option<PathBuf>,
    /// Write the digests the registries serve now into the --lock file
    /// (its other lines are kept as they are).
    #[arg(long, requires = "lock")]
    pub write: bool,
    /// Fetch the pinned files from a mirror keeping the upstream layout.
    #[arg(long, value_name = "URL", env = "GWLAB_MIRROR")]
    pub mirror: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}
