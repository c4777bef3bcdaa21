//! Image references as Docker and containerd read them: `kong:3.9.3` is
//! `docker.io/library/kong:3.9.3`, served by `registry-1.docker.io`;
//! `quay.io/metallb/controller:v0.15.3` is served by `quay.io`. A first
//! component with a `.` or `:`, or `localhost`, names the registry.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry as a reference names it (`docker.io`, `quay.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// The repository inside it (`library/kong`).
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// A reference that does not name an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an image reference (registry/repository:tag[@sha256:digest])")]
pub struct NotAReference(pub String);

const DOCKER_HUB: &str = "docker.io";

impl ImageRef {
    pub fn parse(text: &str) -> Result<ImageRef, NotAReference> {
        let bad = || NotAReference(text.to_string());
        let (named, digest) = match text.split_once('@') {
            Some((n, d)) if super::super::lock::is_digest(d) => (n, Some(d.to_string())),
            Some(_) => return Err(bad()),
            None => (text, None),
        };
        let (path, tag) = match named.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, Some(t.to_string())),
            _ => (named, None),
        };
        if path.is_empty() || tag.as_deref() == Some("") {
            return Err(bad());
        }
        let (registry, repository) = match path.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), path.to_string()),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b))
        };
        if !valid(&repository) {
            return Err(bad());
        }
        Ok(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Where the registry's API is: Docker Hub's is not at `docker.io`, and
    /// a registry on this machine is spoken to in plain HTTP, as Docker does.
    pub(crate) fn api_base(&self) -> String {
        if self.registry == DOCKER_HUB {
            return "https://registry-1.docker.io".into();
        }
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(self.registry.as_str(), |(h, _)| h);
        let local = host == "localhost" || host == "[::1]" || host.starts_with("127.");
        format!(
            "{}://{}",
            if local { "http" } else { "https" },
            self.registry
        )
    }

    /// The name containerd gives the image (`docker.io/library/kong:3.9.3`).
    pub(crate) fn full_name(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        s
    }

    /// What to ask the registry for: the digest when there is one, else the tag.
    pub(crate) fn wanted(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_name())?;
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:4d6a4ead594e9bf468d07a54d30a57991904b220403af1a43c5a3679615d11de";

    #[test]
    fn references_as_docker_reads_them() {
        let k = ImageRef::parse("kong:3.9.3").unwrap();
        assert_eq!(
            (k.registry.as_str(), k.repository.as_str(), k.tag.as_deref()),
            ("docker.io", "library/kong", Some("3.9.3"))
        );
        assert_eq!(k.api_base(), "https://registry-1.docker.io");
        assert_eq!(k.full_name(), "docker.io/library/kong:3.9.3");
        let kic =
            ImageRef::parse(&format!("kong/kubernetes-ingress-controller:3.5.13@{D}")).unwrap();
        assert_eq!(kic.repository, "kong/kubernetes-ingress-controller");
        assert_eq!(kic.wanted(), D);
        let q = ImageRef::parse("quay.io/metallb/controller:v0.15.3").unwrap();
        assert_eq!(
            (q.registry.as_str(), q.repository.as_str()),
            ("quay.io", "metallb/controller")
        );
        assert_eq!(q.api_base(), "https://quay.io");
        let local = ImageRef::parse("127.0.0.1:5000/test/app:1.0").unwrap();
        assert_eq!(local.api_base(), "http://127.0.0.1:5000");
        assert_eq!(local.wanted(), "1.0");
        let g = ImageRef::parse(
            "gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd",
        )
        .unwrap();
        assert_eq!(g.repository, "k8s-staging-gateway-api/echo-basic");
        assert_eq!(
            ImageRef::parse("localhost/x").unwrap().registry,
            "localhost"
        );
        assert_eq!(ImageRef::parse("k/x").unwrap().repository, "k/x");
        for bad in ["", "kong:", "Kong:3", "kong@sha256:12", ":3"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
