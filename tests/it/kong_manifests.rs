//! gwlab's own Kong manifests, checked against what KIC 3.4 needs:
//! RBAC for every resource and status subresource it watches and writes, the
//! proxy Service's ports against Kong's listens and the providers' NodePorts,
//! one publish service everywhere, and none of the seed's three failures.

use std::collections::BTreeSet;

use gwlab::kong::{HTTP_NODE_PORT, HTTPS_NODE_PORT};
use gwlab::lab::addons::kong_manifests;
use gwlab::lab::lock::Lock;
use serde_json::Value;

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name}"))
}

fn env<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
}

/// (group, resource, verb) granted by the ClusterRole.
fn grants(role: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        for g in rule["apiGroups"].as_array().unwrap() {
            for r in rule["resources"].as_array().unwrap() {
                for v in rule["verbs"].as_array().unwrap() {
                    out.insert((
                        g.as_str().unwrap().into(),
                        r.as_str().unwrap().into(),
                        v.as_str().unwrap().into(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn rbac_covers_what_kic_3_4_watches_and_writes() {
    let docs = kong_manifests();
    let g = grants(find(&docs, "ClusterRole", "gwlab-kong"));
    let need = |group: &str, resources: &[&str], verbs: &[&str]| {
        for r in resources {
            for v in verbs {
                assert!(
                    g.contains(&(group.to_string(), r.to_string(), v.to_string())),
                    "missing {v} on {group}/{r}"
                );
            }
        }
    };
    need("", &["configmaps", "nodes", "secrets"], &["list", "watch"]);
    need("", &["secrets", "configmaps"], &["get"]);
    need(
        "",
        &["pods", "services", "namespaces"],
        &["get", "list", "watch"],
    );
    need("", &["services/status"], &["get", "patch", "update"]);
    need("", &["events"], &["create", "patch"]);
    need(
        "discovery.k8s.io",
        &["endpointslices"],
        &["get", "list", "watch"],
    );
    need(
        "networking.k8s.io",
        &["ingresses", "ingressclasses"],
        &["get", "list", "watch"],
    );
    need(
        "networking.k8s.io",
        &["ingresses/status"],
        &["get", "patch", "update"],
    );
    let kong_kinds = [
        "ingressclassparameterses",
        "kongclusterplugins",
        "kongconsumergroups",
        "kongconsumers",
        "kongcustomentities",
        "kongingresses",
        "konglicenses",
        "kongplugins",
        "kongupstreampolicies",
        "kongvaults",
        "tcpingresses",
        "udpingresses",
    ];
    need(
        "configuration.konghq.com",
        &kong_kinds,
        &["get", "list", "watch"],
    );
    let statuses: Vec<String> = kong_kinds.iter().map(|k| format!("{k}/status")).collect();
    need(
        "configuration.konghq.com",
        &statuses.iter().map(String::as_str).collect::<Vec<_>>(),
        &["get", "patch", "update"],
    );
    let gw = "gateway.networking.k8s.io";
    need(
        gw,
        &[
            "gatewayclasses",
            "httproutes",
            "grpcroutes",
            "referencegrants",
            "tcproutes",
            "tlsroutes",
            "udproutes",
            "backendtlspolicies",
        ],
        &["get", "list", "watch"],
    );
    need(gw, &["gateways"], &["get", "list", "watch", "update"]);
    need(
        gw,
        &[
            "gateways/status",
            "gatewayclasses/status",
            "httproutes/status",
            "tcproutes/status",
            "tlsroutes/status",
            "udproutes/status",
        ],
        &["get", "update"],
    );
    need(gw, &["grpcroutes/status"], &["get", "patch", "update"]);
    need(gw, &["backendtlspolicies/status"], &["patch", "update"]);
    need(gw, &["referencegrants/status"], &["get"]);
    need(
        "apiextensions.k8s.io",
        &["customresourcedefinitions"],
        &["list", "watch"],
    );

    // The CRDs the lock installs for Kong are exactly the kinds granted.
    let lock = Lock::builtin();
    let crd_plurals: BTreeSet<String> = lock
        .files_of("kong")
        .map(|f| {
            f.file_name()
                .trim_start_matches("configuration.konghq.com_")
                .trim_end_matches(".yaml")
                .to_string()
        })
        .collect();
    assert_eq!(
        crd_plurals,
        kong_kinds.iter().map(|s| s.to_string()).collect()
    );

    let binding = find(&docs, "ClusterRoleBinding", "gwlab-kong");
    assert_eq!(binding["roleRef"]["name"], "gwlab-kong");
    assert_eq!(binding["subjects"][0]["name"], "kong");
    assert_eq!(binding["subjects"][0]["namespace"], "kong-system");
}

#[test]
fn ports_and_publish_service_agree() {
    let docs = kong_manifests();
    let deploy = find(&docs, "Deployment", "kong");
    let pod = &deploy["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    let proxy = containers.iter().find(|c| c["name"] == "proxy").unwrap();
    let kic = containers
        .iter()
        .find(|c| c["name"] == "ingress-controller")
        .unwrap();
    let listen = env(proxy, "KONG_PROXY_LISTEN").unwrap();

    let svc = find(&docs, "Service", "kong-proxy");
    assert_eq!(svc["spec"]["type"], "LoadBalancer");
    for (port, node_port) in [(80, HTTP_NODE_PORT), (443, HTTPS_NODE_PORT)] {
        let p = svc["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["port"] == port)
            .unwrap();
        let target = p["targetPort"]
            .as_u64()
            .expect("targetPort is numeric: a named one maps to 0 in KIC (PortUnavailable)");
        assert!(
            listen.contains(&format!("0.0.0.0:{target}")),
            "targetPort {target} is a Kong listen: {listen}"
        );
        assert_eq!(
            p["nodePort"].as_u64(),
            Some(node_port as u64),
            "the providers map host ports to this nodePort"
        );
        assert!(
            env(proxy, "KONG_PORT_MAPS")
                .unwrap()
                .contains(&format!("{port}:{target}"))
        );
    }
    let publish = env(kic, "CONTROLLER_PUBLISH_SERVICE").unwrap();
    assert_eq!(
        publish,
        format!(
            "{}/{}",
            svc["metadata"]["namespace"].as_str().unwrap(),
            svc["metadata"]["name"].as_str().unwrap()
        )
    );
    let gateway = find(&docs, "Gateway", "kong");
    assert_eq!(
        gateway["metadata"]["annotations"]["konghq.com/publish-service"],
        publish
    );
    assert_eq!(
        svc["spec"]["selector"],
        deploy["spec"]["template"]["metadata"]["labels"]
    );
    assert_eq!(env(proxy, "KONG_ROUTER_FLAVOR"), Some("expressions"));
    assert_eq!(
        env(kic, "CONTROLLER_KONG_ADMIN_URL"),
        Some("https://127.0.0.1:8444")
    );
    assert!(
        env(proxy, "KONG_ADMIN_LISTEN")
            .unwrap()
            .starts_with("127.0.0.1:8444")
    );
}

#[test]
fn none_of_the_seeds_failures_is_possible() {
    let docs = kong_manifests();
    let pod = &find(&docs, "Deployment", "kong")["spec"]["template"]["spec"];
    assert!(
        pod.get("hostNetwork").is_none_or(|h| h == false),
        "no hostNetwork: rolling updates never wait on host ports"
    );
    for c in pod["containers"].as_array().unwrap() {
        assert!(
            env(c, "CONTROLLER_FEATURE_GATES").is_none(),
            "KIC 3 needs no feature gate for Gateway API"
        );
    }
    let class = find(&docs, "GatewayClass", "kong");
    assert_eq!(
        class["spec"]["controllerName"],
        "konghq.com/kic-gateway-controller"
    );
    assert_eq!(
        class["metadata"]["annotations"]["konghq.com/gatewayclass-unmanaged"],
        "true"
    );
}

#[test]
fn images_are_the_locked_ones() {
    let lock = Lock::builtin();
    let docs = kong_manifests();
    let pod = &find(&docs, "Deployment", "kong")["spec"]["template"]["spec"];
    let images: BTreeSet<&str> = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    // By tag and the digest the lock pins: the pod spec names exactly those.
    let kong = lock.image("kong").reference();
    let kic = lock.image("kong-ingress-controller").reference();
    assert!(kong.contains(":3.9.3@sha256:") && kic.contains(":3.5.13@sha256:"));
    let locked: BTreeSet<&str> = [kong.as_str(), kic.as_str()].into();
    assert_eq!(images, locked);
    // Nothing of the manifest's placeholders is left.
    assert!(
        !serde_json::to_string(&docs)
            .unwrap()
            .contains("gwlab.dev/lock/"),
        "every image comes from the lock"
    );
}

#[test]
fn the_lab_gateway_matches_the_scenario_format() {
    let docs = kong_manifests();
    let gw = find(&docs, "Gateway", "kong");
    assert_eq!(gw["metadata"]["namespace"], "kong-system");
    let listeners = gw["spec"]["listeners"].as_array().unwrap();
    let l = |name: &str| listeners.iter().find(|l| l["name"] == name).unwrap();
    assert_eq!(
        (l("http")["protocol"].as_str(), l("http")["port"].as_u64()),
        (Some("HTTP"), Some(80))
    );
    assert_eq!(
        (l("https")["protocol"].as_str(), l("https")["port"].as_u64()),
        (Some("HTTPS"), Some(443))
    );
    assert_eq!(
        l("https")["tls"]["certificateRefs"][0]["name"],
        gwlab::lab::certs::SECRET_NAME
    );
    for name in ["http", "https"] {
        assert_eq!(l(name)["allowedRoutes"]["namespaces"]["from"], "All");
        assert!(l(name).get("hostname").is_none());
    }
}
