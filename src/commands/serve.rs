//! `gwlab serve DIR`: the embedded gateway for one scenario, in the foreground,
//! on fixed loopback ports, until Ctrl-C. It serves exactly what `gwlab test`
//! would: the same deployment on the same kind of target.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::cli::ServeArgs;
use crate::exit;
use crate::model::compile::Compiled;
use crate::model::status::find;
use crate::targets::embedded::server::PortKey;

/// A listener socket: which Gateway port, where it listens, and its protocol.
type Socket = (PortKey, SocketAddr, String);

pub async fn run(args: &ServeArgs) -> i32 {
    if super::as_help(&args.implementation) {
        return exit::OK;
    }
    let implementation = crate::cli::AsArg::one(&args.implementation);
    let scenario = match super::load_one(&args.dir, args.gateway_api) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let fixed = BTreeMap::from([(80, args.port), (443, args.https_port)]);
    let (target, deployment) =
        match super::embedded_deployment(&scenario, fixed, args.step, implementation).await {
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
    let answering = match implementation {
        crate::implementations::Implementation::Spec => String::new(),
        other => format!(", answering as {}", other.describe()),
    };
    println!(
        "gwlab serve: scenario {} on the embedded gateway{answering}, namespace {} (Ctrl-C stops)",
        scenario.name, deployment.namespace
    );
    let sockets = target.sockets();
    print_listeners(&sockets);
    print_routes(target.compiled());
    print_tries(target.compiled(), &sockets);
    // A line after the tries, so that a script reading them knows they ended.
    println!("serving until Ctrl-C");
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

/// Every HTTPRoute parent with its Accepted condition.
fn print_routes(compiled: &Compiled) {
    println!("routes:");
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
    }
}

/// One curl per listener that has a route attached, for a request its first
/// rule matches: a hostname the route and listener accept (a wildcard made
/// concrete) and the rule's path. Listeners without routes get none: every
/// request there answers 404.
fn print_tries(compiled: &Compiled, sockets: &[Socket]) {
    println!("try:");
    let mut any = false;
    for ((ns, name), table) in &compiled.gateways {
        for l in table.listeners.iter().filter(|l| l.programmed) {
            let Some(entry) = l.entries.first() else {
                continue;
            };
            let Some((_, addr, _)) = sockets
                .iter()
                .find(|(k, _, _)| k.namespace == *ns && k.gateway == *name && k.port == l.port)
            else {
                continue;
            };
            let host = entry
                .hostnames
                .first()
                .or(l.hostname.as_ref())
                .map_or("example.com".to_string(), |h| h.replace("*.", "www."));
            let path = if entry.m.path.is_empty() {
                "/"
            } else {
                &entry.m.path
            };
            let scheme = scheme(&l.protocol);
            let insecure = if scheme == "https" { " -k" } else { "" };
            println!(
                "  curl -sv{insecure} --resolve {host}:{port}:{ip} {scheme}://{host}:{port}{path}   # Gateway {ns}/{name} listener {} (port {}), HTTPRoute {}/{}",
                l.name,
                l.port,
                entry.route.namespace,
                entry.route.name,
                port = addr.port(),
                ip = addr.ip()
            );
            any = true;
        }
    }
    if !any {
        println!("  (no route is attached to any listener: every request answers 404)");
    }
}
