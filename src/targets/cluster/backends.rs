//! Echo backends on a cluster: a Deployment of the pinned echo-basic image
//! (HTTP on 3000, told its pod, namespace and service name) behind a Service
//! whose port is the backend's.

use serde_json::{Value, json};

pub(crate) const ECHO_PORT: u16 = 3000;

pub fn deployment(namespace: &str, name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"gwlab.dev/backend": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"gwlab.dev/backend": name}},
            "template": {
                "metadata": {"labels": {"gwlab.dev/backend": name}},
                // A disposable echo server stops at once; a long grace period
                // would hold its namespace in Terminating for it.
                "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                    "name": "echo",
                    "image": image,
                    "ports": [{"name": "http", "containerPort": ECHO_PORT}],
                    "env": [
                        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                        {"name": "SERVICE_NAME", "value": name}
                    ],
                    "readinessProbe": {"httpGet": {"path": "/health", "port": ECHO_PORT}, "periodSeconds": 1}
                }]}
            }
        }
    })
}

pub fn service(namespace: &str, name: &str, port: u16) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"gwlab.dev/backend": name}, "ports": [{"name": "http", "port": port, "targetPort": ECHO_PORT, "protocol": "TCP"}]}
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_service_maps_the_backend_port_to_the_echo_port() {
        let s = super::service("ns", "app-v1", 8080);
        assert_eq!(s["spec"]["ports"][0]["port"], 8080);
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 3000);
        let d = super::deployment("ns", "app-v1", "echo:1");
        assert_eq!(
            d["spec"]["template"]["metadata"]["labels"],
            s["spec"]["selector"]
        );
        let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap();
        assert!(
            env.iter()
                .any(|e| e["name"] == "SERVICE_NAME" && e["value"] == "app-v1")
        );
        assert!(env.iter().any(|e| e["name"] == "NAMESPACE"
            && e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"));
    }
}
