//! A load bench (ignored; `bench/cluster.sh` runs it): 200 generated
//! scenarios, each with its own echo backend, route and probe, run eight at a
//! time on the lab on a real API server with the stand-in controller. It
//! prints the wall time, the per-scenario p50 and p99, the API requests per
//! scenario (the API server's own `apiserver_request_total`), gwlab's peak
//! memory (`/usr/bin/time -v`), and checks that nothing is left.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::bin::text;
use crate::common::home::command;

const SCENARIOS: usize = 200;

/// One scenario: a backend, a route for its own hostname, a condition and
/// a probe.
fn write_scenario(dir: &Path, i: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("route.yaml"),
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: load-{i}\nspec:\n  parentRefs:\n    - {{name: kong, namespace: kong-system}}\n  hostnames: [s{i}.load.example]\n  rules:\n    - backendRefs:\n        - {{name: app, port: 8080}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("scenario.yaml"),
        format!(
            "name: load-{i}\nbackends:\n  - name: app\nconditions:\n  - resource: HTTPRoute/load-{i}\n    type: Accepted\nprobes:\n  - name: answered\n    request: {{url: \"http://s{i}.load.example/\"}}\n    expect: {{status: 200, backend: app}}\n"
        ),
    )
    .unwrap();
}

/// The API server's count of requests served so far.
async fn requests_served(client: &kube::Client) -> f64 {
    let req = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(req).await.unwrap();
    text.lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test]
#[ignore = "a benchmark: bench/cluster.sh runs it"]
async fn bench_200_generated_scenarios_eight_at_a_time() {
    if !Path::new("/usr/bin/time").exists() {
        crate::common::skip::not_run(
            "no /usr/bin/time to read gwlab's peak memory (Debian: apt-get install time)",
        );
        return;
    }
    let Some(lab) = crate::common::lab::own() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for i in 0..SCENARIOS {
        write_scenario(&dir.path().join(format!("s{i:03}")), i);
    }
    let client = lab.standin.env.client().await;
    let report = lab.home.path().join("load.json");
    let before = requests_served(&client).await;
    let t0 = Instant::now();
    let gwlab_bin = command::<&str>(&[], lab.home.path())
        .get_program()
        .to_owned();
    let mut timed = std::process::Command::new("/usr/bin/time");
    timed.arg("-v").arg(&gwlab_bin).args([
        "test",
        dir.path().to_str().unwrap(),
        "--parallel",
        "8",
        "--gateway-address",
        &lab.standin.gateway_address(),
        "--json",
        report.to_str().unwrap(),
        "-q",
    ]);
    // The same environment as every gwlab the tests run (its own home).
    let template = command::<&str>(&[], lab.home.path());
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let o = timed.output().unwrap();
    let wall = t0.elapsed();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let served = requests_served(&client).await - before;
    let peak_kb: u64 = String::from_utf8_lossy(&o.stderr)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("/usr/bin/time -v reports the peak");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let mut each: Vec<f64> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["verdict"], "passed", "{s}");
            s["durationSeconds"].as_f64().unwrap()
        })
        .collect();
    each.sort_by(f64::total_cmp);
    assert_eq!(each.len(), SCENARIOS);
    let run = json["runId"].as_str().unwrap();
    let left = crate::common::envtest::until_none_labelled(
        &client,
        &format!("gwlab.dev/run={run}"),
        Duration::from_secs(120),
    )
    .await;
    assert!(left.is_empty(), "{left:?}");
    println!(
        "{SCENARIOS} scenarios, --parallel 8: {:.1}s wall; per scenario p50 {:.2}s, p99 {:.2}s; {:.0} API requests per scenario ({served:.0} in all, the stand-in controller's included); gwlab's peak memory {:.1} MiB; nothing left",
        wall.as_secs_f64(),
        percentile(&each, 0.5),
        percentile(&each, 0.99),
        served / SCENARIOS as f64,
        peak_kb as f64 / 1024.0
    );
}
