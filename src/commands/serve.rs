//! `gwlab serve DIR`: the embedded gateway for one scenario, in the foreground,
//! on fixed loopback ports, until Ctrl-C. It serves exactly what `gwlab test`
//! would: the same deployment on the same kind of target.

use std::collections::BTreeMap;

use crate::cli::ServeArgs;
use crate::exit;
use crate::model::status::find;

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
    println!(
        "gwlab serve: scenario {} on the embedded gateway, namespace {} (Ctrl-C stops)",
        scenario.name, deployment.namespace
    );
    println!("listeners:");
    let sockets = target.sockets();
    for (key, addr, protocol) in &sockets {
        let scheme = if protocol == "HTTPS" { "https" } else { "http" };
        println!(
            "  Gateway {}/{} port {:<5} {:<5} → {scheme}://{addr}",
            key.namespace, key.gateway, key.port, protocol
        );
    }
    println!("routes:");
    let mut example = None;
    for (key, st) in &target.compiled().status {
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
            example = deployment
                .files
                .iter()
                .flatten()
                .find(|m| m.kind == "HTTPRoute" && m.name == key.name)
                .and_then(|m| m.raw.pointer("/spec/hostnames/0"))
                .and_then(|h| h.as_str())
                .map(|h| h.replace("*.", "www."));
        }
    }
    let host = example.unwrap_or_else(|| "example.com".into());
    println!("try:");
    for (key, addr, protocol) in &sockets {
        let (scheme, insecure) = if protocol == "HTTPS" {
            ("https", " -k")
        } else {
            ("http", "")
        };
        println!(
            "  curl -sv{insecure} --resolve {host}:{port}:{ip} {scheme}://{host}:{port}/   # Gateway {}/{} port {}",
            key.namespace,
            key.gateway,
            key.port,
            port = addr.port(),
            ip = addr.ip()
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match tokio::signal::ctrl_c().await {
        Ok(()) => {
            println!("stopped");
            exit::OK
        }
        Err(e) => {
            eprintln!("error: cannot wait for Ctrl-C: {e}");
            exit::FAILED
        }
    }
}
