//! The JSON patch operations of a break: setting and removing the fields a
//! fault names, computed on the object as read, and the patches that put a
//! fault in (with its record) and take it out.

use super::*;

/// The patch that breaks `obj` and records it on it, with the record; none
/// when the object already carries this break (adopted).
pub(super) fn break_ops(
    obj: &Value,
    o: &LabObject,
    fault: Fault,
    exercise: &str,
) -> Result<(Vec<Value>, BreakRecord), BreakError> {
    if let Some(r) = record_on(obj, o)? {
        return Ok((Vec::new(), r));
    }
    let mut fields = Vec::new();
    let mut ops = Vec::new();
    let mut working = obj.clone();
    for (_, field, after) in fault.settings().into_iter().filter(|(x, _, _)| x == o) {
        fields.push(FieldRecord {
            before: current(&working, &field, o)?,
            field: field.clone(),
            after: after.clone(),
        });
        let step = set_ops(&working, &field, Some(&after), o)?;
        working = patched(working, &step);
        ops.extend(step);
    }
    let record = BreakRecord {
        exercise: exercise.into(),
        fault,
        fields,
    };
    let text = json!(serde_json::to_string(&record).expect("records serialise"));
    ops.extend(set_ops(
        &working,
        &Field::Annotation {
            key: BREAK_ANNOTATION.into(),
        },
        Some(&text),
        o,
    )?);
    Ok((ops, record))
}

/// `ops` applied to `obj` (gwlab's own operations on the object they were
/// computed on always apply).
pub(super) fn patched(mut obj: Value, ops: &[Value]) -> Value {
    let p: json_patch::Patch = serde_json::from_value(Value::Array(ops.to_vec()))
        .expect("gwlab's patch operations are valid");
    json_patch::patch(&mut obj, &p).expect("operations computed on this object apply to it");
    obj
}

pub(super) type Said = (Vec<String>, Vec<String>);

/// The patch that puts `obj` back and removes its break record, with what it
/// puts back and what it leaves.
pub(super) fn restore_ops(
    obj: &Value,
    o: &LabObject,
    exercise: &str,
    changes: &[&Change],
    only_still_broken: bool,
) -> Result<(Vec<Value>, Said), BreakError> {
    let (mut restored, mut left) = (Vec::new(), Vec::new());
    let on_object = record_on(obj, o)?;
    let fields: Vec<FieldRecord> = match &on_object {
        Some(r) if r.exercise == exercise => r.fields.clone(),
        Some(r) => {
            left.push(format!(
                "{}: broken since by exercise {} ({}), left for it",
                o.display(),
                r.exercise,
                r.fault.name()
            ));
            return Ok((Vec::new(), (restored, left)));
        }
        None => changes
            .iter()
            .map(|c| FieldRecord {
                field: c.field.clone(),
                before: c.before.clone(),
                after: c.after.clone(),
            })
            .collect(),
    };
    let mut ops = Vec::new();
    let mut working = obj.clone();
    for f in &fields {
        let (before, after) = (
            as_recorded(&f.field, f.before.clone()),
            as_recorded(&f.field, Some(f.after.clone())),
        );
        let now = current(&working, &f.field, o)?;
        if now == before {
            continue;
        }
        if only_still_broken && now != after {
            left.push(format!(
                "{}: {} is yours now ({}), left as it is",
                o.display(),
                f.field.display(),
                now.map_or("absent".into(), |v| v.to_string())
            ));
            continue;
        }
        let step = set_ops(&working, &f.field, before.as_ref(), o)?;
        working = patched(working, &step);
        ops.extend(step);
        restored.push(format!(
            "{}: {} back to {}",
            o.display(),
            f.field.display(),
            before.map_or("(absent)".into(), |v| v.to_string())
        ));
    }
    if on_object.is_some() {
        ops.extend(set_ops(
            &working,
            &Field::Annotation {
                key: BREAK_ANNOTATION.into(),
            },
            None,
            o,
        )?);
    }
    Ok((ops, (restored, left)))
}

