//! Which Gateway API features a cluster's implementation supports: what its
//! GatewayClass reports in `status.supportedFeatures`, or, where that is empty,
//! gwlab's own table keyed by the class's controller name and the
//! controller's version.

use std::collections::BTreeSet;

use kube::api::DynamicObject;

use super::read_status;
use crate::features::Feature;
use crate::kong;
use crate::targets::TargetError;

/// The features of the implementation behind a GatewayClass, with a sentence
/// saying where they come from. A failed read is an error, never "nothing
/// supported".
pub(crate) async fn of_class(
    client: &kube::Client,
    class: &DynamicObject,
) -> Result<(BTreeSet<String>, String), TargetError> {
    let json = serde_json::to_value(class).unwrap_or_default();
    let reported = read_status::object_status(&json).supported_features;
    if !reported.is_empty() {
        let source = "the GatewayClass's status.supportedFeatures".to_string();
        return Ok((reported.into_iter().collect(), source));
    }
    let controller = json
        .pointer("/spec/controllerName")
        .and_then(|c| c.as_str())
        .unwrap_or_default();
    let version = if controller == kong::CONTROLLER_NAME {
        controller_version(client)
            .await
            .map_err(TargetError::kube(format!(
                "cannot read the Kong Ingress Controller Deployment {}/{}",
                kong::NAMESPACE,
                kong::DEPLOYMENT
            )))?
    } else {
        None
    };
    Ok(builtin(controller, version.as_deref()))
}

/// The version of the lab's Kong Ingress Controller, from its image tag
/// (`None` when the lab's Deployment is not there or names no version).
async fn controller_version(client: &kube::Client) -> Result<Option<String>, kube::Error> {
    use k8s_openapi::api::apps::v1::Deployment;
    let api: kube::Api<Deployment> = kube::Api::namespaced(client.clone(), kong::NAMESPACE);
    let Some(d) = api.get_opt(kong::DEPLOYMENT).await? else {
        return Ok(None);
    };
    Ok(d.spec
        .and_then(|s| s.template.spec)
        .and_then(|s| {
            s.containers
                .into_iter()
                .filter_map(|c| c.image)
                .find(|i| kong::is_controller_image(i))
        })
        .and_then(|i| kong::image_version(&i).map(String::from)))
}

/// Core features every conformant implementation has.
pub(crate) const CORE: &[Feature] = &[
    Feature::Gateway,
    Feature::HTTPRoute,
    Feature::ReferenceGrant,
];

/// The features of an implementation, from its controller name and version
/// (the controller image's tag), when its GatewayClass reports none; with a
/// sentence saying where they come from.
pub fn builtin(controller: &str, version: Option<&str>) -> (BTreeSet<String>, String) {
    let mut set: BTreeSet<String> = crate::features::names(CORE);
    if controller == kong::CONTROLLER_NAME {
        let (extended, source) = kong::features(version);
        set.extend(extended);
        (set, source)
    } else {
        (
            set,
            format!("core features only: gwlab has no table for {controller}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kong_gets_its_table_and_others_core_only() {
        let (set, source) = builtin(kong::CONTROLLER_NAME, Some("3.4.0"));
        assert!(set.contains("HTTPRoutePathRewrite") && set.contains("HTTPRoute"));
        assert!(!set.contains("HTTPRouteSchemeRedirect"));
        assert!(source.contains("3.4.0"));
        let (other, source) = builtin("example.com/gateway", None);
        assert_eq!(other.len(), CORE.len());
        assert!(source.contains("example.com/gateway"));
    }
}
