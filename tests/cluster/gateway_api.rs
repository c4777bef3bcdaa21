//! Gateway API releases on a real API server: `gwlab up --gateway-api`
//! installs the release asked for, and scenarios written for it run; the
//! standard CRDs of a newer release someone else installed are kept; and
//! CRDs are never taken back to an older release while the cluster has
//! Gateway API's safe-upgrades policy.

use std::path::Path;

use kube::api::{Api, DynamicObject};

use crate::common::bin::text;
use crate::common::home::{command, filled_cache};

fn crds(client: &kube::Client) -> Api<DynamicObject> {
    let (ar, _) =
        gwlab::kinds::resource("apiextensions.k8s.io/v1", "CustomResourceDefinition").unwrap();
    Api::all_with(client.clone(), &ar)
}

async fn bundle_of(client: &kube::Client, crd: &str) -> Option<String> {
    crds(client)
        .get_opt(crd)
        .await
        .unwrap()
        .and_then(|c| c.metadata.annotations)
        .and_then(|a| a.get("gateway.networking.k8s.io/bundle-version").cloned())
}

fn up(home: &Path, kubeconfig: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "up",
        "--provider",
        "existing",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--timeout",
        "120s",
    ];
    args.extend(extra);
    command(&args, home).output().unwrap()
}

