//! Troubleshooting exercises on the lab cluster: a fault from the field story
//! put into the real lab (the Gateway's publish-service annotation, a feature
//! gate KIC 3 rejects, the proxy on hostNetwork), each change recorded with
//! the value it replaced so that solving or `gwlab lab reset` can put it back.
//! Only the lab's own objects (labelled as gwlab's by `gwlab up`) are touched,
//! and only the fields a fault names.

use kube::Client;
use kube::api::{Api, DynamicObject, Patch};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::kong;
use crate::lab::MANAGED_BY;
use crate::lab::apply::resource;
use crate::ownership::Created;

mod ops;
mod record;
mod server;
#[cfg(test)]
mod tests;

use self::ops::*;
pub use self::record::{BREAK_ANNOTATION, BreakRecord, FieldRecord};
use self::record::{record_on, uid_of};
use self::server::*;

/// A fault an exercise's `break:` puts into the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The Gateway's publish-service annotation names the Service of a Helm
    /// release called `kong` (`kong-kong-proxy`), not the controller's.
    PublishServiceMismatch,
    /// `CONTROLLER_FEATURE_GATES=Gateway=true` on the controller: KIC 3 exits.
    FeatureGateGateway,
    /// The proxy on hostNetwork with two replicas on one node: the second pod
    /// cannot have the ports the first holds.
    HostNetwork,
}

/// The publish service a Helm release named `kong` would have.
pub(crate) const WRONG_PUBLISH_SERVICE: &str = "kong-system/kong-kong-proxy";

impl Fault {
    /// Its name in `exercise.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::PublishServiceMismatch => "publish-service-mismatch",
            Fault::FeatureGateGateway => "feature-gate-gateway",
            Fault::HostNetwork => "host-network",
        }
    }

    /// The `gwlab doctor` finding the fault shows as.
    pub fn finding(self) -> &'static str {
        match self {
            Fault::PublishServiceMismatch => "kong-publish-service-mismatch",
            Fault::FeatureGateGateway => "kic-invalid-feature-gate",
            Fault::HostNetwork => "kong-hostnetwork-port-conflict",
        }
    }

    /// The fields the fault sets, and to what.
    fn settings(self) -> Vec<(LabObject, Field, Value)> {
        let (gateway, deployment) = (LabObject::gateway(), LabObject::deployment());
        match self {
            Fault::PublishServiceMismatch => vec![(
                gateway,
                Field::Annotation {
                    key: kong::PUBLISH_ANNOTATION.into(),
                },
                json!(WRONG_PUBLISH_SERVICE),
            )],
            Fault::FeatureGateGateway => vec![(
                deployment,
                Field::ControllerEnv {
                    name: kong::FEATURE_GATES_ENV.0.into(),
                },
                json!({"name": kong::FEATURE_GATES_ENV.0, "value": "Gateway=true"}),
            )],
            Fault::HostNetwork => vec![
                (deployment.clone(), Field::HostNetwork, json!(true)),
                (deployment, Field::Replicas, json!(2)),
            ],
        }
    }
}

/// One of the lab's objects a fault changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabObject {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl LabObject {
    fn gateway() -> LabObject {
        LabObject {
            api_version: "gateway.networking.k8s.io/v1".into(),
            kind: "Gateway".into(),
            namespace: kong::NAMESPACE.into(),
            name: kong::GATEWAY_NAME.into(),
        }
    }

    fn deployment() -> LabObject {
        LabObject {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: kong::NAMESPACE.into(),
            name: kong::DEPLOYMENT.into(),
        }
    }

    pub fn display(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// A field of a lab object that a fault sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "camelCase")]
pub enum Field {
    /// `metadata.annotations[key]`.
    Annotation { key: String },
    /// An environment variable of the Kong Ingress Controller's container.
    ControllerEnv { name: String },
    /// `spec.template.spec.hostNetwork`.
    HostNetwork,
    /// `spec.replicas`.
    Replicas,
}

impl Field {
    fn display(&self) -> String {
        match self {
            Field::Annotation { key } => format!("annotation {key}"),
            Field::ControllerEnv { name } => format!("controller env {name}"),
            Field::HostNetwork => "spec.template.spec.hostNetwork".into(),
            Field::Replicas => "spec.replicas".into(),
        }
    }
}

/// One change gwlab made: what it set, and what was there before (`None`:
/// the field was absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub object: LabObject,
    /// The object's UID when changed: a namesake made since is not touched.
    pub uid: String,
    #[serde(flatten)]
    pub field: Field,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    pub after: Value,
}

