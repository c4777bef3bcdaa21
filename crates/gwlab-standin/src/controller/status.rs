//! Statuses written as a Gateway API controller writes them: the model's
//! conditions with `lastTransitionTime` (kept while a condition holds its
//! value), Gateway listeners and address, route parents beside those of other
//! controllers. Only what differs from the stored status is written.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::Watched;
use gwlab::kong::CONTROLLER_NAME;
use gwlab::manifest::GATEWAY_GROUP;
use gwlab::model::compile::Compiled;
use gwlab::model::status::{Condition, ObjectStatus};
use gwlab::model::world::ObjKey;
use gwlab::targets::cluster::read_status;

/// Writes every status that differs; false when a write failed.
pub(super) async fn write_all(
    client: &kube::Client,
    watched: &[Watched],
    compiled: &Compiled,
    addresses: &std::collections::BTreeMap<(String, String), String>,
    address: &str,
) -> bool {
    let mut ok = true;
    for (key, desired) in &compiled.status {
        let Some(w) = watched.iter().find(|w| w.kind == key.kind) else {
            continue;
        };
        let Some(current) = stored(w, key) else {
            continue;
        };
        let current_json = serde_json::to_value(&*current).unwrap_or_default();
        // A Gateway's own address (isolated), else the shared one.
        let address = addresses
            .get(&(key.namespace.clone(), key.name.clone()))
            .map_or(address, String::as_str);
        let Some(status) = desired_status(&key.kind, desired, &current_json, address) else {
            continue;
        };
        let mut written = current_json.clone();
        written["status"] = status.clone();
        if same(&key.kind, &written, &current_json) {
            continue;
        }
        let (ar, _) = gwlab::kinds::resource(w.api_version, w.kind).expect("a watched kind");
        let api: Api<DynamicObject> = if key.namespace.is_empty() {
            Api::all_with(client.clone(), &ar)
        } else {
            Api::namespaced_with(client.clone(), &key.namespace, &ar)
        };
        let patch = json!({"status": status});
        if api
            .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .is_err()
        {
            ok = false;
        }
    }
    ok
}

fn stored(w: &Watched, key: &ObjKey) -> Option<std::sync::Arc<DynamicObject>> {
    let (ar, _) = gwlab::kinds::resource(w.api_version, w.kind)?;
    let mut at = kube::runtime::reflector::ObjectRef::new_with(&key.name, ar);
    if !key.namespace.is_empty() {
        at = at.within(&key.namespace);
    }
    w.store.get(&at)
}

/// Whether two objects carry the same status in the model's terms (times and
/// fields the model does not read aside), and the same Gateway addresses.
/// GatewayClass features are left out: an API server that drops them would
/// otherwise be written to at every change.
fn same(kind: &str, a: &Value, b: &Value) -> bool {
    let addresses = |v: &Value| v.pointer("/status/addresses").cloned();
    let status = |v: &Value| {
        let mut s = read_status::object_status(v);
        s.supported_features.clear();
        s
    };
    status(a) == status(b) && (kind != "Gateway" || addresses(a) == addresses(b))
}

/// The status to write for an object of `kind`, or `None` for kinds this
/// controller does not write.
fn desired_status(
    kind: &str,
    desired: &ObjectStatus,
    current: &Value,
    address: &str,
) -> Option<Value> {
    let old = current.get("status").cloned().unwrap_or(Value::Null);
    match kind {
        // supportedFeatures (objects with a name, as the standard channel has
        // them from Gateway API v1.4): what the model implements, so that a
        // cluster target judges the stand-in by what it does. An API server
        // whose GatewayClass schema lacks the field (v1.2.1) drops it.
        "GatewayClass" => Some(json!({
            "conditions": conditions(&desired.conditions, old.get("conditions")),
            "supportedFeatures": desired.supported_features.iter()
                .map(|f| json!({"name": f}))
                .collect::<Vec<_>>(),
        })),
        "Gateway" => {
            let programmed = desired
                .conditions
                .iter()
                .any(|c| c.type_ == "Programmed" && c.status == "True");
            let listeners: Vec<Value> = desired
                .listeners
                .iter()
                .map(|l| {
                    let before = old
                        .get("listeners")
                        .and_then(Value::as_array)
                        .and_then(|ls| ls.iter().find(|o| o["name"] == l.name.as_str()));
                    json!({
                        "name": l.name,
                        "attachedRoutes": l.attached_routes,
                        "supportedKinds": l.supported_kinds.iter()
                            .map(|k| json!({"group": GATEWAY_GROUP, "kind": k}))
                            .collect::<Vec<_>>(),
                        "conditions": conditions(&l.conditions, before.and_then(|b| b.get("conditions"))),
                    })
                })
                .collect();
            let mut status = json!({
                "conditions": conditions(&desired.conditions, old.get("conditions")),
                "listeners": listeners,
            });
            if programmed {
                status["addresses"] = json!([{"type": "IPAddress", "value": address}]);
            }
            Some(status)
        }
        "HTTPRoute" => {
            let namespace = current
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            // Other controllers' entries stay as they are.
            let mut parents: Vec<Value> = old
                .get("parents")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["controllerName"] != CONTROLLER_NAME)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            for p in &desired.parents {
                let (ns, name) = p.parent.split_once('/').unwrap_or((namespace, &p.parent));
                let mut parent_ref = json!({"group": GATEWAY_GROUP, "kind": "Gateway", "namespace": ns, "name": name});
                if let Some(s) = &p.section_name {
                    parent_ref["sectionName"] = json!(s);
                }
                if let Some(port) = p.port {
                    parent_ref["port"] = json!(port);
                }
                let before = old.get("parents").and_then(Value::as_array).and_then(|ps| {
                    ps.iter().find(|o| {
                        o["controllerName"] == CONTROLLER_NAME
                            && o["parentRef"]["name"] == name
                            && o["parentRef"]["sectionName"] == parent_ref["sectionName"]
                    })
                });
                parents.push(json!({
                    "parentRef": parent_ref,
                    "controllerName": p.controller_name,
                    "conditions": conditions(&p.conditions, before.and_then(|b| b.get("conditions"))),
                }));
            }
            Some(json!({"parents": parents}))
        }
        _ => None,
    }
}

