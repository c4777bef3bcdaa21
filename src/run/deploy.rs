//! A scenario brought up on a target (namespaces, echo backends, manifests) and
//! torn down again, keeping track of exactly what this run created.

use std::collections::BTreeSet;

use crate::manifest::Manifest;
use crate::model::lab_gateway;
use crate::scenario::Scenario;
use crate::targets::{EchoBackend, GatewayRef, Target};

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
    pub async fn bring_up<T: Target>(
        &mut self,
        target: &mut T,
        scenario: &Scenario,
        run_id: &str,
    ) -> Result<(), String> {
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
                Err(e) => return Err(format!("namespace {ns}: {e}")),
            }
        }
        for b in &scenario.backends {
            let backend = EchoBackend {
                namespace: b
                    .namespace
                    .clone()
                    .unwrap_or_else(|| self.namespace.clone()),
                name: b.name.clone(),
                port: b.port,
            };
            target
                .deploy_backend(&backend, run_id)
                .await
                .map_err(|e| format!("backend {}/{}: {e}", backend.namespace, backend.name))?;
        }
        self.apply_files(target, &scenario.initial, run_id).await
    }

    /// Applies every object of these manifest files, in order.
    pub async fn apply_files<T: Target>(
        &mut self,
        target: &mut T,
        files: &[usize],
        run_id: &str,
    ) -> Result<(), String> {
        target.begin_batch();
        for &ix in files {
            for m in self.files[ix].clone() {
                target
                    .apply(&m, run_id)
                    .await
                    .map_err(|e| format!("apply {}: {e}", m.display_name()))?;
                self.applied.push(m);
            }
        }
        Ok(())
    }

    /// Deletes every object of these manifest files, newest first.
    pub async fn delete_files<T: Target>(
        &mut self,
        target: &mut T,
        files: &[usize],
    ) -> Result<(), String> {
        for &ix in files {
            for m in self.files[ix].clone().iter().rev() {
                target
                    .delete(m)
                    .await
                    .map_err(|e| format!("delete {}: {e}", m.display_name()))?;
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

    /// Deletes what was applied (newest first), then the namespaces this run
    /// created. Returns what could not be removed.
    pub async fn tear_down<T: Target>(&mut self, target: &mut T) -> Vec<String> {
        let mut problems = Vec::new();
        for m in std::mem::take(&mut self.applied).iter().rev() {
            if let Err(e) = target.delete(m).await {
                problems.push(format!("{}: {e}", m.display_name()));
            }
        }
        for ns in std::mem::take(&mut self.created_namespaces).iter().rev() {
            if let Err(e) = target.delete_namespace(ns).await {
                problems.push(format!("namespace {ns}: {e}"));
            }
        }
        problems
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
