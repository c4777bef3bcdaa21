//! `gwlab lab` end to end: the repository's catalogue verifies, a student
//! goes from start to solved and back, `--watch` reacts to a save, and a
//! malformed lab is named by file, line and field.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const LAB: &str = "kong-to-gateway-api";

fn gwlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GWLAB_LABS")
        .env_remove("GWLAB_TARGET")
        .output()
        .expect("gwlab runs")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A file of the catalogue's solution of an exercise.
fn solution(exercise: &str, file: &str) -> String {
    std::fs::read_to_string(repo(&format!("labs/{LAB}/{exercise}/solution/{file}"))).unwrap()
}

#[test]
fn every_exercise_of_the_repository_catalogue_is_sound() {
    let o = gwlab(&["lab", "verify", repo("labs").to_str().unwrap()]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    let ok = all.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(ok >= 10, "at least 10 sound exercises:\n{all}");
    assert!(!all.contains("FAIL"), "{all}");
    // The course's titles are what `list` shows, from the built-in catalogue.
    let list = out(&gwlab(&["lab", "list"]));
    assert!(
        list.contains("From Kong Ingress to Gateway API (2h, 10 exercises"),
        "{list}"
    );
    assert!(list.contains("The Kong redirect and its trap"), "{list}");
}

#[test]
fn a_student_goes_from_start_to_solved_to_the_next_exercise_and_back() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let wss = ws.to_str().unwrap();

    let o = gwlab(&["lab", "start", LAB, "--dir", wss]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("Exercise 1 of 10: A first route to a Service"));
    let ex1 = ws.join("01-first-route");
    assert!(ex1.join("README.md").is_file() && ex1.join("route.yaml").is_file());

    // The starting files fail, saying what came back and how to see why.
    let o = gwlab(&["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("✗ request: the portal answers on http://portal.imprun.dev/"),
        "{all}"
    );
    assert!(all.contains("status: expected 200, got 404"), "{all}");
    let explain = format!(
        "why: gwlab explain {} --url http://portal.imprun.dev/",
        ex1.display()
    );
    assert!(all.contains(&explain), "{all}");
    assert!(
        !all.contains("how the reference gateway routes it"),
        "one explain line per failure, the lab's: {all}"
    );
    // The command it prints runs and shows the cause.
    let o = gwlab(&[
        "explain",
        ex1.to_str().unwrap(),
        "--url",
        "http://portal.imprun.dev/",
    ]);
    assert!(out(&o).contains("does not exist"), "{}", out(&o));

    let o = gwlab(&["lab", "hint", wss]);
    assert!(out(&o).contains("Hint 1 of 2"), "{}", out(&o));
    let o = gwlab(&["lab", "solution", wss]);
    assert!(
        out(&o).contains("+       namespace: kong-system"),
        "{}",
        out(&o)
    );

    // Fixed: solved, marked done, and the next exercise is there.
    std::fs::write(
        ex1.join("route.yaml"),
        solution("01-first-route", "route.yaml"),
    )
    .unwrap();
    let o = gwlab(&["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("✓ Solved: A first route to a Service"),
        "{all}"
    );
    assert!(all.contains("Exercise 2 of 10: Path routing"), "{all}");
    assert!(ws.join("02-path-routing/route.yaml").is_file());
    let status = out(&gwlab(&["lab", "status", wss]));
    assert!(status.contains("1 of 10 exercises done"), "{status}");
    assert!(status.contains("✓  1. A first route"), "{status}");
    assert!(status.contains("→  2. Path routing"), "{status}");

    // Checking from inside an exercise directory works too.
    let o = gwlab(&["lab", "check", ws.join("02-path-routing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));

    // Resetting the exercise keeps the student's files in the backup.
    std::fs::write(ws.join("02-path-routing/route.yaml"), "# my attempt\n").unwrap();
    let o = gwlab(&["lab", "reset", wss, "--exercise"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let kept = ws.join(".gwlab-backup/02-path-routing-1/route.yaml");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), "# my attempt\n");
    assert_ne!(
        std::fs::read_to_string(ws.join("02-path-routing/route.yaml")).unwrap(),
        "# my attempt\n"
    );

    // Resetting the lab starts over at exercise 1 with its starting files.
    let o = gwlab(&["lab", "reset", wss]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(!ws.join("02-path-routing").exists());
    assert!(
        ws.join(".gwlab-backup/01-first-route-1/route.yaml")
            .is_file()
    );
    let status = out(&gwlab(&["lab", "status", wss]));
    assert!(status.contains("0 of 10 exercises done"), "{status}");
    assert_eq!(gwlab(&["lab", "check", wss]).status.code(), Some(1));
}

#[test]
fn start_never_overwrites_a_students_files() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("mine.yaml"), "keep me").unwrap();
    let o = gwlab(&["lab", "start", LAB, "--dir", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("never overwrites"), "{}", out(&o));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("mine.yaml")).unwrap(),
        "keep me"
    );
    assert!(!tmp.path().join(".gwlab-lab.json").exists());
    // A directory that is not a workspace is not offered as one.
    assert!(
        out(&o).contains("give --dir an empty or new directory"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains("lab status"), "{}", out(&o));

    // A workspace already there is offered to continue in; `.` reads as
    // words in a sentence.
    let ws = tmp.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args(["lab", "start", LAB, "--dir", "."])
        .current_dir(&ws)
        .env("NO_COLOR", "1")
        .env_remove("GWLAB_LABS")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains(") in this directory, checked on"),
        "{}",
        out(&o)
    );
    // The solution written with a comment and in flow style is the solution.
    let solution = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("labs")
            .join(LAB)
            .join("01-first-route/solution/route.yaml"),
    )
    .unwrap();
    assert!(solution.contains("metadata:\n  name: portal\n"));
    let restyled = format!(
        "# my answer\n{}",
        solution.replace("metadata:\n  name: portal\n", "metadata: {name: portal}\n")
    );
    std::fs::write(ws.join("01-first-route/route.yaml"), &restyled).unwrap();
    let o = gwlab(&["lab", "solution", ws.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("route.yaml: the same as the solution, written another way"),
        "{}",
        out(&o)
    );
    let o = gwlab(&["lab", "start", LAB, "--dir", ws.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains(&format!(
            "continue there with `gwlab lab status {}`",
            ws.display()
        )),
        "{}",
        out(&o)
    );
}

#[test]
fn watch_checks_again_when_a_file_is_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    assert_eq!(
        gwlab(&["lab", "start", LAB, "--dir", ws.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    // Output to a file, read as it grows: no pipe for other tests' children
    // to inherit.
    let log = tmp.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gwlab"))
        .args(["lab", "check", "--watch", ws.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .env_remove("GWLAB_LABS")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(tmp.path().join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let stderr = tmp.path().join("stderr");
    // Waits until the output holds `needle` `times` times in all.
    let wait_for = |needle: &str, times: usize| -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.matches(needle).count() >= times {
                return text;
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "no {needle:?} ({times}); output:\n{text}\nstderr: {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let first = wait_for("Watching", 1);
    assert!(first.contains("Not solved yet"), "{first}");
    std::fs::write(
        ws.join("01-first-route/route.yaml"),
        solution("01-first-route", "route.yaml"),
    )
    .unwrap();
    let after = wait_for("Watching", 2);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        after.contains("✓ Solved: A first route to a Service"),
        "{after}"
    );
    // It went on to watch the next exercise.
    assert!(after.contains("02-path-routing"), "{after}");
}

/// A catalogue of one lab with the given `lab.yaml`, whose one exercise has
/// `solution` as its solved route.
fn catalogue(lab_yaml: &str, solution_route: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let ex = tmp.path().join("demo/01-one");
    for d in ["start", "check", "solution"] {
        std::fs::create_dir_all(ex.join(d)).unwrap();
    }
    std::fs::write(tmp.path().join("demo/lab.yaml"), lab_yaml).unwrap();
    std::fs::write(
        ex.join("exercise.yaml"),
        "title: One\ntime: 5m\nhints: [look]\n",
    )
    .unwrap();
    std::fs::write(ex.join("task.md"), "# One\n").unwrap();
    let start =
        solution("01-first-route", "route.yaml").replace("      namespace: kong-system\n", "");
    std::fs::write(ex.join("start/route.yaml"), start).unwrap();
    std::fs::write(ex.join("solution/route.yaml"), solution_route).unwrap();
    std::fs::copy(
        repo(&format!("labs/{LAB}/01-first-route/check/scenario.yaml")),
        ex.join("check/scenario.yaml"),
    )
    .unwrap();
    tmp
}

const LAB_YAML: &str = "title: Demo\ngoal: Try.\ntime: 5m\ntarget: embedded\nexercises: [01-one]\n";

#[test]
fn a_malformed_lab_is_named_by_file_line_and_field() {
    let good = solution("01-first-route", "route.yaml");
    let tmp = catalogue(
        "title: Demo\ngoal: Try.\ntime: 5m\ntarget: embedded\nexercise: [01-one]\n",
        &good,
    );
    let o = gwlab(&["lab", "verify", tmp.path().to_str().unwrap()]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("demo/lab.yaml:5"), "{all}");
    assert!(all.contains("exercise"), "{all}");

    let tmp = catalogue(&LAB_YAML.replace("[01-one]", "[01-one, 02-two]"), &good);
    let all = out(&gwlab(&["lab", "verify", tmp.path().to_str().unwrap()]));
    assert!(
        all.contains(
            "demo/lab.yaml:5: field `exercises[1]`: there is no exercise directory demo/02-two"
        ),
        "{all}"
    );

    let tmp = catalogue(&LAB_YAML.replace("time: 5m", "time: soon"), &good);
    let all = out(&gwlab(&["lab", "verify", tmp.path().to_str().unwrap()]));
    assert!(all.contains("demo/lab.yaml:3: field `time`"), "{all}");
}

#[test]
fn verify_fails_an_exercise_whose_solution_does_not_pass() {
    let tmp = catalogue(LAB_YAML, &solution("01-first-route", "route.yaml"));
    let o = gwlab(&["lab", "verify", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));

    let wrong = solution("01-first-route", "route.yaml").replace("- name: portal", "- name: other");
    let tmp = catalogue(LAB_YAML, &wrong);
    let o = gwlab(&["lab", "verify", tmp.path().to_str().unwrap()]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("FAIL demo/01-one"), "{all}");
    assert!(
        all.contains("the solution does not pass its check"),
        "{all}"
    );
}

#[test]
fn a_troubleshooting_exercise_is_solved_when_doctor_no_longer_finds_its_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("tw");
    let wss = ws.to_str().unwrap();
    let o = gwlab(&["lab", "start", "kong-troubleshooting", "--dir", wss]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = gwlab(&["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(
        all.contains("✗ doctor still finds: Gateway kong-system/kong is not programmed"),
        "{all}"
    );
    let state = ws.join("01-publish-service/cluster");
    assert!(
        all.contains(&format!("why: gwlab doctor --from {}", state.display())),
        "{all}"
    );

    let recorded = state.join("cluster.yaml");
    let text = std::fs::read_to_string(&recorded).unwrap();
    std::fs::write(
        &recorded,
        text.replace(
            "konghq.com/publish-service: kong/kong-gateway-proxy",
            "konghq.com/publish-service: kong-system/kong-proxy",
        ),
    )
    .unwrap();
    let o = gwlab(&["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("Exercise 2 of 3: The controller that crash-loops at start"),
        "{all}"
    );
}

#[test]
fn a_workspace_started_from_another_catalogue_remembers_it() {
    let cat = catalogue(LAB_YAML, &solution("01-first-route", "route.yaml"));
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let wss = ws.to_str().unwrap();
    let labs = cat.path().to_str().unwrap();
    let o = gwlab(&["lab", "start", "demo", "--dir", wss, "--labs", labs]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    // No --labs from here on: the workspace knows where its lab is.
    let o = gwlab(&["lab", "check", wss]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    std::fs::write(
        ws.join("01-one/route.yaml"),
        solution("01-first-route", "route.yaml"),
    )
    .unwrap();
    let o = gwlab(&["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(
        all.contains("Every exercise of lab demo is solved"),
        "{all}"
    );
    // The built-in catalogue has no lab of that name.
    let o = gwlab(&[
        "lab",
        "start",
        "demo",
        "--dir",
        tmp.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).contains("there is no lab \"demo\""), "{}", out(&o));
}

/// The troubleshooting lab copied into a catalogue of its own, with
/// `edit` applied to the text of one of its files.
fn troubleshooting_with(file: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new("cp")
        .args(["-r", repo("labs/kong-troubleshooting").to_str().unwrap()])
        .arg(tmp.path().join("ts"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let path = tmp.path().join("ts").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
    tmp
}

#[test]
fn a_break_is_checked_by_file_line_and_field() {
    let verify = |tmp: &tempfile::TempDir| {
        let o = gwlab(&["lab", "verify", tmp.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", out(&o));
        out(&o)
    };
    let tmp = troubleshooting_with("01-publish-service/exercise.yaml", |t| {
        t.replace("fault: publish-service-mismatch", "fault: dns-outage")
    });
    let all = verify(&tmp);
    assert!(
        all.contains("ts/01-publish-service/exercise.yaml:13: field `break.fault`"),
        "{all}"
    );
    assert!(
        all.contains("publish-service-mismatch"),
        "the known faults are listed: {all}"
    );

    let tmp = troubleshooting_with("02-feature-gate/exercise.yaml", |t| {
        t.replace(
            "solves: [kic-invalid-feature-gate]",
            "solves: [kic-crash-loop]",
        )
    });
    let all = verify(&tmp);
    assert!(
        all.contains("ts/02-feature-gate/exercise.yaml:16: field `doctor.solves`: fault feature-gate-gateway shows as doctor's finding kic-invalid-feature-gate"),
        "{all}"
    );

    let tmp = troubleshooting_with("03-hostnetwork/exercise.yaml", |t| {
        t.replace(
            "doctor:\n  dir: cluster\n  solves: [kong-hostnetwork-port-conflict]\n",
            "",
        )
    });
    let all = verify(&tmp);
    assert!(
        all.contains("ts/03-hostnetwork/exercise.yaml:13: field `break`: an exercise that breaks the lab is checked by doctor"),
        "{all}"
    );

    let tmp = troubleshooting_with("lab.yaml", |t| {
        t.replace("target: either", "target: embedded")
    });
    let all = verify(&tmp);
    assert!(
        all.contains(
            "ts/lab.yaml:11: field `target`: exercise 01-publish-service breaks the lab cluster"
        ),
        "{all}"
    );
}

/// A route renamed away from the name the check looks for: the student is
/// told what the check needs of their files, not about the check's file.
#[test]
fn a_renamed_route_is_named_as_what_the_check_needs_of_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let wss = ws.to_str().unwrap();
    assert_eq!(
        gwlab(&["lab", "start", LAB, "--dir", wss]).status.code(),
        Some(0)
    );
    let route = ws.join("01-first-route/route.yaml");
    let text = std::fs::read_to_string(&route).unwrap();
    std::fs::write(
        &route,
        text.replace("name: portal\n", "name: portal-route\n"),
    )
    .unwrap();
    let o = gwlab(&["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(
        all.contains("✗ the check looks for HTTPRoute portal in your files, and none of them defines it: keep the name the task gives it (metadata.name: portal)"),
        "{all}"
    );
    assert!(
        !all.contains("scenario.yaml"),
        "the check's own file is not the student's: {all}"
    );
}

/// Removing the controller removes its bad flag too: that is no fix.
#[test]
fn deleting_the_controller_does_not_solve_the_feature_gate_exercise() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("tw");
    let wss = ws.to_str().unwrap();
    assert_eq!(
        gwlab(&["lab", "start", "kong-troubleshooting", "--dir", wss])
            .status
            .code(),
        Some(0)
    );
    let first = ws.join("01-publish-service/cluster/cluster.yaml");
    let text = std::fs::read_to_string(&first).unwrap();
    std::fs::write(
        &first,
        text.replace(
            "konghq.com/publish-service: kong/kong-gateway-proxy",
            "konghq.com/publish-service: kong-system/kong-proxy",
        ),
    )
    .unwrap();
    assert_eq!(gwlab(&["lab", "check", wss]).status.code(), Some(0));
    let second = ws.join("02-feature-gate/cluster/cluster.yaml");
    let mut doc: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&second).unwrap()).unwrap();
    doc["items"].as_array_mut().unwrap().retain(|i| {
        !(i["kind"] == "Deployment" && i.to_string().contains("kong/kubernetes-ingress-controller"))
    });
    std::fs::write(&second, serde_json::to_string(&doc).unwrap()).unwrap();
    let o = gwlab(&["lab", "check", wss]);
    let all = out(&o);
    assert_eq!(o.status.code(), Some(1), "{all}");
    assert!(all.contains("[kic-missing]"), "{all}");
}
