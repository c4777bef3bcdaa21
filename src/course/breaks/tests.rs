use super::*;

fn deployment() -> Value {
    json!({"metadata": {"name": "kong"}, "spec": {"replicas": 1, "template": {"spec": {"containers": [
        {"name": "proxy", "image": "kong:3.9.3", "env": [{"name": "KONG_DATABASE", "value": "off"}]},
        {"name": "ingress-controller", "image": "kong/kubernetes-ingress-controller:3.5.13",
         "env": [{"name": "CONTROLLER_PUBLISH_SERVICE", "value": "kong-system/kong-proxy"}]}]}}}})
}

fn applied(mut obj: Value, ops: Vec<Value>) -> Value {
    let p: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
    json_patch::patch(&mut obj, &p).unwrap();
    obj
}

#[test]
fn a_controller_env_is_added_then_removed_leaving_the_rest() {
    let o = LabObject::deployment();
    let field = Field::ControllerEnv {
        name: "CONTROLLER_FEATURE_GATES".into(),
    };
    let d = deployment();
    assert_eq!(current(&d, &field, &o).unwrap(), None);
    let broken = applied(
        d.clone(),
        set_ops(
            &d,
            &field,
            Some(&json!({"name": "CONTROLLER_FEATURE_GATES", "value": "Gateway=true"})),
            &o,
        )
        .unwrap(),
    );
    assert_eq!(
        current(&broken, &field, &o).unwrap(),
        Some(json!({"name": "CONTROLLER_FEATURE_GATES", "value": "Gateway=true"}))
    );
    let back = applied(broken.clone(), set_ops(&broken, &field, None, &o).unwrap());
    assert_eq!(back, d);
}

#[test]
fn an_annotation_with_a_slash_and_absent_fields_round_trip() {
    let o = LabObject::gateway();
    let field = Field::Annotation {
        key: kong::PUBLISH_ANNOTATION.into(),
    };
    let gw = json!({"metadata": {"name": "kong"}});
    let broken = applied(
        gw.clone(),
        set_ops(&gw, &field, Some(&json!("x/y")), &o).unwrap(),
    );
    assert_eq!(
        broken["metadata"]["annotations"]["konghq.com/publish-service"],
        "x/y"
    );
    let back = applied(broken.clone(), set_ops(&broken, &field, None, &o).unwrap());
    assert_eq!(back["metadata"]["annotations"], json!({}));

    let d = deployment();
    let o = LabObject::deployment();
    let broken = applied(
        d.clone(),
        set_ops(&d, &Field::HostNetwork, Some(&json!(true)), &o).unwrap(),
    );
    let broken = applied(
        broken.clone(),
        set_ops(&broken, &Field::Replicas, Some(&json!(2)), &o).unwrap(),
    );
    assert_eq!(broken["spec"]["template"]["spec"]["hostNetwork"], true);
    assert_eq!(broken["spec"]["replicas"], 2);
    let back = applied(
        broken.clone(),
        set_ops(&broken, &Field::HostNetwork, None, &o).unwrap(),
    );
    let back = applied(
        back.clone(),
        set_ops(&back, &Field::Replicas, Some(&json!(1)), &o).unwrap(),
    );
    assert_eq!(back, d);
}

#[test]
fn every_fault_has_a_name_and_a_finding() {
    for f in [
        Fault::PublishServiceMismatch,
        Fault::FeatureGateGateway,
        Fault::HostNetwork,
    ] {
        let parsed: Fault = serde_json::from_value(json!(f.name())).unwrap();
        assert_eq!(parsed, f);
        assert!(!f.finding().is_empty() && !f.settings().is_empty());
    }
}

fn with_gates_from_a_config_map() -> Value {
    let mut d = deployment();
    d["metadata"]["uid"] = json!("u1");
    d["metadata"]["resourceVersion"] = json!("7");
    d["spec"]["template"]["spec"]["containers"][1]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "CONTROLLER_FEATURE_GATES",
            "valueFrom": {"configMapKeyRef": {"name": "gates", "key": "g"}}}));
    d
}

#[test]
fn the_break_carries_its_record_and_putting_back_restores_a_value_from_and_drops_it() {
    let o = LabObject::deployment();
    let d = with_gates_from_a_config_map();
    let (ops, record) = break_ops(&d, &o, Fault::FeatureGateGateway, "03-gates").unwrap();
    let broken = applied(d.clone(), ops);
    let on = record_on(&broken, &o).unwrap().unwrap();
    assert_eq!(on, record);
    assert_eq!(on.exercise, "03-gates");
    assert_eq!(
        on.fields[0].before.as_ref().unwrap()["valueFrom"]["configMapKeyRef"]["name"],
        "gates"
    );
    // Breaking again adopts the record rather than taking the fault for
    // the value before.
    let (again, adopted) = break_ops(&broken, &o, Fault::FeatureGateGateway, "03-gates").unwrap();
    assert!(again.is_empty());
    assert_eq!(adopted, record);

    // The workspace's copy is stale (says absent): the object's record wins.
    let stale = Change {
        object: o.clone(),
        uid: "u1".into(),
        field: record.fields[0].field.clone(),
        before: None,
        after: record.fields[0].after.clone(),
    };
    let (ops, (restored, left)) = restore_ops(&broken, &o, "03-gates", &[&stale], false).unwrap();
    assert_eq!((restored.len(), left.len()), (1, 0));
    let back = applied(broken.clone(), ops);
    assert_eq!(back["metadata"]["annotations"], json!({}));
    let mut expected = d.clone();
    expected["metadata"]["annotations"] = json!({});
    assert_eq!(back, expected);

    // Another exercise's record is left for it.
    let (ops, (_, left)) = restore_ops(&broken, &o, "04-other", &[&stale], false).unwrap();
    assert!(ops.is_empty() && left[0].contains("03-gates"));
}

#[test]
fn every_patch_is_conditional_on_the_version_read() {
    let d = with_gates_from_a_config_map();
    let ops = guarded(&d, vec![json!({"op": "remove", "path": "/spec/replicas"})]);
    assert_eq!(
        ops[0],
        json!({"op": "test", "path": "/metadata/resourceVersion", "value": "7"})
    );
    let mut edited = d.clone();
    edited["metadata"]["resourceVersion"] = json!("8");
    let p: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
    assert!(json_patch::patch(&mut edited, &p).is_err());
}

#[test]
fn an_object_without_a_uid_is_an_error_not_an_empty_uid() {
    let o = LabObject::deployment();
    assert!(matches!(
        uid_of(&deployment(), &o),
        Err(BreakError::NoUid { .. })
    ));
}