#[tokio::test]
async fn up_installs_the_release_asked_for_and_its_scenarios_run_there() {
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    let standin: &'static crate::common::standin::StandIn =
        Box::leak(Box::new(crate::common::standin::on(env)));
    let home = tempfile::tempdir().unwrap();
    if !filled_cache(&home.path().join("cache")) {
        return;
    }
    let client = env.client().await;
    let o = up(
        home.path(),
        &env.kubeconfig,
        &["--addons", "crds,kong", "--gateway-api", "v1.4.1"],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("Installing the Gateway API CRDs v1.4.1 (standard)"),
        "{t}"
    );
    // KIC 3.5 supports Gateway API up to v1.3, as Kong's table says.
    assert!(
        t.contains("warning: the lab's Kong Ingress Controller 3.5 supports Gateway API"),
        "{t}"
    );
    for crd in [
        "httproutes.gateway.networking.k8s.io",
        "backendtlspolicies.gateway.networking.k8s.io",
    ] {
        assert_eq!(
            bundle_of(&client, crd).await.as_deref(),
            Some("v1.4.1"),
            "{crd}"
        );
    }
    // A scenario written for v1.4.1 runs there (the stand-in declares the
    // feature, and the v1.4.1 GatewayClass has room to say so); one for
    // v1.5.1 is unsupported, naming both releases.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = home.path().join("r.json");
    let o = command(
        &[
            "test",
            repo.join("scenarios/named-rules").to_str().unwrap(),
            repo.join("scenarios/cors").to_str().unwrap(),
            "--gateway-address",
            &standin.gateway_address(),
            "--json",
            report.to_str().unwrap(),
        ],
        home.path(),
    )
    .output()
    .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let verdict = |name: &str| {
        json["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(verdict("named-rules")["verdict"], "passed", "{t}");
    assert_eq!(verdict("cors")["verdict"], "unsupported", "{t}");
    assert_eq!(
        verdict("cors")["missingFeatures"],
        serde_json::json!(["Gateway API v1.5.1 (the cluster's CRDs are v1.4.1)"]),
        "{t}"
    );

    // With Gateway API's safe-upgrades policy on the cluster (v1.5.1's
    // standard install carries it), gwlab does not take its own CRDs back to
    // an older release, and changes nothing.
    let policy = crate::common::envtest::upstream()
        .join("gateway-api-v1.5.1/gateway.networking.k8s.io_vap_safeupgrades.yaml");
    let text_of = std::fs::read_to_string(policy).unwrap();
    for doc in gwlab::lab::apply::documents(&text_of, "vap").unwrap() {
        crate::common::envtest::apply_as(&client, "kubectl", doc).await;
    }
    let o = up(
        home.path(),
        &env.kubeconfig,
        &["--addons", "crds", "--gateway-api", "v1.3.0"],
    );
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("the cluster has Gateway API's safe-upgrades policy (safe-upgrades.gateway.networking.k8s.io), which refuses older CRDs than installed"),
        "{t}"
    );
    assert!(
        t.contains("httproutes.gateway.networking.k8s.io v1.4.1 -> v1.3.0"),
        "{t}"
    );
    assert_eq!(
        bundle_of(&client, "httproutes.gateway.networking.k8s.io")
            .await
            .as_deref(),
        Some("v1.4.1")
    );
}

#[tokio::test]
async fn newer_standard_crds_someone_else_installed_are_kept_as_they_are() {
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    if !filled_cache(&home.path().join("cache")) {
        return;
    }
    let client = env.client().await;
    crate::common::envtest::install_gateway_api_at(&client, "v1.5.1").await;
    let before = crds(&client)
        .get("httproutes.gateway.networking.k8s.io")
        .await
        .unwrap();
    // The lab's default release is older: no --force needed, said in a line.
    let o = up(home.path(), &env.kubeconfig, &["--addons", "crds"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("kept as installed (standard channel, v1.2.1 or newer):")
            && t.contains("httproutes.gateway.networking.k8s.io v1.5.1"),
        "{t}"
    );
    let after = crds(&client)
        .get("httproutes.gateway.networking.k8s.io")
        .await
        .unwrap();
    crate::common::envtest::assert_untouched(&before, &after, "the installed v1.5.1 CRD");
    // Asking for a newer release than theirs is refused as before.
    let o = up(
        home.path(),
        &env.kubeconfig,
        &["--addons", "crds", "--gateway-api", "v1.6.1"],
    );
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("httproutes.gateway.networking.k8s.io: installed v1.5.1 (standard channel), gwlab installs v1.6.1 (standard channel)"),
        "{t}"
    );
}

/// Objects that use what one release or another added or refused, each
/// judged by gwlab (reading it as a scenario of that release would) and by
/// a real API server serving that release's standard CRDs (a dry-run
/// server-side apply with strict field validation, as `kubectl apply
/// --server-side --dry-run=server` sends it): the two verdicts agree for
/// every object and every release gwlab knows.
const CASES: &[(&str, &str)] = &[
    (
        "a v1.2.1 route",
        "kind: HTTPRoute\nmetadata: {name: plain, namespace: default}\nspec:\n  rules:\n  - backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a mirror of 10 percent",
        "kind: HTTPRoute\nmetadata: {name: mirror-percent, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: RequestMirror\n      requestMirror: {backendRef: {name: m, port: 80}, percent: 10}\n    backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a mirror of a third",
        "kind: HTTPRoute\nmetadata: {name: mirror-fraction, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: RequestMirror\n      requestMirror: {backendRef: {name: m, port: 80}, fraction: {numerator: 1, denominator: 3}}\n    backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a named rule",
        "kind: HTTPRoute\nmetadata: {name: named, namespace: default}\nspec:\n  rules:\n  - name: checkout\n    backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a 308 redirect",
        "kind: HTTPRoute\nmetadata: {name: permanent, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {scheme: https, statusCode: 308}\n",
    ),
    (
        "a 303 redirect",
        "kind: HTTPRoute\nmetadata: {name: see-other, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect: {hostname: b.example.com, statusCode: 303}\n",
    ),
    (
        "a CORS filter",
        "kind: HTTPRoute\nmetadata: {name: cors, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: CORS\n      cors: {allowOrigins: ['https://app.example.com'], allowMethods: [GET, PUT], maxAge: 60}\n    backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a CORS filter with `*` beside an origin",
        "kind: HTTPRoute\nmetadata: {name: cors-star, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: CORS\n      cors: {allowOrigins: ['*', 'https://app.example.com']}\n    backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a mirror with both percent and fraction",
        "kind: HTTPRoute\nmetadata: {name: mirror-both, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: RequestMirror\n      requestMirror: {backendRef: {name: m, port: 80}, percent: 10, fraction: {numerator: 1}}\n    backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a mirror of 150 percent",
        "kind: HTTPRoute\nmetadata: {name: mirror-over, namespace: default}\nspec:\n  rules:\n  - filters:\n    - type: RequestMirror\n      requestMirror: {backendRef: {name: m, port: 80}, percent: 150}\n    backendRefs: [{name: s, port: 80}]\n",
    ),
    (
        "a route without rules",
        "kind: HTTPRoute\nmetadata: {name: no-rules, namespace: default}\nspec:\n  rules: []\n",
    ),
    (
        "a TLS listener without tls",
        "kind: Gateway\nmetadata: {name: tls-bare, namespace: default}\nspec:\n  gatewayClassName: c\n  listeners: [{name: tls, port: 443, protocol: TLS, hostname: a.example.com}]\n",
    ),
    (
        "twelve infrastructure annotations",
        "kind: Gateway\nmetadata: {name: annotated, namespace: default}\nspec:\n  gatewayClassName: c\n  infrastructure: {annotations: {a1: x, a2: x, a3: x, a4: x, a5: x, a6: x, a7: x, a8: x, a9: x, a10: x, a11: x, a12: x}}\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
    ),
    (
        "a Gateway address without a value",
        "kind: Gateway\nmetadata: {name: unaddressed, namespace: default}\nspec:\n  gatewayClassName: c\n  addresses: [{type: IPAddress}]\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
    ),
];

#[tokio::test]
async fn gwlab_and_a_real_api_server_agree_on_what_each_release_takes() {
    use gwlab::gateway_api::{Release, newer_than};
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    let client = env.client().await;
    let mut table = Vec::new();
    // Oldest first: each release's CRDs replace the one before, as an
    // upgrade would (v1.5.1 brings the safe-upgrades policy, which lets
    // v1.6.1 in).
    for release in Release::ALL {
        crate::common::envtest::install_gateway_api_at(&client, release.as_str()).await;
        let mut row = Vec::new();
        for (what, body) in CASES {
            let text = format!("apiVersion: gateway.networking.k8s.io/v1\n{body}");
            // What gwlab refuses in every release (the rules of the newest),
            // or in this one (what a later one added, or this one refuses).
            let (manifest, gwlab_refuses) =
                match gwlab::manifest::parse_text(Path::new("case.yaml"), &text) {
                    Ok(mut m) => {
                        let m = m.remove(0);
                        let newer = !newer_than(&m, release).is_empty();
                        (m.raw, newer)
                    }
                    Err(_) => (
                        serde_json::to_value(
                            serde_saphyr::from_str::<serde_json::Value>(&text).unwrap(),
                        )
                        .unwrap(),
                        true,
                    ),
                };
            let kind = manifest["kind"].as_str().unwrap();
            let (ar, _) = gwlab::kinds::resource("gateway.networking.k8s.io/v1", kind).unwrap();
            // `kubectl create --dry-run=server --validate=strict`: an unknown
            // field is refused with 400 (strict decoding), an enum or CEL rule
            // broken with 422.
            let uri = format!(
                "/apis/{}/namespaces/default/{}?dryRun=All&fieldValidation=Strict",
                ar.api_version, ar.plural
            );
            let create = || {
                let body = serde_json::to_vec(&manifest).unwrap();
                let req = http::Request::post(uri.as_str())
                    .header("content-type", "application/json")
                    .body(body)
                    .unwrap();
                client.request::<serde_json::Value>(req)
            };
            // A kind whose CRD was just replaced may be briefly unserved.
            let mut answer = create().await;
            for _ in 0..50 {
                match &answer {
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        answer = create().await;
                    }
                    _ => break,
                }
            }
            let server_refuses = match &answer {
                Ok(_) => false,
                Err(kube::Error::Api(s)) if s.code == 400 || s.code == 422 => true,
                Err(e) => panic!("{what} on {release}: {e}"),
            };
            assert_eq!(
                gwlab_refuses,
                server_refuses,
                "{what} on {release}: gwlab {}, the API server {} ({answer:?})",
                if gwlab_refuses {
                    "refuses it"
                } else {
                    "takes it"
                },
                if server_refuses {
                    "refuses it"
                } else {
                    "takes it"
                },
            );
            row.push(if gwlab_refuses { "refused" } else { "taken" });
        }
        table.push((release, row));
    }
    for (i, (what, _)) in CASES.iter().enumerate() {
        let cells: Vec<String> = table
            .iter()
            .map(|(r, row)| format!("{r} {}", row[i]))
            .collect();
        eprintln!("{what}: {}", cells.join(", "));
    }
}
