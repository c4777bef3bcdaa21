//! HTTPRoutes that are not Accepted or not ResolvedRefs, with the reason
//! turned into the change to make.

use serde_json::Value;

use super::facts::Facts;
use super::{Finding, Layer};

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// The ReferenceGrant that would let routes of `from_ns` use Service `name` in `to_ns`.
pub(crate) fn grant_yaml(from_ns: &str, to_ns: &str, name: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata:\n  name: allow-httproutes-from-{from_ns}\n  namespace: {to_ns}\nspec:\n  from:\n    - group: gateway.networking.k8s.io\n      kind: HTTPRoute\n      namespace: {from_ns}\n  to:\n    - group: \"\"\n      kind: Service\n      name: {name}\n"
    )
}

pub fn check(f: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    for route in &f.routes {
        let ns = route["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = route["metadata"]["name"].as_str().unwrap_or_default();
        let what = format!("HTTPRoute {ns}/{name}");
        for parent in route["status"]["parents"].as_array().into_iter().flatten() {
            let r = &parent["parentRef"];
            let gw_ns = r["namespace"].as_str().unwrap_or(ns);
            let gw_name = s(r, "name");
            for c in parent["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["status"] != "True")
            {
                let (type_, reason, message) = (s(c, "type"), s(c, "reason"), s(c, "message"));
                let evidence = format!(
                    "{what}: parent {gw_ns}/{gw_name}: {type_}={} ({reason}: {message})",
                    s(c, "status")
                );
                let finding = match (type_, reason) {
                    ("Accepted", "NotAllowedByListeners") => {
                        let gw = f.gateways.iter().find(|g| g["metadata"]["name"] == gw_name && g["metadata"]["namespace"] == gw_ns);
                        let listeners: Vec<String> = gw
                            .and_then(|g| g["spec"]["listeners"].as_array())
                            .map(|ls| ls.iter().map(|l| format!("{} (allowedRoutes from: {})", s(l, "name"), l["allowedRoutes"]["namespaces"]["from"].as_str().unwrap_or("Same"))).collect())
                            .unwrap_or_default();
                        let mut fnd = Finding::new("route-not-allowed", Layer::Routes, format!("{what} is not accepted: no listener of Gateway {gw_ns}/{gw_name} admits routes from namespace {ns}")).evidence(evidence);
                        if !listeners.is_empty() {
                            fnd = fnd.evidence(format!("listeners: {}", listeners.join(", ")));
                        }
                        fnd.fix(format!("on the listener the route is for, set `allowedRoutes: {{namespaces: {{from: All}}}}`, or `from: Selector` with a selector matching namespace {ns}'s labels (e.g. kubernetes.io/metadata.name: {ns})"))
                    }
                    ("Accepted", "NoMatchingListenerHostname") => Finding::new("route-hostname-mismatch", Layer::Routes, format!("{what} is not accepted: none of its hostnames is served by a listener of Gateway {gw_ns}/{gw_name}"))
                        .evidence(evidence)
                        .evidence(format!("route hostnames: {}", route["spec"]["hostnames"].as_array().map(|h| h.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default()))
                        .fix("make a route hostname fall under a listener's hostname (exact, or under its `*.` wildcard), or attach to a listener without a hostname"),
                    ("Accepted", "NoMatchingParent") => Finding::new("route-no-matching-parent", Layer::Routes, format!("{what} is not accepted: its parentRef matches no listener of {gw_ns}/{gw_name}"))
                        .evidence(evidence)
                        .evidence(format!("parentRef sectionName: {}, port: {}", r["sectionName"].as_str().unwrap_or("(none)"), r["port"].as_u64().map(|p| p.to_string()).unwrap_or_else(|| "(none)".into())))
                        .fix(format!("use a sectionName (listener name) and port that the Gateway has: `kubectl get gateway -n {gw_ns} {gw_name} -o yaml`")),
                    ("ResolvedRefs", "RefNotPermitted") => {
                        let mut fnd = Finding::new("route-ref-not-permitted", Layer::Routes, format!("{what} refers to a Service in another namespace that no ReferenceGrant allows")).evidence(evidence);
                        for b in route["spec"]["rules"].as_array().into_iter().flatten().flat_map(|r| r["backendRefs"].as_array().into_iter().flatten()) {
                            let Some(to_ns) = b["namespace"].as_str().filter(|n| *n != ns) else { continue };
                            let svc = s(b, "name");
                            let granted = f.grants.iter().any(|g| {
                                g["metadata"]["namespace"] == to_ns
                                    && g["spec"]["from"].as_array().is_some_and(|fr| fr.iter().any(|x| x["kind"] == "HTTPRoute" && x["namespace"] == ns && x["group"] == "gateway.networking.k8s.io"))
                                    && g["spec"]["to"].as_array().is_some_and(|to| to.iter().any(|x| x["kind"] == "Service" && x["group"] == "" && x["name"].as_str().is_none_or(|n| n == svc)))
                            });
                            if !granted {
                                fnd = fnd.fix(format!("add this ReferenceGrant:\n{}", grant_yaml(ns, to_ns, svc).trim_end().lines().map(|l| format!("        {l}")).collect::<Vec<_>>().join("\n")));
                            }
                        }
                        fnd
                    }
                    ("ResolvedRefs", "BackendNotFound") => {
                        let mut fnd = Finding::new("route-backend-not-found", Layer::Routes, format!("{what} sends traffic to a Service that does not exist (that share answers 500)")).evidence(evidence);
                        for b in route["spec"]["rules"].as_array().into_iter().flatten().flat_map(|r| r["backendRefs"].as_array().into_iter().flatten()) {
                            let to_ns = b["namespace"].as_str().unwrap_or(ns);
                            let svc = s(b, "name");
                            if !f.services_all.iter().any(|(n, m)| n == to_ns && m == svc) {
                                fnd = fnd.fix(format!("Service {to_ns}/{svc} was looked for and not found: create it, or fix the backendRef's name or namespace"));
                            }
                        }
                        fnd
                    }
                    _ => Finding::new("route-condition", Layer::Routes, format!("{what}: {type_} is {}", s(c, "status"))).evidence(evidence).fix("see the condition's message"),
                };
                out.push(finding);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_grant_written_out_is_a_valid_reference_grant() {
        let yaml = super::grant_yaml("frontend", "shared", "api");
        let m = crate::manifest::parse_text(std::path::Path::new("grant.yaml"), &yaml).unwrap();
        assert_eq!(m[0].kind, "ReferenceGrant");
        assert_eq!(m[0].namespace.as_deref(), Some("shared"));
    }
}
