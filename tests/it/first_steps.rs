//! A new user's first commands: `gwlab init` writes a starter that passes as
//! written and never overwrites; `gwlab completions` prints each shell's
//! script; every subcommand's help shows examples.

use crate::common::bin::{gwlab, text};

#[test]
fn init_writes_a_starter_that_passes_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my-route");
    let d = dir.to_str().unwrap();
    let o = gwlab(&["init", d]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(&format!("next: gwlab test {d}")));
    let scenario = std::fs::read_to_string(dir.join("scenario.yaml")).unwrap();
    for kind in [
        "conditions:",
        "status:",
        "headers:",
        "headersAbsent:",
        "bodyContains:",
        "backend:",
        "backendRequest:",
        "redirect:",
        "split:",
    ] {
        assert!(scenario.contains(kind), "the starter shows {kind}");
    }
    let o = gwlab(&["test", d]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("PASS my-route"), "{}", text(&o));
    // A second starter elsewhere is named after its directory: both run in
    // one `gwlab test`.
    let other = tmp.path().join("Other Route");
    assert_eq!(
        gwlab(&["init", other.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let o = gwlab(&["test", d, other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("PASS other-route"), "{}", text(&o));

    std::fs::write(dir.join("scenario.yaml"), "# mine\n").unwrap();
    let o = gwlab(&["init", d]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("exists already"), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("scenario.yaml")).unwrap(),
        "# mine\n",
        "nothing was overwritten"
    );
}

#[test]
fn completions_are_generated_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef gwlab"),
        ("fish", "complete -c gwlab"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = gwlab(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(script.contains(marker), "{shell}: {marker}");
        assert!(
            script.contains("init"),
            "{shell}: subcommands are completed"
        );
    }
    assert_eq!(gwlab(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn every_subcommand_help_shows_examples() {
    let o = gwlab(&["--help"]);
    let top = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(top.contains("Examples:"), "{top}");
    let subcommands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    assert!(subcommands.len() >= 13, "{subcommands:?}");
    for c in &subcommands {
        let o = gwlab(&[c, "--help"]);
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(
            help.contains("Examples:\n  gwlab "),
            "gwlab {c} --help:\n{help}"
        );
    }
}