/// A value as gwlab records it now: an env variable is its whole entry (a
/// record from before held only its `value`).
pub(super) fn as_recorded(field: &Field, v: Option<Value>) -> Option<Value> {
    match (field, v) {
        (Field::ControllerEnv { name }, Some(Value::String(s))) => {
            Some(json!({"name": name, "value": s}))
        }
        (_, v) => v,
    }
}

/// The index of the controller's container in a Deployment.
pub(super) fn controller_index(obj: &Value, o: &LabObject) -> Result<usize, BreakError> {
    obj["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|cs| {
            cs.iter()
                .position(|c| c["image"].as_str().is_some_and(kong::is_controller_image))
        })
        .ok_or_else(|| BreakError::NoController {
            object: o.display(),
        })
}

/// The field's value in `obj` (`None`: absent).
pub(super) fn current(
    obj: &Value,
    field: &Field,
    o: &LabObject,
) -> Result<Option<Value>, BreakError> {
    Ok(match field {
        Field::Annotation { key } => obj["metadata"]["annotations"].get(key).cloned(),
        Field::ControllerEnv { name } => {
            let i = controller_index(obj, o)?;
            obj["spec"]["template"]["spec"]["containers"][i]["env"]
                .as_array()
                .and_then(|e| e.iter().find(|v| v["name"] == name.as_str()))
                .cloned()
        }
        Field::HostNetwork => obj["spec"]["template"]["spec"].get("hostNetwork").cloned(),
        Field::Replicas => obj["spec"].get("replicas").cloned(),
    })
}

/// RFC 6901 escaping of one path segment.
pub(super) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// JSON patch operations that make the field `value` (`None`: remove it),
/// computed on the object as it is now.
pub(super) fn set_ops(
    obj: &Value,
    field: &Field,
    value: Option<&Value>,
    o: &LabObject,
) -> Result<Vec<Value>, BreakError> {
    let set_or_remove = |parent: &str, parent_exists: bool, key: &str, exists: bool| match value {
        Some(v) if parent_exists => {
            vec![json!({"op": "add", "path": format!("{parent}/{}", escape(key)), "value": v})]
        }
        Some(v) => vec![json!({"op": "add", "path": parent, "value": {key: v}})],
        None if exists => {
            vec![json!({"op": "remove", "path": format!("{parent}/{}", escape(key))})]
        }
        None => vec![],
    };
    Ok(match field {
        Field::Annotation { key } => {
            let annotations = &obj["metadata"]["annotations"];
            set_or_remove(
                "/metadata/annotations",
                annotations.is_object(),
                key,
                annotations.get(key).is_some(),
            )
        }
        Field::HostNetwork => set_or_remove(
            "/spec/template/spec",
            true,
            "hostNetwork",
            obj["spec"]["template"]["spec"].get("hostNetwork").is_some(),
        ),
        Field::Replicas => set_or_remove(
            "/spec",
            true,
            "replicas",
            obj["spec"].get("replicas").is_some(),
        ),
        Field::ControllerEnv { name } => {
            let i = controller_index(obj, o)?;
            let base = format!("/spec/template/spec/containers/{i}/env");
            let env = obj["spec"]["template"]["spec"]["containers"][i]["env"].as_array();
            let at = env.and_then(|e| e.iter().position(|v| v["name"] == name.as_str()));
            match (value, env, at) {
                (Some(v), _, Some(j)) => {
                    vec![json!({"op": "replace", "path": format!("{base}/{j}"), "value": v})]
                }
                (Some(v), Some(_), None) => {
                    vec![json!({"op": "add", "path": format!("{base}/-"), "value": v})]
                }
                (Some(v), None, None) => {
                    vec![json!({"op": "add", "path": base, "value": [v]})]
                }
                (None, _, Some(j)) => vec![json!({"op": "remove", "path": format!("{base}/{j}")})],
                (None, _, None) => vec![],
            }
        }
    })
}
