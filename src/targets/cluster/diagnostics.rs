//! The diagnostics bundle of a failed scenario on a cluster: every object the
//! scenario made, with its status; the events of its namespaces; the last lines
//! of the Kong controller and proxy logs; Kong's status as the proxy reports it.
//! The few lines that explain the most go into the failure report itself.

use std::path::Path;

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams};

use super::ClusterTarget;
use super::read_status::object_status;
use crate::kube_api::{TRANSIENT_BUDGET, retrying};
use crate::manifest::Manifest;
use crate::model::lab_gateway;
use crate::targets::Diagnosis;

const LOG_LINES: i64 = 200;

/// Conditions that are not True, as report lines.
pub(crate) fn telling_conditions(what: &str, obj: &serde_json::Value) -> Vec<String> {
    let st = object_status(obj);
    let mut out = Vec::new();
    let bad = |c: &crate::model::status::Condition| {
        c.status != "True" && !(c.type_ == "Conflicted" && c.status == "False")
    };
    for c in st.conditions.iter().filter(|c| bad(c)) {
        out.push(format!(
            "{what}: {}={} ({}: {})",
            c.type_, c.status, c.reason, c.message
        ));
    }
    for p in &st.parents {
        for c in p.conditions.iter().filter(|c| bad(c)) {
            out.push(format!(
                "{what}: parent {}: {}={} ({}: {})",
                p.parent, c.type_, c.status, c.reason, c.message
            ));
        }
    }
    for l in &st.listeners {
        for c in l.conditions.iter().filter(|c| bad(c)) {
            out.push(format!(
                "{what}: listener {}: {}={} ({}: {})",
                l.name, c.type_, c.status, c.reason, c.message
            ));
        }
    }
    out
}

impl ClusterTarget {
    pub(super) async fn write_bundle(
        &self,
        objects: &[Manifest],
        namespaces: &[String],
        dir: &Path,
    ) -> Option<Diagnosis> {
        std::fs::create_dir_all(dir).ok()?;
        let mut lines = self.write_objects(objects, dir).await;
        self.write_events(namespaces, dir).await;
        lines.extend(self.write_kong(dir).await);
        lines.truncate(3);
        Some(Diagnosis {
            bundle: dir.to_path_buf(),
            lines,
        })
    }

    /// objects.yaml: every object as the cluster has it. Returns the lines
    /// that tell: objects missing, Gateway API conditions not True.
    async fn write_objects(&self, objects: &[Manifest], dir: &Path) -> Vec<String> {
        let mut lines = Vec::new();
        let mut yaml = Vec::new();
        for m in objects {
            let Ok((ar, namespaced)) = self.resource(&m.api_version, &m.kind).await else {
                continue;
            };
            let api = self.api(&ar, namespaced, m.namespace.as_deref());
            // Only an answer of "not found" says an object is missing; a read
            // that failed says that, never "does not exist".
            let obj = match retrying(TRANSIENT_BUDGET, || api.get_opt(&m.name)).await {
                Ok(Some(obj)) => obj,
                Ok(None) => {
                    lines.push(format!(
                        "{} does not exist on the cluster",
                        m.display_name()
                    ));
                    continue;
                }
                Err(e) => {
                    lines.push(format!(
                        "{} could not be read: {}",
                        m.display_name(),
                        crate::kube_api::sentence(&e)
                    ));
                    continue;
                }
            };
            let json = serde_json::to_value(&obj).unwrap_or_default();
            if m.api_version.starts_with("gateway.networking.k8s.io/") {
                lines.extend(telling_conditions(&short_name(m), &json));
            }
            yaml.push(serde_saphyr::to_string(&json).unwrap_or_default());
        }
        let _ = std::fs::write(dir.join("objects.yaml"), yaml.join("---\n"));
        lines
    }

    /// events.txt: the events of the scenario's namespaces.
    async fn write_events(&self, namespaces: &[String], dir: &Path) {
        let mut events = String::new();
        for ns in namespaces {
            let api: Api<Event> = Api::namespaced(self.client.clone(), ns);
            if let Ok(list) = api.list(&ListParams::default()).await {
                for e in list {
                    let object = e.involved_object.name.clone().unwrap_or_default();
                    events.push_str(&format!(
                        "{ns} {} {} {}: {}\n",
                        e.type_.unwrap_or_default(),
                        e.reason.unwrap_or_default(),
                        object,
                        e.message.unwrap_or_default()
                    ));
                }
            }
        }
        let _ = std::fs::write(dir.join("events.txt"), events);
    }

    /// The first Kong pod's controller and proxy logs, and Kong's status as
    /// the proxy reports it. Returns the controller's last error, if any.
    async fn write_kong(&self, dir: &Path) -> Option<String> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), lab_gateway::GATEWAY_NAMESPACE);
        let list = pods
            .list(&ListParams::default().labels("app=kong"))
            .await
            .ok()?;
        let name = list
            .items
            .first()?
            .metadata
            .name
            .clone()
            .unwrap_or_default();
        let mut line = None;
        for (container, file) in [("ingress-controller", "kic.log"), ("proxy", "proxy.log")] {
            let params = LogParams {
                container: Some(container.into()),
                tail_lines: Some(LOG_LINES),
                ..Default::default()
            };
            if let Ok(text) = pods.logs(&name, &params).await {
                if container == "ingress-controller"
                    && let Some(last_error) = last_error(&text)
                {
                    line = Some(format!(
                        "KIC: {}",
                        last_error.chars().take(300).collect::<String>()
                    ));
                }
                let _ = std::fs::write(dir.join(file), text);
            }
        }
        let path = format!(
            "/api/v1/namespaces/{}/pods/{name}:8100/proxy/status",
            lab_gateway::GATEWAY_NAMESPACE
        );
        if let Ok(req) = http::Request::get(path).body(Vec::new())
            && let Ok(text) = self.client.request_text(req).await
        {
            let _ = std::fs::write(dir.join("kong-status.json"), text);
        }
        line
    }
}

/// `Kind name`, without the namespace, for report lines.
fn short_name(m: &Manifest) -> String {
    format!(
        "{} {}",
        m.kind,
        m.display_name()
            .split_once('/')
            .map(|(_, n)| n)
            .unwrap_or(&m.name)
    )
}

/// The last line of a log that reports an error, in any of the usual formats.
fn last_error(log: &str) -> Option<&str> {
    log.lines().rev().find(|l| {
        l.contains("\"level\":\"error\"") || l.contains("level=error") || l.contains("\terror\t")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_conditions_that_are_not_true_tell() {
        let route = serde_json::json!({"metadata": {"namespace": "app"}, "status": {"parents": [{"parentRef": {"name": "kong", "namespace": "kong-system"},
            "conditions": [{"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners", "message": "no listener admits namespace app"},
                           {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": ""}]}]}});
        let lines = super::telling_conditions("HTTPRoute app/r", &route);
        assert_eq!(
            lines,
            vec![
                "HTTPRoute app/r: parent kong-system/kong: Accepted=False (NotAllowedByListeners: no listener admits namespace app)"
            ]
        );
    }
}
