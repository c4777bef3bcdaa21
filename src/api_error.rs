//! Kubernetes API errors as callers need them: what happened, read from the
//! status code (never from the message text), and the server's message as a
//! sentence instead of kube's debug structure.

use std::fmt;

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

pub fn is_not_found(e: &kube::Error) -> bool {
    fault(e) == Fault::NotFound
}

/// Displays a kube error as a sentence: the API server's own message (which
/// names the object and field), with its code and reason.
pub struct Sentence<'a>(pub &'a kube::Error);

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

pub fn sentence(e: &kube::Error) -> Sentence<'_> {
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
