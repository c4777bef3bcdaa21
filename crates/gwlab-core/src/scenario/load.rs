//! Reading a scenario directory, with every problem reported at its file and
//! line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::find::SCENARIO_FILE;

use serde_saphyr::Spanned;

use super::bounds;
use super::items::{backends, conditions, line, probes};
use super::types::*;
use super::*;
use crate::diag::{Diagnostic, Diagnostics};
use crate::gateway_api::Release;
use crate::manifest;
use crate::yaml;

/// Reads and checks one scenario directory. Every problem found is returned.
pub fn load(dir: &Path) -> Result<Scenario, Diagnostics> {
    load_as(dir, None)
}

/// [`load`], its manifests read as Gateway API `release` when given (the
/// command line's `--gateway-api`), else as its `gatewayAPI:` says.
pub fn load_as(dir: &Path, release: Option<Release>) -> Result<Scenario, Diagnostics> {
    let file = dir.join(SCENARIO_FILE);
    let text = crate::files::read_to_string(&file)
        .map_err(|e| Diagnostic::new(&file, None, e.to_string()))?;
    let mut problems = Vec::new();
    let manifests = load_manifests(dir, &mut problems);
    // Objects of a manifest that cannot be read are unknown: a condition on
    // one of them would be reported missing, burying the manifest's error.
    let all_read = problems.is_empty();
    match checked(dir, &text, manifests, all_read, release) {
        Ok(s) if problems.is_empty() => Ok(s),
        Ok(_) => Err(Diagnostics(problems)),
        Err(Diagnostics(mut more)) => {
            problems.append(&mut more);
            Err(Diagnostics(problems))
        }
    }
}

/// A directory of manifests without a scenario.yaml (what `gwlab migrate
/// --output` writes) read as the scenario it implies: each HTTPRoute is
/// expected Accepted, with an echo backend for each Service its rules name
/// that no manifest of the directory defines. `Ok(None)` when the directory
/// has a scenario.yaml or holds no HTTPRoute: it is not a directory of
/// routes, and the caller says what it would have said.
pub fn load_bare(dir: &Path) -> Result<Option<Scenario>, Diagnostics> {
    load_bare_as(dir, None)
}

