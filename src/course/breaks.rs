//! Troubleshooting exercises on the lab cluster: a fault from the field story
//! put into the real lab (the Gateway's publish-service annotation, a feature
//! gate KIC 3 rejects, the proxy on hostNetwork), each change recorded with
//! the value it replaced so that solving or `gwlab lab reset` can put it back.
//! Only the lab's own objects (labelled as gwlab's by `gwlab up`) are touched,
//! and only the fields a fault names.

use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::kong;
use crate::lab::MANAGED_BY;
use crate::lab::apply::resource;
use crate::ownership::Created;

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
pub const WRONG_PUBLISH_SERVICE: &str = "kong-system/kong-kong-proxy";

impl Fault {
    pub const ALL: [Fault; 3] = [
        Fault::PublishServiceMismatch,
        Fault::FeatureGateGateway,
        Fault::HostNetwork,
    ];

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
                json!("Gateway=true"),
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
    pub fn describe(&self) -> String {
        let shown = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), Value::to_string);
        format!(
            "{}: {}: {} → {}",
            self.object.display(),
            self.field.display(),
            shown(&self.before),
            self.after
        )
    }

    /// The same change, undone (for messages).
    pub fn describe_undo(&self) -> String {
        let shown = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), Value::to_string);
        format!(
            "{}: {} back to {}",
            self.object.display(),
            self.field.display(),
            shown(&self.before)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BreakError {
    #[error("{what}: {}", crate::api_error::sentence(source))]
    Kube {
        what: String,
        #[source]
        source: Box<kube::Error>,
    },
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
        "{object} has no Kong Ingress Controller container (an image named kubernetes-ingress-controller)"
    )]
    NoController { object: String },
}

/// What restoring did, change by change.
#[derive(Debug, Default)]
pub struct Restored {
    /// Put back, described.
    pub restored: Vec<String>,
    /// Left as found, with why (already fixed, or the object is not the one
    /// gwlab changed).
    pub left: Vec<String>,
}

/// A JSON patch, with gwlab as the field manager.
fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(crate::lab::apply::FIELD_MANAGER.into()),
        ..Default::default()
    }
}

fn api(client: &Client, o: &LabObject) -> Api<DynamicObject> {
    let (ar, _) = resource(&o.api_version, &o.kind).expect("gwlab knows the lab's kinds");
    Api::namespaced_with(client.clone(), &o.namespace, &ar)
}

async fn read(client: &Client, o: &LabObject) -> Result<Option<Value>, BreakError> {
    let got = api(client, o)
        .get_opt(&o.name)
        .await
        .map_err(|source| BreakError::Kube {
            what: format!("cannot read {}", o.display()),
            source: Box::new(source),
        })?;
    Ok(got.map(|d| serde_json::to_value(d).expect("objects serialise")))
}

/// Which objects count as gwlab's: those labelled as gwlab's, and when the
/// lab's state is known, only those `gwlab up` recorded creating (a copied
/// label does not make an object gwlab's).
pub struct Ours<'a> {
    /// The lab's name and the objects its `gwlab up` created.
    pub lab: Option<(&'a str, &'a [Created])>,
}

/// Reads the objects `fault` changes and refuses any gwlab did not create:
/// called before anything is written.
pub async fn preflight(
    client: &Client,
    fault: Fault,
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
        if let Some((lab, created)) = ours.lab {
            let uid = obj["metadata"]["uid"].as_str().unwrap_or_default();
            if !created.iter().any(|c| c.uid == uid) {
                return Err(BreakError::NotCreated {
                    object: o.display(),
                    lab: lab.to_string(),
                });
            }
        }
        objects.push((o, obj));
    }
    Ok(objects)
}

/// Puts `fault` into the lab; returns the changes, for restoring. Every object
/// is read and judged gwlab's before any is changed.
pub async fn apply(
    client: &Client,
    fault: Fault,
    ours: &Ours<'_>,
) -> Result<Vec<Change>, BreakError> {
    let settings = fault.settings();
    let objects = preflight(client, fault, ours).await?;
    let mut changes = Vec::new();
    for (o, obj) in &objects {
        let mut ops = Vec::new();
        for (_, field, after) in settings.iter().filter(|(x, _, _)| x == o) {
            let before = current(obj, field, o)?;
            ops.extend(set_ops(obj, field, Some(after), o)?);
            changes.push(Change {
                object: o.clone(),
                uid: obj["metadata"]["uid"].as_str().unwrap_or_default().into(),
                field: field.clone(),
                before,
                after: after.clone(),
            });
        }
        patch(client, o, ops).await?;
    }
    Ok(changes)
}

