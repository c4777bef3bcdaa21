//! Reading and patching the lab's objects on the API server, each patch on
//! the condition that the object is still the version it was computed on.

use super::*;
use crate::kube_api::ApiError;

pub(super) use crate::kube_api::patch_params;

pub(super) fn api(client: &Client, o: &LabObject) -> Api<DynamicObject> {
    let (ar, _) = resource(&o.api_version, &o.kind).expect("gwlab knows the lab's kinds");
    Api::namespaced_with(client.clone(), &o.namespace, &ar)
}

pub(super) async fn read(client: &Client, o: &LabObject) -> Result<Option<Value>, BreakError> {
    let got = api(client, o)
        .get_opt(&o.name)
        .await
        .map_err(ApiError::doing(format!("cannot read {}", o.display())))?;
    Ok(got.map(|d| serde_json::to_value(d).expect("objects serialise")))
}

/// How often a patch is computed on a fresh read of an object that changed
/// under it (a controller writing its status changes its resourceVersion).
pub(super) const ATTEMPTS: usize = 8;

/// Computes a patch on `obj` and sends it, on the condition that the object
/// is unchanged since it was read; if it changed, reads it again and
/// computes again, a few times. Returns the object as read and what `ops` returned.
pub(super) async fn retrying_on_change<T>(
    client: &Client,
    o: &LabObject,
    mut obj: Value,
    ops: impl Fn(&Value) -> Result<(Vec<Value>, T), BreakError>,
) -> Result<(Value, T), BreakError> {
    let mut tried = 1;
    loop {
        let (patch_ops, out) = ops(&obj)?;
        match patch(client, o, &obj, patch_ops).await {
            Err(BreakError::Kube(ApiError { source, .. }))
                if tried < ATTEMPTS && changed_since(&source) =>
            {
                // Controllers write the object's status too (a rollout does,
                // many times): give them a moment before reading again.
                tokio::time::sleep(std::time::Duration::from_millis(50 << tried.min(4))).await;
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
pub(super) fn changed_since(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(ae) if ae.code == 409 || ae.code == 422)
}

/// Sends `ops` as one JSON patch, on the condition that the object still has
/// the resourceVersion it had when `read` was read.
pub(super) async fn patch(
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
        .map_err(ApiError::doing(format!("cannot change {}", o.display())))?;
    Ok(())
}

/// `ops` preceded by a test that the object is the version they were
/// computed on: an edit made since fails the patch instead of being undone.
pub(super) fn guarded(read: &Value, ops: Vec<Value>) -> Vec<Value> {
    let version = read["metadata"]["resourceVersion"].clone();
    std::iter::once(json!({"op": "test", "path": "/metadata/resourceVersion", "value": version}))
        .chain(ops)
        .collect()
}
