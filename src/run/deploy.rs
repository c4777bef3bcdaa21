//! A scenario brought up on a target (namespaces, echo backends, manifests) and
//! torn down again, keeping track of exactly what this run created.

use std::collections::BTreeSet;

use crate::manifest::Manifest;
use crate::model::lab_gateway;
use crate::scenario::Scenario;
use crate::targets::{EchoBackend, GatewayRef, Target, TargetError};

/// What stopped a scenario's setup or a step, with the target's error as source.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeployError {
    #[error("namespace {namespace}: {source}")]
    Namespace {
        namespace: String,
        #[source]
        source: TargetError,
    },
    #[error("backend {namespace}/{name}: {source}")]
    Backend {
        namespace: String,
        name: String,
        #[source]
        source: TargetError,
    },
    #[error("apply {object}: {source}")]
    Apply {
        object: String,
        #[source]
        source: TargetError,
    },
    #[error("delete {object}: {source}")]
    Delete {
        object: String,
        #[source]
        source: TargetError,
    },
    /// An object the scenario would write belongs to someone else; nothing was written.
    #[error("nothing was applied: {0}")]
    NotOurs(#[source] TargetError),
    #[error("--step {asked}: the scenario has {} (steps are counted from 1)", crate::diag::counted(*steps, "step"))]
    NoSuchStep { asked: usize, steps: usize },
    #[error("cannot start the embedded gateway: {0}")]
    Start(#[source] TargetError),
    #[error("cannot make the lab certificate authority: {0}")]
    Ca(#[source] rcgen::Error),
}

pub use crate::targets::Leftover;

/// What one scenario has on a target right now.
pub struct Deployment {
    /// The scenario's own namespace.
    pub namespace: String,
    /// Every object per manifest file, with its namespace resolved.
    pub files: Vec<Vec<Manifest>>,
    /// Objects applied and not yet deleted, oldest first.
    pub applied: Vec<Manifest>,
    /// Namespaces this run created (and so may delete).
    pub created_namespaces: Vec<String>,
}

impl Deployment {
    pub fn new(scenario: &Scenario, namespace: String) -> Self {
        let files = scenario
            .manifests
            .iter()
            .map(|f| {
                f.objects
                    .iter()
                    .map(|m| resolve_namespace(m, &namespace))
                    .collect()
            })
            .collect();
        Deployment {
            namespace,
            files,
            applied: Vec::new(),
            created_namespaces: Vec::new(),
        }
    }

    /// Namespaces, echo backends, then the manifests applied before the first step.
    pub(crate) async fn bring_up<T: Target>(
        &mut self,
        target: &mut T,
        scenario: &Scenario,
        run_id: &str,
    ) -> Result<(), DeployError> {
        let backends = self.backends(scenario);
        let initial: Vec<Manifest> = self.objects_of(&scenario.initial);
        target
            .preflight(&initial, &backends)
            .await
            .map_err(DeployError::NotOurs)?;
        let mut namespaces = vec![self.namespace.clone()];
        namespaces.extend(scenario.backends.iter().filter_map(|b| b.namespace.clone()));
        namespaces.extend(
            self.files
                .iter()
                .flatten()
                .filter_map(|m| m.namespace.clone()),
        );
        let mut seen = BTreeSet::new();
        namespaces.retain(|n| seen.insert(n.clone()));
        for ns in namespaces {
            match target.ensure_namespace(&ns, run_id).await {
                Ok(true) => self.created_namespaces.push(ns),
                Ok(false) => {}
                Err(source) => {
                    return Err(DeployError::Namespace {
                        namespace: ns,
                        source,
                    });
                }
            }
        }
        for b in &backends {
            target
                .deploy_backend(b, run_id)
                .await
                .map_err(|source| DeployError::Backend {
                    namespace: b.namespace.clone(),
                    name: b.name.clone(),
                    source,
                })?;
        }
        self.apply_files(target, &scenario.initial, run_id).await
    }

    /// The scenario's echo backends, namespaces resolved.
    fn backends(&self, scenario: &Scenario) -> Vec<EchoBackend> {
        scenario
            .backends
            .iter()
            .map(|b| EchoBackend {
                namespace: b
                    .namespace
                    .clone()
                    .unwrap_or_else(|| self.namespace.clone()),
                name: b.name.clone(),
                port: b.port,
            })
            .collect()
    }

    /// Every object of these manifest files.
    fn objects_of(&self, files: &[usize]) -> Vec<Manifest> {
        files
            .iter()
            .flat_map(|&ix| self.files[ix].clone())
            .collect()
    }

    /// Refuses, before any write, objects of these files that exist and are
    /// not this run's.
    pub(crate) async fn preflight<T: Target>(
        &self,
        target: &T,
        files: &[usize],
    ) -> Result<(), DeployError> {
        target
            .preflight(&self.objects_of(files), &[])
            .await
            .map_err(DeployError::NotOurs)
    }

    /// Applies every object of these manifest files, in order.
    pub(crate) async fn apply_files<T: Target>(
        &mut self,
        target: &mut T,
        files: &[usize],
        run_id: &str,
    ) -> Result<(), DeployError> {
        target.begin_batch();
        for m in self.objects_of(files) {
            target
                .apply(&m, run_id)
                .await
                .map_err(|source| match source {
                    e @ (TargetError::NotOurs { .. } | TargetError::EarlierRun { .. }) => {
                        DeployError::NotOurs(e)
                    }
                    source => DeployError::Apply {
                        object: m.display_name(),
                        source,
                    },
                })?;
            self.applied.push(m);
        }
        Ok(())
    }

    /// Deletes every object of these manifest files, newest first.
    pub(crate) async fn delete_files<T: Target>(
        &mut self,
        target: &mut T,
        files: &[usize],
    ) -> Result<(), DeployError> {
        for &ix in files {
            for m in self.files[ix].clone().iter().rev() {
                target
                    .delete(m)
                    .await
                    .map_err(|source| DeployError::Delete {
                        object: m.display_name(),
                        source,
                    })?;
                self.applied.retain(|a| {
                    !(a.kind == m.kind && a.name == m.name && a.namespace == m.namespace)
                });
            }
        }
        Ok(())
    }

    /// The Gateway a probe (or `gwlab explain`) goes to: `namespace/name`, a bare
    /// name in the scenario namespace, or by default the only Gateway the
    /// scenario defines, else the lab Gateway.
    pub fn gateway(&self, spec: Option<&str>) -> GatewayRef {
        match spec {
            Some(g) => match g.split_once('/') {
                Some((ns, name)) => GatewayRef {
                    namespace: ns.into(),
                    name: name.into(),
                },
                None => GatewayRef {
                    namespace: self.namespace.clone(),
                    name: g.into(),
                },
            },
            None => {
                let own: Vec<&Manifest> = self
                    .files
                    .iter()
                    .flatten()
                    .filter(|m| m.kind == "Gateway")
                    .collect();
                match own.as_slice() {
                    [only] => GatewayRef {
                        namespace: only.namespace.clone().unwrap_or_default(),
                        name: only.name.clone(),
                    },
                    _ => GatewayRef {
                        namespace: lab_gateway::GATEWAY_NAMESPACE.into(),
                        name: lab_gateway::GATEWAY_NAME.into(),
                    },
                }
            }
        }
    }
}

/// The object with the scenario namespace filled in where it names none.
pub fn resolve_namespace(m: &Manifest, scenario_namespace: &str) -> Manifest {
    let mut m = m.clone();
    if m.namespace.is_none() && !m.is_cluster_scoped() {
        m.namespace = Some(scenario_namespace.to_string());
        if let Some(meta) = m.raw.get_mut("metadata").and_then(|v| v.as_object_mut()) {
            meta.insert(
                "namespace".into(),
                serde_json::Value::String(scenario_namespace.into()),
            );
        }
    }
    m
}
