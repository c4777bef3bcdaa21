//! An object's status as the API server returns it, in the model's terms, so
//! the runner judges cluster conditions exactly as it judges the embedded ones.

use serde_json::Value;

use crate::model::status::{Condition, ListenerStatus, ObjectStatus, ParentStatus};

/// The string at `key` of `v`, or "".
fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(|v| v.as_str()).unwrap_or_default()
}

/// The array at `key` of `v`; empty when absent or not an array.
fn items<'a>(v: Option<&'a Value>, key: &str) -> &'a [Value] {
    v.and_then(|v| v.get(key))
        .and_then(|l| l.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn conditions(list: Option<&Value>) -> Vec<Condition> {
    list.and_then(|l| l.as_array())
        .map(|l| {
            l.iter()
                .map(|c| Condition {
                    type_: text(c, "type").to_string(),
                    status: text(c, "status").to_string(),
                    reason: text(c, "reason").to_string(),
                    message: text(c, "message").to_string(),
                    observed_generation: c
                        .get("observedGeneration")
                        .and_then(|g| g.as_u64())
                        .unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The status of `obj` (a whole object as JSON).
pub fn object_status(obj: &Value) -> ObjectStatus {
    let generation = obj
        .pointer("/metadata/generation")
        .and_then(|g| g.as_u64())
        .unwrap_or(0);
    let namespace = obj
        .pointer("/metadata/namespace")
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    let status = obj.get("status");
    ObjectStatus {
        generation,
        conditions: conditions(status.and_then(|s| s.get("conditions"))),
        parents: items(status, "parents")
            .iter()
            .map(|p| parent_status(p, namespace))
            .collect(),
        listeners: items(status, "listeners")
            .iter()
            .map(listener_status)
            .collect(),
        supported_features: supported_features(status),
    }
}

/// One `status.parents[]` entry; a parentRef without namespace is in `namespace`.
fn parent_status(p: &Value, namespace: &str) -> ParentStatus {
    let r = &p["parentRef"];
    let ns = r
        .get("namespace")
        .and_then(|n| n.as_str())
        .unwrap_or(namespace);
    ParentStatus {
        parent: format!("{ns}/{}", text(r, "name")),
        section_name: r
            .get("sectionName")
            .and_then(|s| s.as_str())
            .map(String::from),
        port: r.get("port").and_then(|p| p.as_u64()).map(|p| p as u16),
        controller_name: text(p, "controllerName").into(),
        conditions: conditions(p.get("conditions")),
    }
}

/// One `status.listeners[]` entry of a Gateway.
fn listener_status(l: &Value) -> ListenerStatus {
    ListenerStatus {
        name: text(l, "name").into(),
        attached_routes: l
            .get("attachedRoutes")
            .and_then(|a| a.as_u64())
            .unwrap_or(0) as u32,
        supported_kinds: items(Some(l), "supportedKinds")
            .iter()
            .filter_map(|k| k.get("kind")?.as_str().map(String::from))
            .collect(),
        conditions: conditions(l.get("conditions")),
    }
}

/// A GatewayClass's supported features: v1.1 lists feature names; v1.2 lists
/// objects with a name.
fn supported_features(status: Option<&Value>) -> Vec<String> {
    items(status, "supportedFeatures")
        .iter()
        .filter_map(|f| {
            f.as_str()
                .or_else(|| f.get("name").and_then(|n| n.as_str()))
                .map(String::from)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn route_parents_name_their_gateway_with_its_namespace() {
        let route = json!({"metadata": {"name": "r", "namespace": "app", "generation": 3},
            "status": {"parents": [
                {"parentRef": {"name": "kong", "namespace": "kong-system", "sectionName": "http"}, "controllerName": "konghq.com/kic-gateway-controller",
                 "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": 3}]},
                {"parentRef": {"name": "own"}, "controllerName": "c", "conditions": []}]}});
        let st = object_status(&route);
        assert_eq!(st.generation, 3);
        assert_eq!(st.parents[0].parent, "kong-system/kong");
        assert_eq!(st.parents[0].section_name.as_deref(), Some("http"));
        assert_eq!(st.parents[0].conditions[0].observed_generation, 3);
        assert_eq!(
            st.parents[1].parent, "app/own",
            "a parentRef without namespace is the route's"
        );
    }

    #[test]
    fn gateway_listeners_and_class_features() {
        let gw = json!({"metadata": {"generation": 1}, "status": {"conditions": [{"type": "Programmed", "status": "True", "reason": "Programmed", "observedGeneration": 1}],
            "listeners": [{"name": "http", "attachedRoutes": 2, "supportedKinds": [{"kind": "HTTPRoute"}], "conditions": []}]}});
        let st = object_status(&gw);
        assert_eq!(st.listeners[0].attached_routes, 2);
        assert_eq!(st.listeners[0].supported_kinds, vec!["HTTPRoute"]);
        let class = json!({"metadata": {}, "status": {"supportedFeatures": [{"name": "HTTPRoute"}, "Gateway"]}});
        assert_eq!(
            object_status(&class).supported_features,
            vec!["HTTPRoute", "Gateway"]
        );
    }
}
