//! The objects a gateway controller sees: what has been applied, in order,
//! with generations, plus the echo Services that targets provide.

use std::collections::BTreeMap;

use crate::manifest::{Manifest, Object};

/// Identity of an object: kind, namespace (empty for cluster-scoped), name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ObjKey {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ObjKey {
    pub fn new(kind: &str, namespace: &str, name: &str) -> Self {
        ObjKey {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for ObjKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind, self.name)
        } else {
            write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Stored {
    pub manifest: Manifest,
    /// Bumped whenever the spec changes, as `metadata.generation` is.
    pub generation: u64,
    /// Creation time, in apply batches: stands in for `metadata.creationTimestamp`,
    /// whose one-second resolution makes objects applied together equally old.
    pub created: u64,
}

/// An echo backend: a Service whose endpoints answer with the echo JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoService {
    pub namespace: String,
    pub name: String,
    pub port: u16,
}

#[derive(Debug, Clone, Default)]
pub struct World {
    objects: BTreeMap<ObjKey, Stored>,
    echo: BTreeMap<(String, String), EchoService>,
    batch: u64,
}

impl World {
    /// Stores a manifest whose namespace is already resolved (cluster-scoped
    /// kinds have none). Re-applying keeps the creation order and bumps the
    /// generation only when the spec changed.
    pub fn apply(&mut self, manifest: Manifest) -> ObjKey {
        let key = ObjKey::new(
            &manifest.kind,
            manifest.namespace.as_deref().unwrap_or(""),
            &manifest.name,
        );
        match self.objects.get_mut(&key) {
            Some(existing) => {
                if existing.manifest.raw.get("spec") != manifest.raw.get("spec") {
                    existing.generation += 1;
                }
                existing.manifest = manifest;
            }
            None => {
                self.objects.insert(
                    key.clone(),
                    Stored {
                        manifest,
                        generation: 1,
                        created: self.batch,
                    },
                );
            }
        }
        key
    }

    /// Stores an object as an API server holds it: its generation and its
    /// creation time (seconds) are the server's, not counted here.
    pub fn insert(&mut self, manifest: Manifest, generation: u64, created: u64) -> ObjKey {
        let key = ObjKey::new(
            &manifest.kind,
            manifest.namespace.as_deref().unwrap_or(""),
            &manifest.name,
        );
        self.objects.insert(
            key.clone(),
            Stored {
                manifest,
                generation,
                created,
            },
        );
        key
    }

    /// Objects created from now on are newer than those before (as if a
    /// second had passed); objects of one batch are equally old.
    pub fn next_batch(&mut self) {
        self.batch += 1;
    }

    pub fn delete(&mut self, key: &ObjKey) -> bool {
        self.objects.remove(key).is_some()
    }

    pub fn get(&self, key: &ObjKey) -> Option<&Stored> {
        self.objects.get(key)
    }

    pub fn add_echo(&mut self, svc: EchoService) {
        self.echo
            .insert((svc.namespace.clone(), svc.name.clone()), svc);
    }

    pub fn echo(&self, namespace: &str, name: &str) -> Option<&EchoService> {
        self.echo.get(&(namespace.to_string(), name.to_string()))
    }

    pub fn objects(&self) -> impl Iterator<Item = (&ObjKey, &Stored)> {
        self.objects.iter()
    }

    pub fn of_kind<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Stored)> + 'a {
        self.objects.iter().filter(move |(k, _)| k.kind == kind)
    }

    /// Labels of a namespace: those of its Namespace object if one was applied,
    /// plus the `kubernetes.io/metadata.name` label every namespace carries.
    pub(crate) fn namespace_labels(&self, namespace: &str) -> BTreeMap<String, String> {
        let mut labels = self
            .objects
            .get(&ObjKey::new("Namespace", "", namespace))
            .map(|s| s.manifest.labels.clone())
            .unwrap_or_default();
        labels.insert("kubernetes.io/metadata.name".into(), namespace.into());
        labels
    }

    /// Whether a Service of that name exists (an echo backend or a manifest),
    /// and the ports it has.
    pub(crate) fn service_ports(&self, namespace: &str, name: &str) -> Option<Vec<u16>> {
        if let Some(e) = self.echo(namespace, name) {
            return Some(vec![e.port]);
        }
        match &self
            .objects
            .get(&ObjKey::new("Service", namespace, name))?
            .manifest
            .object
        {
            Object::Service(s) => Some(s.ports.clone()),
            _ => None,
        }
    }
}
