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
pub async fn preflight(
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

/// The annotation on each object a break changes: the break's record (which
/// exercise, which fault, each field's value before), written by the same
/// patch that puts the fault in and removed by the one that puts it back, so
/// that the record cannot be lost or taken for the object's own state.
pub const BREAK_ANNOTATION: &str = "gwlab.dev/lab-break";

/// What [`BREAK_ANNOTATION`] holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakRecord {
    pub exercise: String,
    pub fault: Fault,
    pub fields: Vec<FieldRecord>,
}

/// One field of a [`BreakRecord`]: its value before the break (`None`:
/// absent) and the value the break set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldRecord {
    #[serde(flatten)]
    pub field: Field,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    pub after: Value,
}

/// The break record an object carries, if any.
fn record_on(obj: &Value, o: &LabObject) -> Result<Option<BreakRecord>, BreakError> {
    let Some(text) = obj["metadata"]["annotations"].get(BREAK_ANNOTATION) else {
        return Ok(None);
    };
    let text = text.as_str().unwrap_or_default();
    serde_json::from_str(text)
        .map(Some)
        .map_err(|source| BreakError::BadRecord {
            object: o.display(),
            source,
        })
}

fn uid_of(obj: &Value, o: &LabObject) -> Result<String, BreakError> {
    obj["metadata"]["uid"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| BreakError::NoUid {
            object: o.display(),
        })
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
            with_one_retry(client, &o, obj, |obj| break_ops(obj, &o, fault, exercise)).await?;
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

/// The patch that breaks `obj` and records it on it, with the record; none
/// when the object already carries this break (adopted).
fn break_ops(
    obj: &Value,
    o: &LabObject,
    fault: Fault,
    exercise: &str,
) -> Result<(Vec<Value>, BreakRecord), BreakError> {
    if let Some(r) = record_on(obj, o)? {
        return Ok((Vec::new(), r));
    }
    let mut fields = Vec::new();
    let mut ops = Vec::new();
    let mut working = obj.clone();
    for (_, field, after) in fault.settings().into_iter().filter(|(x, _, _)| x == o) {
        fields.push(FieldRecord {
            before: current(&working, &field, o)?,
            field: field.clone(),
            after: after.clone(),
        });
        let step = set_ops(&working, &field, Some(&after), o)?;
        working = patched(working, &step);
        ops.extend(step);
    }
    let record = BreakRecord {
        exercise: exercise.into(),
        fault,
        fields,
    };
    let text = json!(serde_json::to_string(&record).expect("records serialise"));
    ops.extend(set_ops(
        &working,
        &Field::Annotation {
            key: BREAK_ANNOTATION.into(),
        },
        Some(&text),
        o,
    )?);
    Ok((ops, record))
}

/// `ops` applied to `obj` (gwlab's own operations on the object they were
/// computed on always apply).
fn patched(mut obj: Value, ops: &[Value]) -> Value {
    let p: json_patch::Patch = serde_json::from_value(Value::Array(ops.to_vec()))
        .expect("gwlab's patch operations are valid");
    json_patch::patch(&mut obj, &p).expect("operations computed on this object apply to it");
    obj
}

/// How often a patch is computed on a fresh read of an object that changed
/// under it (a controller writing its status changes its resourceVersion).
const ATTEMPTS: usize = 3;

/// Computes a patch on `obj` and sends it, on the condition that the object
/// is unchanged since it was read; if it changed, reads it again and
/// computes again, a few times. Returns the object as read and what `ops` returned.
async fn with_one_retry<T>(
    client: &Client,
    o: &LabObject,
    mut obj: Value,
    ops: impl Fn(&Value) -> Result<(Vec<Value>, T), BreakError>,
) -> Result<(Value, T), BreakError> {
    let mut tried = 1;
    loop {
        let (patch_ops, out) = ops(&obj)?;
        match patch(client, o, &obj, patch_ops).await {
            Err(BreakError::Kube { source, .. }) if tried < ATTEMPTS && changed_since(&source) => {
                tried += 1;
                let again = read(client, o).await?.ok_or_else(|| BreakError::Missing {
                    object: o.display(),
                })?;
                // Made again in between: not the object judged gwlab's.
                if uid_of(&again, o)? != uid_of(&obj, o)? {
                    return Err(BreakError::Replaced {
                        object: o.display(),
                    });
                }
                obj = again;
            }
            Err(e) => return Err(e),
            Ok(()) => return Ok((obj, out)),
        }
    }
}

/// The API server's answer to a patch whose resourceVersion test failed.
fn changed_since(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(ae) if ae.code == 409 || ae.code == 422)
}

