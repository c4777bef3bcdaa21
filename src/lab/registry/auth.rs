//! The registry token flow (Docker's "token authentication specification",
//! which Docker Hub, quay.io and registry.k8s.io follow): a 401 carries
//! `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`; an anonymous
//! GET of the realm with that service and scope returns `{"token": …}` (or
//! `access_token`), sent back as `Authorization: Bearer`.

use super::RegistryError;

/// The parameters of a `Bearer` challenge; `None` for any other scheme.
pub(crate) fn bearer_challenge(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim().strip_prefix("Bearer ")?;
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let value: String = if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => v.extend(chars.next()),
                    c => v.push(c),
                }
            }
            v
        } else {
            chars.by_ref().take_while(|c| *c != ',').collect()
        };
        params.push((key.trim().to_string(), value));
    }
    Some(params)
}

/// A pull token for `repository`, fetched anonymously from the realm the
/// challenge names.
pub async fn token(
    http: &reqwest::Client,
    registry: &str,
    repository: &str,
    challenge: &str,
) -> Result<String, RegistryError> {
    let params = bearer_challenge(challenge).ok_or_else(|| RegistryError::NeedsCredentials {
        registry: registry.into(),
        challenge: if challenge.is_empty() {
            "no challenge".into()
        } else {
            challenge.into()
        },
    })?;
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let realm = get("realm").ok_or_else(|| RegistryError::NeedsCredentials {
        registry: registry.into(),
        challenge: challenge.into(),
    })?;
    let scope = get("scope").unwrap_or_else(|| format!("repository:{repository}:pull"));
    let mut url = url::Url::parse(&realm).map_err(|e| RegistryError::Token {
        realm: realm.clone(),
        detail: format!("the realm is not a URL: {e}"),
    })?;
    url.query_pairs_mut().append_pair("scope", &scope);
    if let Some(service) = get("service") {
        url.query_pairs_mut().append_pair("service", &service);
    }
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|source| RegistryError::Connect {
            url: realm.clone(),
            source,
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(RegistryError::Status { url: realm, status });
    }
    let body: serde_json::Value = response
        .bytes()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .ok_or_else(|| RegistryError::Token {
            realm: realm.clone(),
            detail: "the answer is not JSON".into(),
        })?;
    body["token"]
        .as_str()
        .or_else(|| body["access_token"].as_str())
        .filter(|t| !t.is_empty())
        .map(String::from)
        .ok_or(RegistryError::Token {
            realm,
            detail: "no `token` or `access_token` in the answer".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_as_registries_send_them() {
        let p = bearer_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/kong:pull""#,
        )
        .unwrap();
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:library/kong:pull".into()),
            ]
        );
        let q = bearer_challenge(r#"Bearer realm="https://quay.io/v2/auth", service="quay.io""#)
            .unwrap();
        assert_eq!(q[1], ("service".into(), "quay.io".into()));
        assert!(bearer_challenge(r#"Basic realm="registry""#).is_none());
    }
}