/// [`load_bare`], its manifests read as Gateway API `release` when given.
pub fn load_bare_as(dir: &Path, release: Option<Release>) -> Result<Option<Scenario>, Diagnostics> {
    if dir.join(SCENARIO_FILE).exists() || !dir.is_dir() {
        return Ok(None);
    }
    let mut problems = Vec::new();
    let manifests = load_manifests(dir, &mut problems);
    if manifests.is_empty() {
        return Ok(None);
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }
    let objects = || manifests.iter().flat_map(|f| &f.objects);
    let defined: BTreeSet<(Option<&str>, &str)> = objects()
        .filter(|m| matches!(m.object, manifest::Object::Service(_)))
        .map(|m| (m.namespace.as_deref(), m.name.as_str()))
        .collect();
    let mut conditions = Vec::new();
    let mut backends = std::collections::BTreeMap::new();
    for m in objects() {
        let manifest::Object::HttpRoute(r) = &m.object else {
            continue;
        };
        let mut condition = serde_json::json!({
            "resource": format!("HTTPRoute/{}", m.name), "type": "Accepted", "status": "True",
        });
        if let Some(ns) = &m.namespace {
            condition["namespace"] = ns.as_str().into();
        }
        conditions.push(condition);
        let refs = r
            .spec
            .rules
            .iter()
            .flatten()
            .flat_map(|rule| &rule.value.backend_refs);
        for b in refs.map(|b| &b.value) {
            let is_service = b.group.as_deref().unwrap_or("").is_empty()
                && b.kind.as_deref().unwrap_or("Service") == "Service";
            if is_service
                && b.namespace.is_none()
                && !defined.contains(&(m.namespace.as_deref(), b.name.as_str()))
            {
                backends.entry(b.name.clone()).or_insert(b.port);
            }
        }
    }
    if conditions.is_empty() {
        return Ok(None);
    }
    let named = std::path::absolute(dir)
        .ok()
        .and_then(|d| {
            d.file_name()
                .map(|n| crate::slug::slug(&n.to_string_lossy()))
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "manifests".to_string());
    let backends: Vec<serde_json::Value> = backends
        .into_iter()
        .map(|(name, port)| match port {
            Some(port) => serde_json::json!({"name": name, "port": port}),
            None => serde_json::json!({"name": name}),
        })
        .collect();
    // JSON is YAML: the implied scenario goes through the same checks as a
    // written one.
    let text = serde_json::json!({
        "name": named,
        "description": "the manifests of this directory, without a scenario.yaml: each HTTPRoute is expected Accepted by the lab Gateway",
        "backends": backends,
        "conditions": conditions,
    })
    .to_string();
    checked(dir, &text, manifests, true, release).map(Some)
}

/// Checks a scenario given as the text of its scenario.yaml and its
/// manifests, already read, as if they were in `dir`: how `gwlab migrate`
/// checks what it would write before writing it.
pub fn from_text(
    dir: &Path,
    text: &str,
    manifests: Vec<ManifestFile>,
) -> Result<Scenario, Diagnostics> {
    checked(dir, text, manifests, true, None)
}

/// The scenario of `text` with its manifests; `all_read` says whether every
/// manifest file could be read.
fn checked(
    dir: &Path,
    text: &str,
    manifests: Vec<ManifestFile>,
    all_read: bool,
    release: Option<Release>,
) -> Result<Scenario, Diagnostics> {
    let file = dir.join(SCENARIO_FILE);
    let docs = yaml::split_documents(text);
    if docs.len() != 1 {
        return Err(Diagnostic::new(
            &file,
            None,
            "scenario.yaml must hold exactly one YAML document",
        )
        .into());
    }
    let raw: ScenarioFile = yaml::parse(&file, &docs[0])?;
    let mut problems = Vec::new();
    let release = release.unwrap_or_else(|| {
        raw.gateway_api
            .as_ref()
            .map(|r| r.value)
            .unwrap_or_default()
    });
    let mut scenario = build(dir, &file, raw, manifests, all_read, &mut problems);
    scenario.gateway_api = release;
    newer_than_release(&scenario, &mut problems);
    if problems.is_empty() {
        Ok(scenario)
    } else {
        Err(Diagnostics(problems))
    }
}

fn load_manifests(dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<ManifestFile> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| e.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    // Not only regular files: a `*.yaml` that is a FIFO, a device or a link to
    // nothing is named in an error rather than skipped.
    files.retain(|p| {
        p.file_name().is_some_and(|n| n != SCENARIO_FILE)
            && p.extension().is_some_and(|e| e == "yaml" || e == "yml")
    });
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let objects = manifest::load_file(&path).unwrap_or_else(|mut d| {
                problems.append(&mut d);
                Vec::new()
            });
            ManifestFile {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                objects,
            }
        })
        .collect()
}

fn build(
    dir: &Path,
    file: &Path,
    raw: ScenarioFile,
    manifests: Vec<ManifestFile>,
    all_read: bool,
    problems: &mut Vec<Diagnostic>,
) -> Scenario {
    let name = raw.name.clone().unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "scenario".into())
    });
    let backends = backends(file, &raw.backends, problems);
    let (steps, step_applied) = steps(file, &raw, &manifests, problems);
    let initial = (0..manifests.len())
        .filter(|i| !step_applied.contains(i))
        .collect();

    for c in steps.iter().flat_map(|s| &s.conditions) {
        if all_read {
            check_condition_object(file, c, &manifests, problems);
        }
    }

    let features = known_features(file, &raw.features, problems);
    let t = raw.timeouts.unwrap_or_default();
    let timeouts = Timeouts {
        conditions: bounds::timeout(
            file,
            "conditions",
            t.conditions.as_ref(),
            DEFAULT_CONDITIONS_TIMEOUT,
            problems,
        ),
        probes: bounds::timeout(
            file,
            "probes",
            t.probes.as_ref(),
            DEFAULT_PROBES_TIMEOUT,
            problems,
        ),
    };
    Scenario {
        gateway_api: Release::default(),
        dir: dir.to_path_buf(),
        file: file.to_path_buf(),
        name,
        description: raw.description,
        tags: raw.tags,
        features,
        backends,
        manifests,
        initial,
        steps,
        timeouts,
    }
}