/// Puts recorded changes back. `only_still_broken`: only fields that still
/// hold what the break set (after a student's fix, the student's values
/// stand); otherwise every field goes back to its value before the break.
/// The values before come from the record on the object when it carries
/// `exercise`'s (the workspace's copy otherwise), and that record is removed
/// by the same patch.
pub async fn restore(
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
        let (_, (restored, left)) = with_one_retry(client, o, obj, |obj| {
            restore_ops(obj, o, exercise, &ours, only_still_broken)
        })
        .await?;
        out.restored.extend(restored);
        out.left.extend(left);
    }
    Ok(out)
}

type Said = (Vec<String>, Vec<String>);

/// The patch that puts `obj` back and removes its break record, with what it
/// puts back and what it leaves.
fn restore_ops(
    obj: &Value,
    o: &LabObject,
    exercise: &str,
    changes: &[&Change],
    only_still_broken: bool,
) -> Result<(Vec<Value>, Said), BreakError> {
    let (mut restored, mut left) = (Vec::new(), Vec::new());
    let on_object = record_on(obj, o)?;
    let fields: Vec<FieldRecord> = match &on_object {
        Some(r) if r.exercise == exercise => r.fields.clone(),
        Some(r) => {
            left.push(format!(
                "{}: broken since by exercise {} ({}), left for it",
                o.display(),
                r.exercise,
                r.fault.name()
            ));
            return Ok((Vec::new(), (restored, left)));
        }
        None => changes
            .iter()
            .map(|c| FieldRecord {
                field: c.field.clone(),
                before: c.before.clone(),
                after: c.after.clone(),
            })
            .collect(),
    };
    let mut ops = Vec::new();
    let mut working = obj.clone();
    for f in &fields {
        let (before, after) = (
            as_recorded(&f.field, f.before.clone()),
            as_recorded(&f.field, Some(f.after.clone())),
        );
        let now = current(&working, &f.field, o)?;
        if now == before {
            continue;
        }
        if only_still_broken && now != after {
            left.push(format!(
                "{}: {} is yours now ({}), left as it is",
                o.display(),
                f.field.display(),
                now.map_or("absent".into(), |v| v.to_string())
            ));
            continue;
        }
        let step = set_ops(&working, &f.field, before.as_ref(), o)?;
        working = patched(working, &step);
        ops.extend(step);
        restored.push(format!(
            "{}: {} back to {}",
            o.display(),
            f.field.display(),
            before.map_or("(absent)".into(), |v| v.to_string())
        ));
    }
    if on_object.is_some() {
        ops.extend(set_ops(
            &working,
            &Field::Annotation {
                key: BREAK_ANNOTATION.into(),
            },
            None,
            o,
        )?);
    }
    Ok((ops, (restored, left)))
}

/// A value as gwlab records it now: an env variable is its whole entry (a
/// record from before held only its `value`).
fn as_recorded(field: &Field, v: Option<Value>) -> Option<Value> {
    match (field, v) {
        (Field::ControllerEnv { name }, Some(Value::String(s))) => {
            Some(json!({"name": name, "value": s}))
        }
        (_, v) => v,
    }
}

/// Sends `ops` as one JSON patch, on the condition that the object still has
/// the resourceVersion it had when `read` was read.
async fn patch(
    client: &Client,
    o: &LabObject,
    read: &Value,
    ops: Vec<Value>,
) -> Result<(), BreakError> {
    if ops.is_empty() {
        return Ok(());
    }
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(guarded(read, ops)))
        .expect("gwlab's patch operations are valid");
    api(client, o)
        .patch(&o.name, &patch_params(), &Patch::<()>::Json(patch))
        .await
        .map_err(|source| BreakError::Kube {
            what: format!("cannot change {}", o.display()),
            source: Box::new(source),
        })?;
    Ok(())
}