/// Puts recorded changes back. `only_still_broken`: only fields that still
/// hold what the break set (after a student's fix, the student's values
/// stand); otherwise every field goes back to its value before the break.
pub async fn restore(
    client: &Client,
    changes: &[Change],
    only_still_broken: bool,
) -> Result<Restored, BreakError> {
    let mut out = Restored::default();
    for c in changes {
        let Some(obj) = read(client, &c.object).await? else {
            out.left.push(format!("{}: it is gone", c.object.display()));
            continue;
        };
        if obj["metadata"]["uid"].as_str() != Some(c.uid.as_str()) {
            out.left.push(format!(
                "{}: not the object gwlab changed (it was made again since)",
                c.object.display()
            ));
            continue;
        }
        let now = current(&obj, &c.field, &c.object)?;
        if now == c.before {
            continue;
        }
        if only_still_broken && now.as_ref() != Some(&c.after) {
            out.left.push(format!(
                "{}: {} is yours now ({}), left as it is",
                c.object.display(),
                c.field.display(),
                now.map_or("absent".into(), |v| v.to_string())
            ));
            continue;
        }
        let ops = set_ops(&obj, &c.field, c.before.as_ref(), &c.object)?;
        patch(client, &c.object, ops).await?;
        out.restored.push(c.describe_undo());
    }
    Ok(out)
}

async fn patch(client: &Client, o: &LabObject, ops: Vec<Value>) -> Result<(), BreakError> {
    if ops.is_empty() {
        return Ok(());
    }
    let patch: json_patch::Patch =
        serde_json::from_value(Value::Array(ops)).expect("gwlab's patch operations are valid");
    api(client, o)
        .patch(&o.name, &patch_params(), &Patch::<()>::Json(patch))
        .await
        .map_err(|source| BreakError::Kube {
            what: format!("cannot change {}", o.display()),
            source: Box::new(source),
        })?;
    Ok(())
}

/// The index of the controller's container in a Deployment.
fn controller_index(obj: &Value, o: &LabObject) -> Result<usize, BreakError> {
    obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .position(|c| c["image"].as_str().is_some_and(kong::is_controller_image))
        })
        .ok_or_else(|| BreakError::NoController {
            object: o.display(),
        })
}

/// The field's value in `obj` (`None`: absent).
fn current(obj: &Value, field: &Field, o: &LabObject) -> Result<Option<Value>, BreakError> {
    Ok(match field {
        Field::Annotation { key } => obj["metadata"]["annotations"].get(key).cloned(),
        Field::ControllerEnv { name } => {
            let i = controller_index(obj, o)?;
            obj["spec"]["template"]["spec"]["containers"][i]["env"]
                .as_array()
                .and_then(|e| e.iter().find(|v| v["name"] == name.as_str()))
                .and_then(|v| v.get("value").cloned())
        }
        Field::HostNetwork => obj["spec"]["template"]["spec"].get("hostNetwork").cloned(),
        Field::Replicas => obj["spec"].get("replicas").cloned(),
    })
}

