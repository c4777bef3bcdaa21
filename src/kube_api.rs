//! What every part of gwlab that talks to an API server shares: its field
//! manager and the parameters of its writes (server-side apply, JSON patch),
//! handles on objects of any kind, and API errors as callers need them: what
//! happened, read from kube-core's status (never from the message text), the
//! server's message as a sentence, and one error type naming what was tried.

use std::fmt;

use kube::api::{Api, ApiResource, DynamicObject, PatchParams, ValidationDirective};

/// The field manager of everything gwlab writes.
pub const FIELD_MANAGER: &str = "gwlab";

/// Server-side apply as gwlab, strict about unknown fields, never forcing
/// over another field manager (callers set `force` only when adopting
/// knowingly).
pub fn apply_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        force: false,
        field_validation: Some(ValidationDirective::Strict),
        ..Default::default()
    }
}

/// A JSON or merge patch, with gwlab as the field manager.
pub(crate) fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..Default::default()
    }
}

/// A handle on objects of a resource: in `namespace` for a namespaced one,
/// cluster-wide otherwise (or when no namespace is given).
pub(crate) fn dynamic_api(
    client: &kube::Client,
    resource: &ApiResource,
    namespaced: bool,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    match (namespaced, namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, resource),
        _ => Api::all_with(client.clone(), resource),
    }
}

/// An API call that failed, with what gwlab was doing: `{what}: {the
/// server's message}`.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {}", sentence(source))]
pub struct ApiError {
    pub what: String,
    #[source]
    pub source: Box<kube::Error>,
}

impl ApiError {
    /// A `map_err` adapter: `.map_err(ApiError::doing("cannot read X"))`.
    pub fn doing(what: impl Into<String>) -> impl FnOnce(kube::Error) -> ApiError {
        let what = what.into();
        move |source| ApiError {
            what,
            source: Box::new(source),
        }
    }

    pub fn fault(&self) -> Fault {
        fault(&self.source)
    }
}

/// What an API error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    NotFound,
    /// Someone else holds the object or its fields (409).
    Conflict,
    /// The server refused the object as written (422, 400).
    Invalid,
    Forbidden,
    /// Anything else: the server's or the network's trouble.
    Other,
}

/// The fault, from the status code. Not through kube-core's
/// `Status::is_not_found` and its siblings: in kube-core 4.2 they fall back
/// to the code only when the *expected* reason is unknown
/// (`reason_or_code` tests `is_known(reason)` of its argument, always a
/// known one), so a 404 whose body is not a Status (a kind the server does
/// not serve: "404 page not found", reason "Failed to parse error data")
/// would not read as not found.
pub fn fault(e: &kube::Error) -> Fault {
    match e {
        kube::Error::Api(s) => match s.code {
            404 => Fault::NotFound,
            409 => Fault::Conflict,
            400 | 422 => Fault::Invalid,
            401 | 403 => Fault::Forbidden,
            _ => Fault::Other,
        },
        _ => Fault::Other,
    }
}

pub(crate) fn is_not_found(e: &kube::Error) -> bool {
    fault(e) == Fault::NotFound
}

/// Whether an error is the API server's or the network's passing trouble,
/// worth the same call again: no connection (refused, reset, timed out),
/// 429 Too Many Requests (flow control), or a 5xx.
pub(crate) fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code == 429 || s.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// How long one API call is tried again while its errors are transient: an
/// API server that restarts, or throttles, comes back well within it.
pub(crate) const TRANSIENT_BUDGET: std::time::Duration = std::time::Duration::from_secs(15);

/// `call`, made again with a growing pause (0.25 s up to 2 s) while it fails
/// transiently ([`is_transient`]) and `budget` lasts; the last error otherwise.
pub(crate) async fn retrying<T, F, Fut>(
    budget: std::time::Duration,
    mut call: F,
) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(250);
    loop {
        match call().await {
            Err(e) if is_transient(&e) && start.elapsed() + pause < budget => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            result => return result,
        }
    }
}

/// Runs `watch` (a kube-runtime wait) within `timeout`, starting it again
/// after a failure (the API server restarting, a connection reset) while
/// time is left. `None`: time ran out; `Some(Err)`: it failed at the end.
pub(crate) async fn watching_again<T, F>(
    timeout: std::time::Duration,
    mut watch: impl FnMut() -> F,
) -> Option<Result<T, kube::runtime::wait::Error>>
where
    F: std::future::Future<Output = Result<T, kube::runtime::wait::Error>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, watch()).await {
            Ok(Err(_)) if !left.is_zero() => {
                tokio::time::sleep(std::time::Duration::from_millis(250).min(left)).await;
            }
            Ok(done) => return Some(done),
            Err(_) => return None,
        }
    }
}

