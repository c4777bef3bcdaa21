//! Finding scenario directories and reading them, with every problem reported
//! at its file and line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_saphyr::Spanned;

use super::types::*;
use super::*;
use crate::diag::{Diagnostic, Diagnostics};
use crate::manifest;
use crate::yaml;

pub const SCENARIO_FILE: &str = "scenario.yaml";

const ROUTE_KINDS: &[&str] = &["HTTPRoute", "GRPCRoute"];
const CONDITION_KINDS: &[&str] = &["GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute"];
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Scenario directories under `paths`: a directory holding `scenario.yaml` is
/// one; any other directory is searched recursively. Sorted, without repeats.
pub fn find(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut found = BTreeSet::new();
    let mut problems = Vec::new();
    for p in paths {
        if !p.exists() {
            problems.push(Diagnostic::new(p, None, "no such file or directory").hint(
                "give a scenario directory (holding scenario.yaml) or a directory of scenarios",
            ));
            continue;
        }
        let dir = if p.is_file() && p.file_name().is_some_and(|n| n == SCENARIO_FILE) {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            p.clone()
        };
        let before = found.len();
        walk(&dir, &mut found);
        if found.len() == before {
            problems.push(
                Diagnostic::new(p, None, format!("no {SCENARIO_FILE} found here or below"))
                    .hint("a scenario is a directory with a scenario.yaml and its manifests"),
            );
        }
    }
    if problems.is_empty() {
        Ok(found.into_iter().collect())
    } else {
        Err(Diagnostics(problems))
    }
}

