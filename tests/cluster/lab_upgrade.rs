//! A lab made with older pins, moved by `gwlab up` to this gwlab's, on a real
//! API server with the stand-in controller and kubelet: the changes are said
//! before anything is written, the pod spec then names the new images by
//! digest, `status` shows them, and a rollout that cannot finish (an image
//! the kubelet cannot pull) leaves the old Kong serving and says how to go
//! on.

use std::path::Path;
use std::process::Output;

use crate::common::bin::text;
use crate::common::home::{command, filled_cache};
use gwlab::lab::lock::Lock;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;

const LOCK: &str = include_str!("../../manifests/lock.yaml");

/// The built-in lock with Kong's two images replaced (by tag, no digest).
fn lock_with(home: &Path, file: &str, kong: &str, kic: &str) -> String {
    let builtin = Lock::builtin();
    let mut text = LOCK.to_string();
    for (name, image) in [("kong", kong), ("kong-ingress-controller", kic)] {
        let locked = builtin.image(name);
        let digest = locked.digest.as_ref().unwrap();
        text = text.replace(
            &format!("    image: {}\n    digest: {digest}\n", locked.image),
            &format!("    image: {image}\n"),
        );
    }
    let path = home.join(file);
    std::fs::write(&path, &text).unwrap();
    Lock::from_path(&path).expect("a valid lock");
    path.display().to_string()
}

fn images(d: &Deployment) -> Vec<String> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| {
            s.containers
                .iter()
                .filter_map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_lab_made_with_older_pins_moves_to_the_new_ones_and_a_stuck_rollout_keeps_the_old_kong() {
    // An API server of its own: the lab's Kong objects have fixed names.
    let Some(env) = crate::common::envtest::another() else {
        return;
    };
    let standin = crate::common::standin::on(env);
    let home = tempfile::tempdir().unwrap();
    if !filled_cache(&home.path().join("cache")) {
        return;
    }
    let kubeconfig = standin.env.kubeconfig.display().to_string();
    let up = |lock: Option<&str>, timeout: &str| -> Output {
        let mut args = vec![
            "up",
            "--provider",
            "existing",
            "--kubeconfig",
            &kubeconfig,
            "--addons",
            "crds,kong",
            "--name",
            "moving",
            "--timeout",
            timeout,
        ];
        if let Some(l) = lock {
            args.extend(["--lock", l]);
        }
        command(&args, home.path()).output().unwrap()
    };
    let client = standin.env.client().await;
    let kong: Api<Deployment> = Api::namespaced(client.clone(), "kong-system");

    // A lab as an older gwlab made it: Kong 3.8 and KIC 3.4, by tag.
    let old = lock_with(
        home.path(),
        "old.yaml",
        "kong:3.8.0",
        "kong/kubernetes-ingress-controller:3.4.1",
    );
    let o = up(Some(&old), "60s");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("by tag alone") && t.contains("kong:3.8.0"),
        "images without a digest are said: {t}"
    );
    assert_eq!(
        images(&kong.get("kong").await.unwrap()),
        ["kong:3.8.0", "kong/kubernetes-ingress-controller:3.4.1"]
    );

    // This gwlab's pins: the change is said, then made, by digest.
    let lock = Lock::builtin();
    let (new_kong, new_kic) = (
        lock.image("kong").reference(),
        lock.image("kong-ingress-controller").reference(),
    );
    let o = up(None, "60s");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!(
            "Deployment kong-system/kong container proxy: kong:3.8.0 → {new_kong}"
        )) && t.contains(&format!(
            "container ingress-controller: kong/kubernetes-ingress-controller:3.4.1 → {new_kic}"
        )),
        "{t}"
    );
    let said = t.find("pins other images").unwrap();
    let installed = t.find("Installing Kong").unwrap();
    assert!(said < installed, "said before anything is written: {t}");
    let d = kong.get("kong").await.unwrap();
    assert_eq!(images(&d), [new_kong.clone(), new_kic.clone()]);
    assert!(gwlab::lab::wait::rolled_out(&d), "the rollout finished");

    let o = command(&["status", "--name", "moving", "-o", "json"], home.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let recorded = v["lab"]["images"].as_array().unwrap();
    let of = |name: &str| recorded.iter().find(|i| i["name"] == name).unwrap().clone();
    assert_eq!(of("kong")["digestFrom"], "lock");
    assert_eq!(
        of("kong")["digest"],
        lock.image("kong").digest.clone().unwrap()
    );
    let o = command(&["status", "--name", "moving"], home.path())
        .output()
        .unwrap();
    assert!(
        text(&o).contains(&format!(
            "kong                     {new_kong} (digest pinned in the lock)"
        )),
        "{}",
        text(&o)
    );

    // A controller image the kubelet cannot pull: the rollout cannot finish,
    // the old pod keeps serving, and `up` says how to go on.
    let stuck = lock_with(
        home.path(),
        "stuck.yaml",
        "kong:3.9.3",
        "unpullable.invalid/kong/kubernetes-ingress-controller:3.5.13",
    );
    let o = up(Some(&stuck), "6s");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("the rollout of Deployment kong-system/kong"),
        "{t}"
    );
    assert!(
        t.contains("ImagePullBackOff"),
        "the waiting pod says why: {t}"
    );
    assert!(
        t.contains("the pod of the earlier ones keeps serving")
            && t.contains("rollout undo deployment/kong"),
        "{t}"
    );
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), "kong-system");
    let serving: Vec<_> = pods
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .collect();
    assert_eq!(serving.len(), 1, "the old pod still serves");
    let serving_images: Vec<String> = serving[0]
        .spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
        .filter_map(|c| c.image.clone())
        .collect();
    assert_eq!(serving_images, [new_kong.clone(), new_kic.clone()]);

    // Going on with this gwlab's pins finishes the move.
    let o = up(None, "60s");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(gwlab::lab::wait::rolled_out(
        &kong.get("kong").await.unwrap()
    ));
}