/// What the scenario's manifests use of a Gateway API release after the
/// one it is written for (or that its release refuses): each is bad input at
/// its file and line, naming the release.
fn newer_than_release(s: &Scenario, problems: &mut Vec<Diagnostic>) {
    let release = s.gateway_api;
    for m in s.all_objects() {
        for n in crate::gateway_api::newer_than(m, release) {
            let hint = if n.refused {
                format!(
                    "Gateway API {} refuses it: change it (a route needs at least one rule; `rules: [{{}}]` is one matching every request), or write the scenario for an older release (`gatewayAPI:` in scenario.yaml)",
                    n.since
                )
            } else {
                format!(
                    "write the scenario for {since}: `gatewayAPI: {since}` in scenario.yaml (or run with `--gateway-api {since}`), or leave it out",
                    since = n.since
                )
            };
            problems.push(
                Diagnostic::new(&m.file, Some(n.line), n.sentence(release))
                    .field(n.field)
                    .hint(hint),
            );
        }
    }
}

/// The names of `features`, each of which must be a Gateway API feature: a
/// typo would otherwise make the scenario `unsupported` everywhere, and a
/// skipped scenario keeps CI green.
fn known_features(
    file: &Path,
    list: &[Spanned<String>],
    problems: &mut Vec<Diagnostic>,
) -> Vec<String> {
    for (i, f) in list.iter().enumerate() {
        if !crate::features::is_known(&f.value) {
            problems.push(
                Diagnostic::new(
                    file,
                    Some(line(f)),
                    format!("`{}` is not a Gateway API feature name", f.value),
                )
                .field(format!("features[{i}]"))
                .hint(format!(
                    "the names are those of Gateway API's conformance features (v1.2.1 to v1.5.1): {}",
                    crate::features::known_list()
                )),
            );
        }
    }
    list.iter().map(|f| f.value.clone()).collect()
}

/// The scenario's steps (one unnamed step for top-level conditions and
/// probes), and the manifest files the steps apply.
fn steps(
    file: &Path,
    raw: &ScenarioFile,
    manifests: &[ManifestFile],
    problems: &mut Vec<Diagnostic>,
) -> (Vec<Step>, BTreeSet<usize>) {
    let top_level = raw.conditions.is_some() || raw.probes.is_some();
    match (&raw.steps, top_level) {
        (Some(_), true) => {
            problems.push(
                Diagnostic::new(
                    file,
                    None,
                    "a scenario has either `steps` or top-level `conditions`/`probes`, not both",
                )
                .field("steps")
                .hint("move the top-level conditions and probes into a first step"),
            );
            (Vec::new(), BTreeSet::new())
        }
        (Some(list), false) => listed_steps(file, list, manifests, problems),
        (None, _) => (vec![top_level_step(file, raw, problems)], BTreeSet::new()),
    }
}

fn listed_steps(
    file: &Path,
    list: &[Spanned<StepSpec>],
    manifests: &[ManifestFile],
    problems: &mut Vec<Diagnostic>,
) -> (Vec<Step>, BTreeSet<usize>) {
    if list.is_empty() {
        problems.push(Diagnostic::new(file, None, "`steps` is empty").field("steps"));
    }
    let mut steps = Vec::new();
    let mut applied = BTreeSet::new();
    for (i, s) in list.iter().enumerate() {
        let at = StepAt {
            file,
            line: line(s),
            index: i,
            manifests,
        };
        let apply = at.resolve(&s.value.apply, "apply", problems);
        let delete = at.resolve(&s.value.delete, "delete", problems);
        applied.extend(apply.iter().copied());
        steps.push(Step {
            name: Some(
                s.value
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("step {}", i + 1)),
            ),
            apply,
            delete,
            conditions: conditions(file, &s.value.conditions, problems),
            probes: probes(file, &s.value.probes, problems),
        });
    }
    (steps, applied)
}