/// `ops` preceded by a test that the object is the version they were
/// computed on: an edit made since fails the patch instead of being undone.
fn guarded(read: &Value, ops: Vec<Value>) -> Vec<Value> {
    let version = read["metadata"]["resourceVersion"].clone();
    std::iter::once(json!({"op": "test", "path": "/metadata/resourceVersion", "value": version}))
        .chain(ops)
        .collect()
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
                .cloned()
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
                    vec![json!({"op": "replace", "path": format!("{base}/{j}"), "value": v})]
                }
                (Some(v), Some(_), None) => {
                    vec![json!({"op": "add", "path": format!("{base}/-"), "value": v})]
                }
                (Some(v), None, None) => {
                    vec![json!({"op": "add", "path": base, "value": [v]})]
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
            set_ops(
                &d,
                &field,
                Some(&json!({"name": "CONTROLLER_FEATURE_GATES", "value": "Gateway=true"})),
                &o,
            )
            .unwrap(),
        );
        assert_eq!(
            current(&broken, &field, &o).unwrap(),
            Some(json!({"name": "CONTROLLER_FEATURE_GATES", "value": "Gateway=true"}))
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

    fn with_gates_from_a_config_map() -> Value {
        let mut d = deployment();
        d["metadata"]["uid"] = json!("u1");
        d["metadata"]["resourceVersion"] = json!("7");
        d["spec"]["template"]["spec"]["containers"][1]["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "CONTROLLER_FEATURE_GATES",
                "valueFrom": {"configMapKeyRef": {"name": "gates", "key": "g"}}}));
        d
    }

    #[test]
    fn the_break_carries_its_record_and_putting_back_restores_a_value_from_and_drops_it() {
        let o = LabObject::deployment();
        let d = with_gates_from_a_config_map();
        let (ops, record) = break_ops(&d, &o, Fault::FeatureGateGateway, "03-gates").unwrap();
        let broken = applied(d.clone(), ops);
        let on = record_on(&broken, &o).unwrap().unwrap();
        assert_eq!(on, record);
        assert_eq!(on.exercise, "03-gates");
        assert_eq!(
            on.fields[0].before.as_ref().unwrap()["valueFrom"]["configMapKeyRef"]["name"],
            "gates"
        );
        // Breaking again adopts the record rather than taking the fault for
        // the value before.
        let (again, adopted) =
            break_ops(&broken, &o, Fault::FeatureGateGateway, "03-gates").unwrap();
        assert!(again.is_empty());
        assert_eq!(adopted, record);

        // The workspace's copy is stale (says absent): the object's record wins.
        let stale = Change {
            object: o.clone(),
            uid: "u1".into(),
            field: record.fields[0].field.clone(),
            before: None,
            after: record.fields[0].after.clone(),
        };
        let (ops, (restored, left)) =
            restore_ops(&broken, &o, "03-gates", &[&stale], false).unwrap();
        assert_eq!((restored.len(), left.len()), (1, 0));
        let back = applied(broken.clone(), ops);
        assert_eq!(back["metadata"]["annotations"], json!({}));
        let mut expected = d.clone();
        expected["metadata"]["annotations"] = json!({});
        assert_eq!(back, expected);

        // Another exercise's record is left for it.
        let (ops, (_, left)) = restore_ops(&broken, &o, "04-other", &[&stale], false).unwrap();
        assert!(ops.is_empty() && left[0].contains("03-gates"));
    }

    #[test]
    fn every_patch_is_conditional_on_the_version_read() {
        let d = with_gates_from_a_config_map();
        let ops = guarded(&d, vec![json!({"op": "remove", "path": "/spec/replicas"})]);
        assert_eq!(
            ops[0],
            json!({"op": "test", "path": "/metadata/resourceVersion", "value": "7"})
        );
        let mut edited = d.clone();
        edited["metadata"]["resourceVersion"] = json!("8");
        let p: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
        assert!(json_patch::patch(&mut edited, &p).is_err());
    }

    #[test]
    fn an_object_without_a_uid_is_an_error_not_an_empty_uid() {
        let o = LabObject::deployment();
        assert!(matches!(
            uid_of(&deployment(), &o),
            Err(BreakError::NoUid { .. })
        ));
    }
}
