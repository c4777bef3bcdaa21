//! `gwlab-standin`: gwlab's reference gateway as the Gateway controller of
//! the cluster a kubeconfig names, until Ctrl-C. It prints where its data
//! plane listens, in the form `gwlab test --gateway-address` takes, so that
//! any scenario directory can be run through the cluster target on an API
//! server with no Gateway controller (envtest):
//!
//! ```text
//! gwlab-standin --kubeconfig envtest.kubeconfig --kubelet &
//! gwlab up --provider existing --kubeconfig envtest.kubeconfig --addons crds,kong
//! gwlab test scenarios/ --kubeconfig envtest.kubeconfig --gateway-address 127.0.0.1:PORT,PORT
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str =
    "usage: gwlab-standin --kubeconfig FILE [--context NAME] [--kubelet] [--bind ADDRESS] [--as IMPL] [--isolated]

  --kubeconfig FILE  the cluster to stand in for Kong on (else KUBECONFIG)
  --context NAME     a context of that kubeconfig
  --kubelet          also bind Pods to a stand-in node and report them ready
                     (for an API server without nodes, such as envtest)
  --bind ADDRESS     where the data plane listens (default 127.0.0.1)
  --as IMPL          answer as this implementation: spec (the default),
                     kong-3.8 or kong-3.9 (as `gwlab test --as` does)
  --isolated         serve each Gateway on a loopback address of its own
                     (127.0.0.2, ...) on its listeners' ports, as the spec
                     isolates Gateways (ports below 1024 need root or
                     CAP_NET_BIND_SERVICE); by default every Gateway is
                     served from one proxy, as Kong serves them";

struct Args {
    kubeconfig: PathBuf,
    context: Option<String>,
    kubelet: bool,
    bind: std::net::IpAddr,
    implementation: gwlab::implementations::Implementation,
    isolated: bool,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut kubeconfig = std::env::var_os("KUBECONFIG").map(PathBuf::from);
    let mut context = None;
    let mut kubelet = false;
    let mut bind: std::net::IpAddr = [127, 0, 0, 1].into();
    let mut implementation = gwlab::implementations::Implementation::Spec;
    let mut isolated = false;
    while let Some(a) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--kubeconfig" => kubeconfig = Some(value("--kubeconfig")?.into()),
            "--context" => context = Some(value("--context")?),
            "--kubelet" => kubelet = true,
            "--isolated" => isolated = true,
            "--bind" => {
                let v = value("--bind")?;
                bind = v
                    .parse()
                    .map_err(|_| format!("--bind {v}: not an IP address"))?;
            }
            "--as" => {
                implementation = gwlab::implementations::Implementation::parse(&value("--as")?)
                    .map_err(|e| format!("--as: {e}"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        kubeconfig: kubeconfig.ok_or("--kubeconfig (or KUBECONFIG) is needed")?,
        context,
        kubelet,
        bind,
        implementation,
        isolated,
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let client = match gwlab::lab::client::kube_client(
            &args.kubeconfig,
            args.context.as_deref(),
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let opts = gwlab_standin::controller::Options {
            bind: args.bind,
            kubelet: args.kubelet,
            implementation: args.implementation,
            isolated: args.isolated,
        };
        let controller = match gwlab_standin::controller::start(client, opts).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "--gateway-address {},{}",
            controller.http,
            controller.https.port()
        );
        eprintln!(
            "standing in for the Gateway controller of {} (HTTP on {}, HTTPS on {}); Ctrl-C stops",
            args.kubeconfig.display(),
            controller.http,
            controller.https
        );
        let _ = tokio::signal::ctrl_c().await;
        drop(controller);
        ExitCode::SUCCESS
    })
}