/// A step of `steps`, for resolving the manifest files it names.
struct StepAt<'a> {
    file: &'a Path,
    line: u64,
    index: usize,
    manifests: &'a [ManifestFile],
}

impl StepAt<'_> {
    /// Indexes of the manifest files `names` (listed in the step's `what`).
    fn resolve(&self, names: &[String], what: &str, problems: &mut Vec<Diagnostic>) -> Vec<usize> {
        let i = self.index;
        names
            .iter()
            .filter_map(|n| {
                let found = self.manifests.iter().position(|m| m.name == *n);
                if found.is_none() {
                    problems.push(
                        Diagnostic::new(self.file, Some(self.line), format!("step {} names `{n}` in `{what}`, but the scenario has no such manifest file", i + 1))
                            .field(format!("steps[{i}].{what}"))
                            .hint(format!("manifest files are the *.yaml / *.yml files beside scenario.yaml: {}", self.manifests.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", "))),
                    );
                }
                found
            })
            .collect()
    }
}

/// The one step of a scenario without `steps`: its top-level conditions and probes.
fn top_level_step(file: &Path, raw: &ScenarioFile, problems: &mut Vec<Diagnostic>) -> Step {
    let conds = raw.conditions.as_deref().unwrap_or(&[]);
    let probes_list = raw.probes.as_deref().unwrap_or(&[]);
    if conds.is_empty() && probes_list.is_empty() {
        problems.push(
            Diagnostic::new(
                file,
                None,
                "the scenario has no conditions, probes or steps: it would assert nothing",
            )
            .hint("add `probes:` (and `conditions:`) or `steps:`"),
        );
    }
    Step {
        name: None,
        apply: Vec::new(),
        delete: Vec::new(),
        conditions: conditions(file, conds, problems),
        probes: probes(file, probes_list, problems),
    }
}

/// A condition on an object that no manifest defines is almost always a typo,
/// except for the lab's own objects.
fn check_condition_object(
    file: &Path,
    c: &Condition,
    manifests: &[ManifestFile],
    problems: &mut Vec<Diagnostic>,
) {
    let lab = (c.kind == "Gateway" && c.name == crate::model::lab_gateway::GATEWAY_NAME)
        || (c.kind == "GatewayClass" && c.name == crate::model::lab_gateway::CLASS_NAME);
    let defined = manifests
        .iter()
        .flat_map(|m| &m.objects)
        .any(|o| o.kind == c.kind && o.name == c.name);
    if !lab && !defined {
        problems.push(
            Diagnostic::new(
                file,
                Some(c.line),
                format!(
                    "condition on {}/{}, but no manifest of the scenario defines it",
                    c.kind, c.name
                ),
            )
            .field("conditions[].resource"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_that_is_not_a_regular_file_is_named() {
        // Found by fuzzing: a `*.yaml` FIFO or link to /dev/zero was skipped,
        // and the error then blamed scenario.yaml for the missing route.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(SCENARIO_FILE),
            "probes:\n- request: {url: 'http://a/'}\n  expect: {status: 404}\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("routes.yaml")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
        let e = load(dir.path()).unwrap_err();
        let named: Vec<(String, &str)> =
            e.0.iter()
                .map(|d| {
                    let name = d.file.file_name().unwrap().to_string_lossy().into_owned();
                    (name, d.message.as_str())
                })
                .collect();
        let mut expected = vec![(
            "routes.yaml".to_string(),
            "is a directory, not a regular file",
        )];
        #[cfg(unix)]
        expected.push(("zero.yaml".to_string(), "is a device, not a regular file"));
        assert_eq!(named, expected);
    }
}