impl Change {
    /// `Gateway kong-system/kong: annotation X: "a" → "b"`.
    pub(crate) fn describe(&self) -> String {
        let shown = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), Value::to_string);
        format!(
            "{}: {}: {} → {}",
            self.object.display(),
            self.field.display(),
            shown(&self.before),
            self.after
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BreakError {
    #[error(transparent)]
    Kube(#[from] crate::kube_api::ApiError),
    #[error(
        "{object} is not on this cluster: the exercise breaks the lab `gwlab up` makes; create it with `gwlab up` (or `gwlab up --provider existing --addons crds,kong`)"
    )]
    Missing { object: String },
    #[error(
        "{object} was not created by gwlab (no label {}={}): gwlab changes only what it created; run this exercise on a lab made by `gwlab up`, or without a cluster (--target embedded)",
        MANAGED_BY.0, MANAGED_BY.1
    )]
    NotOurs { object: String },
    #[error(
        "{object} is labelled as gwlab's but is not among the objects `gwlab up` created for lab {lab}: gwlab changes only what it created; run this exercise on the lab `gwlab up` made, or without a cluster (--target embedded)"
    )]
    NotCreated { object: String, lab: String },
    #[error(
        "{object} is broken already by exercise {exercise} (fault {fault}, recorded in its annotation {ann}): finish or reset that exercise first (`gwlab lab reset --exercise {exercise}` in its workspace)",
        ann = BREAK_ANNOTATION
    )]
    AlreadyBroken {
        object: String,
        exercise: String,
        fault: String,
    },
    #[error(
        "{object}: its annotation {ann} is not a break record gwlab wrote; remove it by hand (`kubectl annotate` with `{ann}-`) after putting the object right",
        ann = BREAK_ANNOTATION
    )]
    BadRecord {
        object: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{object}: no lab made by `gwlab up` is recorded for this cluster, so gwlab cannot tell whether it created it: an exercise that breaks the lab needs a lab made by `gwlab up` (on a cluster of your own: `gwlab up --provider existing --addons crds,kong`), or run it without a cluster (--target embedded)"
    )]
    NoLab { object: String },
    #[error("{object} was deleted and made again while gwlab changed it: run the command again")]
    Replaced { object: String },
    #[error("{object} has no metadata.uid: the API server's answer is not an object gwlab can own")]
    NoUid { object: String },
    #[error(
        "{object} has no Kong Ingress Controller container (an image named kubernetes-ingress-controller)"
    )]
    NoController { object: String },
}

/// What restoring did, change by change.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    /// Put back, described.
    pub restored: Vec<String>,
    /// Left as found, with why (already fixed, or the object is not the one
    /// gwlab changed).
    pub left: Vec<String>,
}

/// Which objects count as gwlab's: those labelled as gwlab's and recorded
/// (by UID) by the `gwlab up` that made the lab (a copied label does not make
/// an object gwlab's; with no lab state, none is).
pub struct Ours<'a> {
    /// The lab's name and the objects its `gwlab up` created.
    pub lab: Option<(&'a str, &'a [Created])>,
}

