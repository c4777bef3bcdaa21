//! `gwlab serve DIR`: the embedded gateway for one scenario, in the foreground,
//! on fixed loopback ports, until Ctrl-C. It serves exactly what `gwlab test`
//! would: the same deployment on the same kind of target.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::cli::ServeArgs;
use crate::exit;
use crate::model::compile::Compiled;
use crate::model::status::find;
use crate::run::Deployment;
use crate::targets::embedded::server::PortKey;

/// A listener socket: which Gateway port, where it listens, and its protocol.
type Socket = (PortKey, SocketAddr, String);

pub async fn run(args: &ServeArgs) -> i32 {
    let scenario = match super::load_one(&args.dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let fixed = BTreeMap::from([(80, args.port), (443, args.https_port)]);
    let (target, deployment) = match super::embedded_deployment(&scenario, fixed, args.step).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILED;
        }
    };
    // Listen for Ctrl-C before saying it stops us: a SIGINT that arrived
    // between the message and the first wait would otherwise kill the process.
    let mut interrupt =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot wait for Ctrl-C: {e}");
                return exit::FAILED;
            }
        };
    println!(
        "gwlab serve: scenario {} on the embedded gateway, namespace {} (Ctrl-C stops)",
        scenario.name, deployment.namespace
    );
    let sockets = target.sockets();
    print_listeners(&sockets);
    let example = print_routes(target.compiled(), &deployment);
    print_tries(&sockets, &example.unwrap_or_else(|| "example.com".into()));
    use std::io::Write;
    let _ = std::io::stdout().flush();
    interrupt.recv().await;
    println!("stopped");
    exit::OK
}

/// The URL scheme a listener of `protocol` serves.
fn scheme(protocol: &str) -> &'static str {
    if protocol == "HTTPS" { "https" } else { "http" }
}

fn print_listeners(sockets: &[Socket]) {
    println!("listeners:");
    for (key, addr, protocol) in sockets {
        let scheme = scheme(protocol);
        println!(
            "  Gateway {}/{} port {:<5} {:<5} → {scheme}://{addr}",
            key.namespace, key.gateway, key.port, protocol
        );
    }
}

/// Every HTTPRoute parent with its Accepted condition; returns a hostname to
/// try, from the first HTTPRoute's manifest.
fn print_routes(compiled: &Compiled, deployment: &Deployment) -> Option<String> {
    println!("routes:");
    let mut example = None;
    for (key, st) in &compiled.status {
        if key.kind != "HTTPRoute" {
            continue;
        }
        for p in &st.parents {
            let accepted = find(&p.conditions, "Accepted")
                .map(|c| format!("{} ({})", c.status, c.reason))
                .unwrap_or_default();
            let section = p
                .section_name
                .as_ref()
                .map(|s| format!("/{s}"))
                .unwrap_or_default();
            println!(
                "  HTTPRoute {}/{} → {}{section}: Accepted {accepted}",
                key.namespace, key.name, p.parent
            );
        }
        if example.is_none() {
            example = first_hostname(deployment, &key.name);
        }
    }
    example
}

/// The first hostname of HTTPRoute `name`, a wildcard made concrete.
fn first_hostname(deployment: &Deployment, name: &str) -> Option<String> {
    deployment
        .files
        .iter()
        .flatten()
        .find(|m| m.kind == "HTTPRoute" && m.name == name)
        .and_then(|m| m.raw.pointer("/spec/hostnames/0"))
        .and_then(|h| h.as_str())
        .map(|h| h.replace("*.", "www."))
}

/// A curl for every listener socket, for `host`.
fn print_tries(sockets: &[Socket], host: &str) {
    println!("try:");
    for (key, addr, protocol) in sockets {
        let scheme = scheme(protocol);
        let insecure = if scheme == "https" { " -k" } else { "" };
        println!(
            "  curl -sv{insecure} --resolve {host}:{port}:{ip} {scheme}://{host}:{port}/   # Gateway {}/{} port {}",
            key.namespace,
            key.gateway,
            key.port,
            port = addr.port(),
            ip = addr.ip()
        );
    }
}
