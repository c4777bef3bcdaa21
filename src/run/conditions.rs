//! Whether a status satisfies a scenario condition (the scenario format,
//! "Conditions"): per parent for routes, per listener for Gateways, and never
//! on a status older than the object's generation.

use crate::model::status::{Condition as StatusCondition, ListenerStatus, ObjectStatus};
use crate::scenario::{Condition, ConditionSpec, ConditionStatus};

/// What was found instead of the condition a scenario expects: a verdict's
/// explanation, not an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unmet(pub String);

impl std::ops::Deref for Unmet {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Unmet {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// `Ok` when the condition holds, else what was found instead.
pub(crate) fn judge(
    cond: &Condition,
    route_namespace: &str,
    status: Option<&ObjectStatus>,
) -> Result<(), Unmet> {
    let Some(status) = status else {
        return Err(Unmet(format!(
            "{} has no status (does the object exist, and is it handled by this gateway?)",
            cond.spec.resource
        )));
    };
    let spec = &cond.spec;
    if let Some(listener) = &spec.listener {
        return judge_listener(spec, listener, status);
    }
    if ConditionSpec::is_route_kind(&cond.kind) {
        return judge_parents(spec, route_namespace, status);
    }
    holds(spec, &status.conditions, status.generation)
}

/// A Gateway condition on one listener: its attachedRoutes count, or its conditions.
fn judge_listener(
    spec: &ConditionSpec,
    listener: &str,
    status: &ObjectStatus,
) -> Result<(), Unmet> {
    let Some(l) = status.listeners.iter().find(|l| l.name == *listener) else {
        let names: Vec<&str> = status.listeners.iter().map(|l| l.name.as_str()).collect();
        return Err(Unmet(format!(
            "no listener named {listener} in the status (listeners: {})",
            names.join(", ")
        )));
    };
    match spec.attached_routes {
        Some(n) => attached_routes(status, l, n),
        None => holds(spec, &l.conditions, status.generation),
    }
}

/// Whether listener `l` counts `n` attached routes. The count has no
/// generation of its own: trust it once the Gateway's conditions have seen
/// the current spec.
fn attached_routes(status: &ObjectStatus, l: &ListenerStatus, n: u32) -> Result<(), Unmet> {
    let seen = status
        .conditions
        .iter()
        .chain(l.conditions.iter())
        .map(|c| c.observed_generation)
        .max();
    if let Some(g) = seen
        && g < status.generation
    {
        return Err(Unmet(format!(
            "the Gateway's status is for generation {g}, the Gateway is at {}",
            status.generation
        )));
    }
    if l.attached_routes == n {
        Ok(())
    } else {
        Err(Unmet(format!("attachedRoutes is {}", l.attached_routes)))
    }
}

/// The route's parent entries that do exist, with their conditions' reasons
/// (the reason a parentRef did not take is often there: `NoMatchingParent`).
fn existing_entries(status: &ObjectStatus) -> String {
    if status.parents.is_empty() {
        // No controller has written a word of status: the likeliest cause is
        // that none runs for this Gateway.
        return "the route's status has no parent entries: no Gateway controller has written its status (is one running for the Gateway? on the lab, `gwlab doctor` checks Kong's)".into();
    }
    let entries: Vec<String> = status
        .parents
        .iter()
        .map(|p| {
            let section = p
                .section_name
                .as_ref()
                .map(|s| format!(" section {s}"))
                .unwrap_or_default();
            let conditions: Vec<String> = p
                .conditions
                .iter()
                .map(|c| {
                    if c.message.is_empty() {
                        format!("{}={} ({})", c.type_, c.status, c.reason)
                    } else {
                        format!("{}={} ({}: {})", c.type_, c.status, c.reason, c.message)
                    }
                })
                .collect();
            format!("{}{section}: {}", p.parent, conditions.join(", "))
        })
        .collect();
    format!("the route's status has entries for {}", entries.join("; "))
}

/// A route condition: it must hold for every parent entry the spec selects
/// (by parent, then section), and there must be at least one.
fn judge_parents(
    spec: &ConditionSpec,
    route_namespace: &str,
    status: &ObjectStatus,
) -> Result<(), Unmet> {
    let wanted_parent = spec.parent.as_ref().map(|p| {
        if p.contains('/') {
            p.clone()
        } else {
            format!("{route_namespace}/{p}")
        }
    });
    let parents: Vec<_> = status
        .parents
        .iter()
        .filter(|p| wanted_parent.as_ref().is_none_or(|w| *w == p.parent))
        .filter(|p| {
            spec.parent_section
                .as_ref()
                .is_none_or(|s| p.section_name.as_ref() == Some(s))
        })
        .collect();
    if parents.is_empty() {
        let wanted = match &wanted_parent {
            Some(w) => format!(
                "no status entry for parent {w}{}",
                spec.parent_section
                    .as_ref()
                    .map(|s| format!(" section {s}"))
                    .unwrap_or_default()
            ),
            None => "the route has no parent status entries (no parentRef to a Gateway of this gateway's class)".into(),
        };
        return Err(Unmet(format!("{wanted}; {}", existing_entries(status))));
    }
    let mut problems = Vec::new();
    for p in parents {
        if let Err(e) = holds(spec, &p.conditions, status.generation) {
            let section = p
                .section_name
                .as_ref()
                .map(|s| format!("/{s}"))
                .unwrap_or_default();
            problems.push(format!("parent {}{section}: {e}", p.parent));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Unmet(problems.join("; ")))
    }
}

fn holds(
    spec: &ConditionSpec,
    conditions: &[StatusCondition],
    generation: u64,
) -> Result<(), Unmet> {
    let ty = spec.type_.as_deref().unwrap_or_default();
    let want = spec.status.unwrap_or(ConditionStatus::True).as_str();
    if conditions.is_empty() {
        return Err(Unmet(format!(
            "no {ty} condition: no controller has written any condition (is one running for it? on the lab, `gwlab doctor` checks Kong's)"
        )));
    }
    let Some(c) = conditions.iter().find(|c| c.type_ == ty) else {
        let have: Vec<String> = conditions.iter().map(describe).collect();
        return Err(Unmet(format!(
            "no {ty} condition (conditions: {})",
            if have.is_empty() {
                "none".into()
            } else {
                have.join(", ")
            }
        )));
    };
    if c.observed_generation < generation {
        return Err(Unmet(format!(
            "{} is for generation {}, the object is at {generation}",
            describe(c),
            c.observed_generation
        )));
    }
    let reason_ok = spec.reason.as_ref().is_none_or(|r| *r == c.reason);
    if c.status == want && reason_ok {
        Ok(())
    } else {
        Err(Unmet(describe(c)))
    }
}

fn describe(c: &StatusCondition) -> String {
    if c.message.is_empty() {
        format!("{}={} ({})", c.type_, c.status, c.reason)
    } else {
        format!("{}={} ({}: {})", c.type_, c.status, c.reason, c.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::status::{ListenerStatus, ParentStatus};
    use crate::scenario::ConditionSpec;

    fn cond(kind: &str, f: impl FnOnce(&mut ConditionSpec)) -> Condition {
        let mut spec = ConditionSpec {
            resource: format!("{kind}/x"),
            namespace: None,
            type_: Some("Accepted".into()),
            status: None,
            reason: None,
            listener: None,
            attached_routes: None,
            parent: None,
            parent_section: None,
        };
        f(&mut spec);
        Condition {
            spec,
            kind: kind.into(),
            name: "x".into(),
            line: 1,
        }
    }

    fn c(ty: &str, ok: bool, reason: &str, gen_: u64) -> StatusCondition {
        StatusCondition::new(ty, ok, reason, "", gen_)
    }

    fn route_status(generation: u64, parents: Vec<(&str, Option<&str>, bool)>) -> ObjectStatus {
        ObjectStatus {
            generation,
            parents: parents
                .into_iter()
                .map(|(p, s, ok)| ParentStatus {
                    parent: p.into(),
                    section_name: s.map(String::from),
                    port: None,
                    controller_name: "c".into(),
                    conditions: vec![c(
                        "Accepted",
                        ok,
                        if ok {
                            "Accepted"
                        } else {
                            "NotAllowedByListeners"
                        },
                        1,
                    )],
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn every_parent_must_hold_without_parent_given() {
        let st = route_status(
            1,
            vec![("kong-system/kong", None, true), ("ns/other", None, false)],
        );
        let err = judge(&cond("HTTPRoute", |_| {}), "ns", Some(&st)).unwrap_err();
        assert!(err.contains("parent ns/other"), "{err}");
        assert!(
            judge(
                &cond("HTTPRoute", |s| s.parent = Some("kong-system/kong".into())),
                "ns",
                Some(&st)
            )
            .is_ok()
        );
        // A bare parent name means the route's namespace.
        assert!(
            judge(
                &cond("HTTPRoute", |s| {
                    s.parent = Some("other".into());
                    s.status = Some(ConditionStatus::False)
                }),
                "ns",
                Some(&st)
            )
            .is_ok()
        );
    }

    #[test]
    fn a_gateway_no_controller_wrote_a_condition_for_says_so() {
        let st = ObjectStatus {
            generation: 1,
            ..Default::default()
        };
        let err = judge(&cond("Gateway", |_| {}), "ns", Some(&st)).unwrap_err();
        assert_eq!(
            err,
            "no Accepted condition: no controller has written any condition (is one running for it? on the lab, `gwlab doctor` checks Kong's)"
        );
    }

    #[test]
    fn a_missing_parent_entry_lists_the_entries_there_are_with_their_reasons() {
        let st = route_status(1, vec![("ns/wrong", None, false)]);
        let err = judge(
            &cond("HTTPRoute", |s| s.parent = Some("kong-system/kong".into())),
            "ns",
            Some(&st),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "no status entry for parent kong-system/kong; the route's status has entries for ns/wrong: Accepted=False (NotAllowedByListeners)"
        );
        let none = route_status(1, vec![]);
        let err = judge(
            &cond("HTTPRoute", |s| s.parent = Some("kong-system/kong".into())),
            "ns",
            Some(&none),
        )
        .unwrap_err();
        assert!(
            err.ends_with("; the route's status has no parent entries: no Gateway controller has written its status (is one running for the Gateway? on the lab, `gwlab doctor` checks Kong's)"),
            "{err}"
        );
    }

    #[test]
    fn parent_section_selects_the_entry() {
        let st = route_status(
            1,
            vec![("g/k", Some("http"), true), ("g/k", Some("https"), false)],
        );
        assert!(
            judge(
                &cond("HTTPRoute", |s| {
                    s.parent = Some("g/k".into());
                    s.parent_section = Some("http".into())
                }),
                "ns",
                Some(&st)
            )
            .is_ok()
        );
        assert!(
            judge(
                &cond("HTTPRoute", |s| {
                    s.parent = Some("g/k".into());
                    s.parent_section = Some("https".into())
                }),
                "ns",
                Some(&st)
            )
            .is_err()
        );
        assert!(
            judge(
                &cond("HTTPRoute", |s| {
                    s.parent = Some("g/k".into());
                    s.parent_section = Some("grpc".into())
                }),
                "ns",
                Some(&st)
            )
            .unwrap_err()
            .contains("no status entry")
        );
    }

    #[test]
    fn a_stale_observed_generation_does_not_hold() {
        let st = route_status(2, vec![("g/k", None, true)]);
        let err = judge(&cond("HTTPRoute", |_| {}), "ns", Some(&st)).unwrap_err();
        assert!(err.contains("generation 1"), "{err}");
    }

    #[test]
    fn reason_must_match_when_given() {
        let st = route_status(1, vec![("g/k", None, false)]);
        let ok = cond("HTTPRoute", |s| {
            s.status = Some(ConditionStatus::False);
            s.reason = Some("NotAllowedByListeners".into())
        });
        assert!(judge(&ok, "ns", Some(&st)).is_ok());
        let bad = cond("HTTPRoute", |s| {
            s.status = Some(ConditionStatus::False);
            s.reason = Some("NoMatchingParent".into())
        });
        assert!(judge(&bad, "ns", Some(&st)).is_err());
    }

    #[test]
    fn listener_conditions_and_attached_routes() {
        let st = ObjectStatus {
            generation: 1,
            listeners: vec![ListenerStatus {
                name: "http".into(),
                attached_routes: 2,
                supported_kinds: vec![],
                conditions: vec![c("Programmed", true, "Programmed", 1)],
            }],
            ..Default::default()
        };
        assert!(
            judge(
                &cond("Gateway", |s| {
                    s.listener = Some("http".into());
                    s.type_ = Some("Programmed".into())
                }),
                "",
                Some(&st)
            )
            .is_ok()
        );
        assert!(
            judge(
                &cond("Gateway", |s| {
                    s.listener = Some("http".into());
                    s.type_ = None;
                    s.attached_routes = Some(2)
                }),
                "",
                Some(&st)
            )
            .is_ok()
        );
        assert_eq!(
            judge(
                &cond("Gateway", |s| {
                    s.listener = Some("http".into());
                    s.type_ = None;
                    s.attached_routes = Some(1)
                }),
                "",
                Some(&st)
            )
            .unwrap_err(),
            "attachedRoutes is 2"
        );
        assert!(
            judge(
                &cond("Gateway", |s| s.listener = Some("https".into())),
                "",
                Some(&st)
            )
            .is_err()
        );
        // A count from an older generation of the Gateway is not trusted.
        let stale = ObjectStatus {
            generation: 2,
            ..st.clone()
        };
        let err = judge(
            &cond("Gateway", |s| {
                s.listener = Some("http".into());
                s.type_ = None;
                s.attached_routes = Some(2)
            }),
            "",
            Some(&stale),
        )
        .unwrap_err();
        assert!(err.contains("generation 1"), "{err}");
    }
}