/// Reads the objects `fault` changes and refuses any gwlab did not create,
/// or that another exercise's break has changed: called before anything is
/// written.
pub(crate) async fn preflight(
    client: &Client,
    fault: Fault,
    exercise: &str,
    ours: &Ours<'_>,
) -> Result<Vec<(LabObject, Value)>, BreakError> {
    let mut objects: Vec<(LabObject, Value)> = Vec::new();
    for (o, _, _) in fault.settings() {
        if objects.iter().any(|(seen, _)| *seen == o) {
            continue;
        }
        let obj = read(client, &o).await?.ok_or_else(|| BreakError::Missing {
            object: o.display(),
        })?;
        if obj["metadata"]["labels"][MANAGED_BY.0] != MANAGED_BY.1 {
            return Err(BreakError::NotOurs {
                object: o.display(),
            });
        }
        let Some((lab, created)) = ours.lab else {
            return Err(BreakError::NoLab {
                object: o.display(),
            });
        };
        let uid = uid_of(&obj, &o)?;
        if !created.iter().any(|c| c.uid == uid) {
            return Err(BreakError::NotCreated {
                object: o.display(),
                lab: lab.to_string(),
            });
        }
        if let Some(r) = record_on(&obj, &o)?
            && (r.exercise != exercise || r.fault != fault)
        {
            return Err(BreakError::AlreadyBroken {
                object: o.display(),
                exercise: r.exercise,
                fault: r.fault.name().into(),
            });
        }
        objects.push((o, obj));
    }
    Ok(objects)
}

/// Puts `fault` into the lab for `exercise`; returns the changes, for
/// restoring. Every object is read and judged gwlab's before any is changed.
/// An object that already carries this exercise's break is adopted as it is
/// (a record lost by a crash is found again); one that carries another's is
/// refused.
pub async fn apply(
    client: &Client,
    fault: Fault,
    exercise: &str,
    ours: &Ours<'_>,
) -> Result<Applied, BreakError> {
    let objects = preflight(client, fault, exercise, ours).await?;
    let mut changes = Vec::new();
    let mut adopted = false;
    for (o, obj) in objects {
        let made =
            retrying_on_change(client, &o, obj, |obj| break_ops(obj, &o, fault, exercise)).await?;
        adopted |= record_on(&made.0, &o)?.is_some();
        let uid = uid_of(&made.0, &o)?;
        changes.extend(made.1.fields.into_iter().map(|f| Change {
            object: o.clone(),
            uid: uid.clone(),
            field: f.field,
            before: f.before,
            after: f.after,
        }));
    }
    Ok(Applied { changes, adopted })
}

/// What [`apply`] did.
pub struct Applied {
    /// The changes, for restoring.
    pub changes: Vec<Change>,
    /// The break was in the lab already, recorded on its objects: taken over,
    /// nothing changed now.
    pub adopted: bool,
}

/// Puts recorded changes back. `only_still_broken`: only fields that still
/// hold what the break set (after a student's fix, the student's values
/// stand); otherwise every field goes back to its value before the break.
/// The values before come from the record on the object when it carries
/// `exercise`'s (the workspace's copy otherwise), and that record is removed
/// by the same patch.
pub(crate) async fn restore(
    client: &Client,
    exercise: &str,
    changes: &[Change],
    only_still_broken: bool,
) -> Result<Restored, BreakError> {
    let mut out = Restored::default();
    let mut objects: Vec<&LabObject> = Vec::new();
    for c in changes {
        if !objects.contains(&&c.object) {
            objects.push(&c.object);
        }
    }
    for o in objects {
        let Some(obj) = read(client, o).await? else {
            out.left.push(format!("{}: it is gone", o.display()));
            continue;
        };
        let ours: Vec<&Change> = changes.iter().filter(|c| c.object == *o).collect();
        if obj["metadata"]["uid"].as_str() != Some(ours[0].uid.as_str()) {
            out.left.push(format!(
                "{}: not the object gwlab changed (it was made again since)",
                o.display()
            ));
            continue;
        }
        let (_, (restored, left)) = retrying_on_change(client, o, obj, |obj| {
            restore_ops(obj, o, exercise, &ours, only_still_broken)
        })
        .await?;
        out.restored.extend(restored);
        out.left.extend(left);
    }
    Ok(out)
}
