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