/// Conditions as the API has them; a condition whose status did not change
/// keeps its transition time.
fn conditions(list: &[Condition], before: Option<&Value>) -> Vec<Value> {
    let now = k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .unwrap_or_else(|_| k8s_openapi::jiff::Timestamp::now());
    list.iter()
        .map(|c| {
            let since = before
                .and_then(Value::as_array)
                .and_then(|b| {
                    b.iter()
                        .find(|o| o["type"] == c.type_.as_str() && o["status"] == c.status.as_str())
                })
                .and_then(|o| o.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| json!(now.to_string()));
            json!({
                "type": c.type_,
                "status": c.status,
                "reason": c.reason,
                "message": c.message,
                "observedGeneration": c.observed_generation,
                "lastTransitionTime": since,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gwlab::model::status::{ListenerStatus, ParentStatus};

    #[test]
    fn written_status_reads_back_as_the_model_wrote_it() {
        let gw = ObjectStatus {
            generation: 2,
            conditions: vec![Condition::new("Programmed", true, "Programmed", "", 2)],
            listeners: vec![ListenerStatus {
                name: "http".into(),
                attached_routes: 3,
                supported_kinds: vec!["HTTPRoute".into()],
                conditions: vec![Condition::new("Accepted", true, "Accepted", "", 2)],
            }],
            ..Default::default()
        };
        let current = json!({"metadata": {"name": "g", "namespace": "n", "generation": 2}});
        let status = desired_status("Gateway", &gw, &current, "127.0.0.1").unwrap();
        let written = json!({"metadata": current["metadata"], "status": status});
        assert_eq!(read_status::object_status(&written), gw);
        assert_eq!(written["status"]["addresses"][0]["value"], "127.0.0.1");
        assert!(same("Gateway", &written, &written));
        assert!(!same("Gateway", &written, &current));

        let route = ObjectStatus {
            generation: 1,
            parents: vec![ParentStatus {
                parent: "kong-system/kong".into(),
                section_name: Some("http".into()),
                port: None,
                controller_name: CONTROLLER_NAME.into(),
                conditions: vec![Condition::new(
                    "ResolvedRefs",
                    false,
                    "BackendNotFound",
                    "no svc",
                    1,
                )],
            }],
            ..Default::default()
        };
        let other = json!({"parentRef": {"name": "x"}, "controllerName": "example.com/other", "conditions": []});
        let current = json!({"metadata": {"name": "r", "namespace": "app", "generation": 1},
            "status": {"parents": [other]}});
        let status = desired_status("HTTPRoute", &route, &current, "").unwrap();
        assert_eq!(
            status["parents"][0], other,
            "another controller's entry stays"
        );
        let written = json!({"metadata": current["metadata"], "status": status});
        assert_eq!(
            read_status::object_status(&written).parents[1],
            route.parents[0]
        );
    }

    #[test]
    fn a_condition_keeps_its_transition_time_while_its_status_holds() {
        let before = json!([{"type": "Accepted", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}]);
        let same = conditions(
            &[Condition::new("Accepted", true, "Accepted", "", 1)],
            Some(&before),
        );
        assert_eq!(same[0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
        let flipped = conditions(
            &[Condition::new("Accepted", false, "NotAllowed", "", 1)],
            Some(&before),
        );
        assert_ne!(flipped[0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
    }
}