fn walk(dir: &Path, found: &mut BTreeSet<PathBuf>) {
    if dir.join(SCENARIO_FILE).is_file() {
        found.insert(dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for d in subdirs {
        if d.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        walk(&d, found);
    }
}

/// Reads and checks one scenario directory. Every problem found is returned.
pub fn load(dir: &Path) -> Result<Scenario, Diagnostics> {
    let file = dir.join(SCENARIO_FILE);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Diagnostic::new(&file, None, format!("cannot read: {e}")))?;
    let docs = yaml::split_documents(&text);
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

    let manifests = load_manifests(dir, &mut problems);
    let scenario = build(dir, &file, raw, manifests, &mut problems);
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
    files.retain(|p| {
        p.is_file()
            && p.file_name().is_some_and(|n| n != SCENARIO_FILE)
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

fn line<T>(s: &Spanned<T>) -> u64 {
    s.referenced.line()
}

fn build(
    dir: &Path,
    file: &Path,
    raw: ScenarioFile,
    manifests: Vec<ManifestFile>,
    problems: &mut Vec<Diagnostic>,
) -> Scenario {
    let name = raw.name.clone().unwrap_or_else(|| {
        dir.canonicalize()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "scenario".into())
    });
    let mut backends = Vec::new();
    let mut seen = BTreeSet::new();
    for b in &raw.backends {
        let l = line(b);
        let v = &b.value;
        if let Err(why) = dns_label(&v.name) {
            problems.push(
                Diagnostic::new(file, Some(l), format!("backend name `{}` {why}", v.name))
                    .field("backends[].name"),
            );
        }
        if let Some(ns) = &v.namespace
            && let Err(why) = dns_label(ns)
        {
            problems.push(
                Diagnostic::new(file, Some(l), format!("namespace `{ns}` {why}"))
                    .field("backends[].namespace"),
            );
        }
        if v.port == Some(0) {
            problems.push(
                Diagnostic::new(file, Some(l), "port must be 1-65535").field("backends[].port"),
            );
        }
        if !seen.insert((v.namespace.clone(), v.name.clone())) {
            problems.push(
                Diagnostic::new(
                    file,
                    Some(l),
                    format!("backend `{}` is listed twice", v.name),
                )
                .field("backends[].name"),
            );
        }
        backends.push(Backend {
            name: v.name.clone(),
            port: v.port.unwrap_or(DEFAULT_BACKEND_PORT),
            namespace: v.namespace.clone(),
        });
    }

    let file_index = |name: &str| manifests.iter().position(|m| m.name == name);
    let mut steps = Vec::new();
    let mut step_applied = BTreeSet::new();
    match (&raw.steps, raw.conditions.is_some() || raw.probes.is_some()) {
        (Some(_), true) => problems.push(
            Diagnostic::new(
                file,
                None,
                "a scenario has either `steps` or top-level `conditions`/`probes`, not both",
            )
            .field("steps")
            .hint("move the top-level conditions and probes into a first step"),
        ),
        (Some(list), false) => {
            if list.is_empty() {
                problems.push(Diagnostic::new(file, None, "`steps` is empty").field("steps"));
            }
            for (i, s) in list.iter().enumerate() {
                let l = line(s);
                let mut resolve = |names: &[String], what: &str| -> Vec<usize> {
                    names
                        .iter()
                        .filter_map(|n| match file_index(n) {
                            Some(ix) => Some(ix),
                            None => {
                                problems.push(
                                    Diagnostic::new(file, Some(l), format!("step {} names `{n}` in `{what}`, but the scenario has no such manifest file", i + 1))
                                        .field(format!("steps[{i}].{what}"))
                                        .hint(format!("manifest files are the *.yaml / *.yml files beside scenario.yaml: {}", manifests.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", "))),
                                );
                                None
                            }
                        })
                        .collect()
                };
                let apply = resolve(&s.value.apply, "apply");
                let delete = resolve(&s.value.delete, "delete");
                step_applied.extend(apply.iter().copied());
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
        }
        (None, _) => {
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
            steps.push(Step {
                name: None,
                apply: Vec::new(),
                delete: Vec::new(),
                conditions: conditions(file, conds, problems),
                probes: probes(file, probes_list, problems),
            });
        }
    }
    let initial = (0..manifests.len())
        .filter(|i| !step_applied.contains(i))
        .collect();

    for s in &steps {
        for c in &s.conditions {
            check_condition_object(file, c, &manifests, problems);
        }
    }

    let t = raw.timeouts.unwrap_or_default();
    Scenario {
        dir: dir.to_path_buf(),
        file: file.to_path_buf(),
        name,
        description: raw.description,
        tags: raw.tags,
        features: raw.features,
        backends,
        manifests,
        initial,
        steps,
        timeouts: Timeouts {
            conditions: t.conditions.unwrap_or(DEFAULT_CONDITIONS_TIMEOUT),
            probes: t.probes.unwrap_or(DEFAULT_PROBES_TIMEOUT),
        },
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

fn dns_label(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err("must be a DNS label: lower-case letters, digits and `-`, starting with a letter, at most 63 characters".into())
    }
}

fn conditions(
    file: &Path,
    list: &[Spanned<ConditionSpec>],
    problems: &mut Vec<Diagnostic>,
) -> Vec<Condition> {
    let mut out = Vec::new();
    for c in list {
        let l = line(c);
        let spec = &c.value;
        let mut err = |field: &str, msg: String| {
            problems
                .push(Diagnostic::new(file, Some(l), msg).field(format!("conditions[].{field}")))
        };
        let Some((kind, name)) = spec.resource.split_once('/') else {
            err(
                "resource",
                format!(
                    "`{}` must be written Kind/name, e.g. HTTPRoute/my-route",
                    spec.resource
                ),
            );
            continue;
        };
        if !CONDITION_KINDS.contains(&kind) {
            err(
                "resource",
                format!(
                    "kind `{kind}` has no conditions gwlab can read; use one of {}",
                    CONDITION_KINDS.join(", ")
                ),
            );
        }
        match (&spec.type_, spec.attached_routes) {
            (None, None) => err(
                "type",
                "a condition needs `type` (e.g. Accepted) or, for a listener, `attachedRoutes`"
                    .into(),
            ),
            (Some(_), Some(_)) => err(
                "attachedRoutes",
                "give either `type` or `attachedRoutes`, not both".into(),
            ),
            (None, Some(_)) => {
                if kind != "Gateway" || spec.listener.is_none() {
                    err("attachedRoutes", "`attachedRoutes` is asserted on a Gateway listener: give `resource: Gateway/<name>` and `listener:`".into());
                }
                if spec.status.is_some() || spec.reason.is_some() {
                    err(
                        "status",
                        "`status` and `reason` go with `type`, not with `attachedRoutes`".into(),
                    );
                }
            }
            (Some(_), None) => {}
        }
        if spec.listener.is_some() && kind != "Gateway" {
            err(
                "listener",
                "`listener` applies to `resource: Gateway/<name>` only".into(),
            );
        }
        if (spec.parent.is_some() || spec.parent_section.is_some()) && !ROUTE_KINDS.contains(&kind)
        {
            err(
                "parent",
                "`parent` and `parentSection` apply to routes (HTTPRoute, GRPCRoute) only".into(),
            );
        }
        if spec.parent_section.is_some() && spec.parent.is_none() {
            err("parentSection", "`parentSection` needs `parent`".into());
        }
        out.push(Condition {
            spec: spec.clone(),
            kind: kind.into(),
            name: name.into(),
            line: l,
        });
    }
    out
}

fn probes(file: &Path, list: &[Spanned<ProbeSpec>], problems: &mut Vec<Diagnostic>) -> Vec<Probe> {
    let mut out = Vec::new();
    for p in list {
        let l = line(p);
        let spec = &p.value;
        let mut err = |field: &str, msg: String, hint: Option<&str>| {
            let mut d = Diagnostic::new(file, Some(l), msg).field(format!("probes[].{field}"));
            if let Some(h) = hint {
                d = d.hint(h);
            }
            problems.push(d)
        };
        let Some(expect) = &spec.expect else {
            err(
                "expect",
                format!(
                    "probe `{}` has no `expect`",
                    spec.name.as_deref().unwrap_or(&spec.request.url)
                ),
                Some("a probe must say what must come back, e.g. `expect: {status: 200}`"),
            );
            continue;
        };
        let url = match url::Url::parse(&spec.request.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
            Ok(_) => {
                err(
                    "request.url",
                    format!(
                        "`{}` must be an http:// or https:// URL with a host",
                        spec.request.url
                    ),
                    None,
                );
                continue;
            }
            Err(e) => {
                err(
                    "request.url",
                    format!("`{}` is not a URL: {e}", spec.request.url),
                    None,
                );
                continue;
            }
        };
        let method = spec.request.method.clone().unwrap_or_else(|| "GET".into());
        if !METHODS.contains(&method.as_str()) {
            err(
                "request.method",
                format!(
                    "`{method}` is not an HTTP method gwlab sends (upper case: {})",
                    METHODS.join(", ")
                ),
                None,
            );
        }
        if spec.request.tls.is_some() && url.scheme() != "https" {
            err(
                "request.tls",
                "`tls` applies to https:// URLs only".into(),
                None,
            );
        }
        if let Some(s) = expect.status
            && !(100..=599).contains(&s)
        {
            err(
                "expect.status",
                format!("{s} is not an HTTP status code"),
                None,
            );
        }
        if let Some(split) = &expect.split {
            if split.values().all(|w| *w == 0) {
                err(
                    "expect.split",
                    "a split needs at least one backend with a weight above 0".into(),
                    None,
                );
            }
            if expect.backend.is_some() {
                err("expect.backend", "`backend` and `split` cannot both be given: the split says which backends may answer".into(), None);
            }
        }
        if spec.samples == Some(0) {
            err("samples", "samples must be at least 1".into(), None);
        }
        let samples = if expect.split.is_some() {
            spec.samples.unwrap_or(DEFAULT_SPLIT_SAMPLES)
        } else {
            spec.samples.unwrap_or(1)
        };
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| format!("{method} {}", spec.request.url));
        out.push(Probe {
            name,
            line: l,
            gateway: spec.gateway.clone(),
            request: spec.request.clone(),
            url,
            method,
            samples,
            expect: expect.clone(),
        });
    }
    out
}