/// RFC 6901 escaping of one path segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// JSON patch operations that make the field `value` (`None`: remove it),
/// computed on the object as it is now.
fn set_ops(
    obj: &Value,
    field: &Field,
    value: Option<&Value>,
    o: &LabObject,
) -> Result<Vec<Value>, BreakError> {
    let set_or_remove = |parent: &str, parent_exists: bool, key: &str, exists: bool| match value {
        Some(v) if parent_exists => {
            vec![json!({"op": "add", "path": format!("{parent}/{}", escape(key)), "value": v})]
        }
        Some(v) => vec![json!({"op": "add", "path": parent, "value": {key: v}})],
        None if exists => {
            vec![json!({"op": "remove", "path": format!("{parent}/{}", escape(key))})]
        }
        None => vec![],
    };
    Ok(match field {
        Field::Annotation { key } => {
            let annotations = &obj["metadata"]["annotations"];
            set_or_remove(
                "/metadata/annotations",
                annotations.is_object(),
                key,
                annotations.get(key).is_some(),
            )
        }
        Field::HostNetwork => set_or_remove(
            "/spec/template/spec",
            true,
            "hostNetwork",
            obj["spec"]["template"]["spec"].get("hostNetwork").is_some(),
        ),
        Field::Replicas => set_or_remove(
            "/spec",
            true,
            "replicas",
            obj["spec"].get("replicas").is_some(),
        ),
        Field::ControllerEnv { name } => {
            let i = controller_index(obj, o)?;
            let base = format!("/spec/template/spec/containers/{i}/env");
            let env = obj["spec"]["template"]["spec"]["containers"][i]["env"].as_array();
            let at = env.and_then(|e| e.iter().position(|v| v["name"] == name.as_str()));
            match (value, env, at) {
                (Some(v), _, Some(j)) => {
                    vec![
                        json!({"op": "replace", "path": format!("{base}/{j}"), "value": {"name": name, "value": v}}),
                    ]
                }
                (Some(v), Some(_), None) => {
                    vec![
                        json!({"op": "add", "path": format!("{base}/-"), "value": {"name": name, "value": v}}),
                    ]
                }
                (Some(v), None, None) => {
                    vec![json!({"op": "add", "path": base, "value": [{"name": name, "value": v}]})]
                }
                (None, _, Some(j)) => vec![json!({"op": "remove", "path": format!("{base}/{j}")})],
                (None, _, None) => vec![],
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({"metadata": {"name": "kong"}, "spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "proxy", "image": "kong:3.8.0", "env": [{"name": "KONG_DATABASE", "value": "off"}]},
            {"name": "ingress-controller", "image": "kong/kubernetes-ingress-controller:3.4.0",
             "env": [{"name": "CONTROLLER_PUBLISH_SERVICE", "value": "kong-system/kong-proxy"}]}]}}}})
    }

    fn applied(mut obj: Value, ops: Vec<Value>) -> Value {
        let p: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
        json_patch::patch(&mut obj, &p).unwrap();
        obj
    }

    #[test]
    fn a_controller_env_is_added_then_removed_leaving_the_rest() {
        let o = LabObject::deployment();
        let field = Field::ControllerEnv {
            name: "CONTROLLER_FEATURE_GATES".into(),
        };
        let d = deployment();
        assert_eq!(current(&d, &field, &o).unwrap(), None);
        let broken = applied(
            d.clone(),
            set_ops(&d, &field, Some(&json!("Gateway=true")), &o).unwrap(),
        );
        assert_eq!(
            current(&broken, &field, &o).unwrap(),
            Some(json!("Gateway=true"))
        );
        let back = applied(broken.clone(), set_ops(&broken, &field, None, &o).unwrap());
        assert_eq!(back, d);
    }

    #[test]
    fn an_annotation_with_a_slash_and_absent_fields_round_trip() {
        let o = LabObject::gateway();
        let field = Field::Annotation {
            key: kong::PUBLISH_ANNOTATION.into(),
        };
        let gw = json!({"metadata": {"name": "kong"}});
        let broken = applied(
            gw.clone(),
            set_ops(&gw, &field, Some(&json!("x/y")), &o).unwrap(),
        );
        assert_eq!(
            broken["metadata"]["annotations"]["konghq.com/publish-service"],
            "x/y"
        );
        let back = applied(broken.clone(), set_ops(&broken, &field, None, &o).unwrap());
        assert_eq!(back["metadata"]["annotations"], json!({}));

        let d = deployment();
        let o = LabObject::deployment();
        let broken = applied(
            d.clone(),
            set_ops(&d, &Field::HostNetwork, Some(&json!(true)), &o).unwrap(),
        );
        let broken = applied(
            broken.clone(),
            set_ops(&broken, &Field::Replicas, Some(&json!(2)), &o).unwrap(),
        );
        assert_eq!(broken["spec"]["template"]["spec"]["hostNetwork"], true);
        assert_eq!(broken["spec"]["replicas"], 2);
        let back = applied(
            broken.clone(),
            set_ops(&broken, &Field::HostNetwork, None, &o).unwrap(),
        );
        let back = applied(
            back.clone(),
            set_ops(&back, &Field::Replicas, Some(&json!(1)), &o).unwrap(),
        );
        assert_eq!(back, d);
    }

    #[test]
    fn every_fault_has_a_name_and_a_finding() {
        for f in Fault::ALL {
            let parsed: Fault = serde_json::from_value(json!(f.name())).unwrap();
            assert_eq!(parsed, f);
            assert!(!f.finding().is_empty() && !f.settings().is_empty());
        }
    }
}
