//! `gwlab explain DIR --url URL`: how the embedded gateway routes that request;
//! `gwlab explain DIR --graph FORMAT`: the scenario's route map.

use crate::cli::{ExplainArgs, GraphFormat, OutputFormat};
use crate::exit;
use crate::explain;
use crate::model::request::RequestHead;
use crate::route_map;
use crate::run::Deployment;
use crate::targets::embedded::EmbeddedTarget;

/// Why `--url` or `-H` does not describe a request.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("--url {url}: {source}")]
    BadUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("--url {0}: give an http:// or https:// URL with a host")]
    NotHttp(String),
    #[error("--url {0}: the URL has no scheme; write it as a probe would, e.g. http://{0}")]
    NoScheme(String),
    #[error("-H {0:?}: write headers as 'Name: value'")]
    BadHeader(String),
}

/// The request a probe with this URL, method and headers would send.
fn request(args: &ExplainArgs, url_text: &str) -> Result<(RequestHead, u16), RequestError> {
    let url = url::Url::parse(url_text).map_err(|source| match source {
        url::ParseError::RelativeUrlWithoutBase => RequestError::NoScheme(url_text.into()),
        source => RequestError::BadUrl {
            url: url_text.into(),
            source,
        },
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(RequestError::NotHttp(url_text.into()));
    }
    let mut headers = Vec::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| RequestError::BadHeader(h.clone()))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let head = RequestHead::for_url(&args.method, &url, headers);
    Ok((head, url.port_or_known_default().unwrap_or(80)))
}

/// The listener port a URL's `port` means: itself when a listener is there,
/// else, for `gwlab serve`'s default ports (8080, 8443), the listener port it
/// serves there (80, 443), so that a URL copied from serve's curl line works.
fn listener_port(ports: &[(u16, String)], port: u16) -> Option<u16> {
    let has = |p: u16| ports.iter().any(|(q, _)| *q == p);
    if has(port) {
        return Some(port);
    }
    let served = match port {
        8080 => 80,
        8443 => 443,
        _ => return None,
    };
    has(served).then_some(served)
}

pub async fn run(args: &ExplainArgs) -> i32 {
    if super::as_help(&args.implementation) {
        return exit::OK;
    }
    if let Some(format) = args.graph {
        return graph(args, format).await;
    }
    // clap asks for --url when --graph is not given; this is only a guard.
    let Some(url) = args.url.as_deref() else {
        eprintln!("error: give --url URL (a request to explain) or --graph FORMAT");
        return exit::BAD_INPUT;
    };
    let (head, port) = match request(args, url) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::BAD_INPUT;
        }
    };
    let (target, deployment) = match deployed(args).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let gw = deployment.gateway(args.gateway.as_deref());
    let ports = target
        .compiled()
        .gateway(&gw.namespace, &gw.name)
        .map(|t| t.ports())
        .unwrap_or_default();
    let port = match listener_port(&ports, port) {
        Some(listener) if listener != port => {
            eprintln!(
                "note: no listener of Gateway {gw} is on port {port}, which is where `gwlab serve` serves its port {listener} listeners: explaining port {listener}"
            );
            listener
        }
        _ => port,
    };
    match explain::explain(target.compiled(), &gw, port, head) {
        Ok(e) => {
            match args.output {
                OutputFormat::Text => print!("{}", explain::render_text(&e)),
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&e).expect("explanations serialise")
                ),
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::BAD_INPUT
        }
    }
}

/// The scenario in `DIR` on a fresh embedded gateway (after `--step N` when
/// given), or the exit code once what is wrong has been said.
async fn deployed(args: &ExplainArgs) -> Result<(EmbeddedTarget, Deployment), i32> {
    let scenario = super::load_one_or_bare(&args.dir, args.gateway_api)?;
    super::embedded_deployment(
        &scenario,
        Default::default(),
        args.step,
        crate::cli::AsArg::one(&args.implementation),
    )
    .await
    .map_err(|e| {
        eprintln!("error: {e}");
        exit::BAD_INPUT
    })
}

/// The scenario's route map, as the embedded gateway compiles it (after
/// `--step N` when given), in the format asked for.
async fn graph(args: &ExplainArgs, format: GraphFormat) -> i32 {
    let (target, deployment) = match deployed(args).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let map = route_map::build(target.compiled(), &deployment.namespace);
    let drawn = match format {
        GraphFormat::Svg => route_map::svg::render(&map) + "\n",
        GraphFormat::Dot => route_map::dot::render(&map),
        GraphFormat::Mermaid => route_map::mermaid::render(&map),
    };
    print!("{drawn}");
    exit::OK
}