/// Displays a kube error as a sentence: the API server's own message (which
/// names the object and field), with its code and reason.
pub(crate) struct Sentence<'a>(pub &'a kube::Error);

impl fmt::Display for Sentence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            kube::Error::Api(s) if !s.message.is_empty() => {
                write!(f, "{}", s.message)?;
                match (s.code, s.reason.as_str()) {
                    (0, "") => Ok(()),
                    (code, "") => write!(f, " (HTTP {code})"),
                    (code, reason) => write!(f, " (HTTP {code}, {reason})"),
                }
            }
            kube::Error::Api(s) => write!(f, "the API server answered HTTP {}", s.code),
            e @ (kube::Error::HyperError(_) | kube::Error::Service(_)) => {
                use std::io::ErrorKind::*;
                match crate::causes::io_cause(e).map(std::io::Error::kind) {
                    Some(ConnectionRefused) => write!(
                        f,
                        "the API server refused the connection: is the cluster running?"
                    ),
                    Some(ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof) => {
                        write!(f, "the API server closed the connection")
                    }
                    Some(TimedOut) => write!(f, "the API server did not answer in time"),
                    Some(kind) => write!(f, "the API server could not be reached ({kind})"),
                    None => write!(f, "the API server could not be reached ({e})"),
                }
            }
            other => write!(f, "{other}"),
        }
    }
}

pub(crate) fn sentence(e: &kube::Error) -> Sentence<'_> {
    Sentence(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status {
                code,
                reason: reason.into(),
                message: message.into(),
                ..Default::default()
            }
            .boxed(),
        )
    }

    #[test]
    fn faults_come_from_the_code() {
        assert_eq!(fault(&api(404, "NotFound", "x")), Fault::NotFound);
        assert_eq!(fault(&api(409, "Conflict", "x")), Fault::Conflict);
        assert_eq!(fault(&api(422, "Invalid", "x")), Fault::Invalid);
        assert_eq!(fault(&api(500, "", "webhook 404")), Fault::Other);
        // What a server answers for a kind it does not serve.
        assert_eq!(
            fault(&api(
                404,
                "Failed to parse error data",
                "404 page not found"
            )),
            Fault::NotFound
        );
    }

    #[tokio::test]
    async fn transient_faults_are_tried_again_within_the_budget_and_others_are_not() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let calls = AtomicU32::new(0);
        // Two answers of 503 (an API server starting), then the object.
        let r = retrying(std::time::Duration::from_secs(10), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(api(503, "ServiceUnavailable", "starting")),
                _ => Ok("object"),
            }
        })
        .await;
        assert_eq!(r.unwrap(), "object");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // A 404 is an answer, not trouble: made once.
        calls.store(0, Ordering::SeqCst);
        let r: Result<(), _> = retrying(std::time::Duration::from_secs(10), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(api(404, "NotFound", "gone"))
        })
        .await;
        assert_eq!(fault(&r.unwrap_err()), Fault::NotFound);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // 429 too, until the budget runs out: then the last error.
        calls.store(0, Ordering::SeqCst);
        let r: Result<(), _> = retrying(std::time::Duration::from_millis(600), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(api(429, "TooManyRequests", "slow down"))
        })
        .await;
        assert!(is_transient(&r.unwrap_err()));
        assert!(calls.load(Ordering::SeqCst) >= 2);
    }

    #[tokio::test]
    async fn an_api_server_that_refuses_reads_as_a_sentence() {
        // A port nothing listens on: the real refusal kube reports.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let e = client.apiserver_version().await.unwrap_err();
        assert!(is_transient(&e));
        assert_eq!(
            sentence(&e).to_string(),
            "the API server refused the connection: is the cluster running?"
        );
    }

    #[test]
    fn api_errors_read_as_sentences() {
        let e = api(
            422,
            "Invalid",
            "GatewayClass.gateway.networking.k8s.io \"kong\" is invalid: spec.controllerName: Invalid value: \"string\": Value is immutable",
        );
        let text = sentence(&e).to_string();
        assert!(text.starts_with(
            "GatewayClass.gateway.networking.k8s.io \"kong\" is invalid: spec.controllerName"
        ));
        assert!(text.ends_with("(HTTP 422, Invalid)"));
        assert!(!text.contains("Status {"), "{text}");
    }
}
