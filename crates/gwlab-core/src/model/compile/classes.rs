//! GatewayClasses: those naming this controller are accepted, with the
//! features the embedded gateway supports.

use super::{CONTROLLER_NAME, Compiled};
use crate::features::Feature;
use crate::manifest::Object;
use crate::model::status::{Condition, ObjectStatus};
use crate::model::world::World;

/// What the embedded gateway supports, as GatewayClass `status.supportedFeatures`:
/// every standard-channel HTTPRoute feature of Gateway API v1.2, the named
/// rules of v1.4, the mirrors of a share of requests of v1.3, the CORS
/// filter and 303, 307 and 308 redirects of v1.5, and HTTP listener
/// isolation (a request goes to the routes of the most specific
/// listener whose hostname matches it, never to those of a less specific one).
pub const SUPPORTED_FEATURES: &[Feature] = &[
    Feature::Gateway,
    Feature::GatewayHTTPListenerIsolation,
    Feature::GatewayPort8080,
    Feature::HTTPRoute,
    Feature::HTTPRoute303RedirectStatusCode,
    Feature::HTTPRoute307RedirectStatusCode,
    Feature::HTTPRoute308RedirectStatusCode,
    Feature::HTTPRouteCORS,
    Feature::HTTPRouteBackendRequestHeaderModification,
    Feature::HTTPRouteHostRewrite,
    Feature::HTTPRouteMethodMatching,
    Feature::HTTPRouteNamedRouteRule,
    Feature::HTTPRouteParentRefPort,
    Feature::HTTPRoutePathRedirect,
    Feature::HTTPRoutePathRewrite,
    Feature::HTTPRoutePortRedirect,
    Feature::HTTPRouteQueryParamMatching,
    Feature::HTTPRouteRequestMirror,
    Feature::HTTPRouteRequestPercentageMirror,
    Feature::HTTPRouteRequestTimeout,
    Feature::HTTPRouteBackendTimeout,
    Feature::HTTPRouteResponseHeaderModification,
    Feature::HTTPRouteSchemeRedirect,
    Feature::ReferenceGrant,
];

/// Accepts the GatewayClasses of this controller and returns their names.
pub(super) fn compile_classes(world: &World, out: &mut Compiled) -> Vec<String> {
    let mut owned = Vec::new();
    for (key, stored) in world.of_kind("GatewayClass") {
        let Object::GatewayClass(gc) = &stored.manifest.object else {
            continue;
        };
        if gc.spec.controller_name != CONTROLLER_NAME {
            continue;
        }
        owned.push(key.name.clone());
        out.status.insert(
            key.clone(),
            ObjectStatus {
                generation: stored.generation,
                conditions: vec![Condition::new(
                    "Accepted",
                    true,
                    "Accepted",
                    "accepted by the gwlab embedded gateway",
                    stored.generation,
                )],
                // By name, as the standard channel asks from v1.4.1.
                supported_features: out
                    .implementation
                    .features()
                    .iter()
                    .map(|f| f.name().to_string())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
        );
    }
    owned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::status::find;
    use crate::model::test_support::world_of;
    use crate::model::world::ObjKey;

    fn class(name: &str, controller: &str) -> String {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {name}}}\nspec: {{controllerName: {controller}}}\n---\n"
        )
    }

    #[test]
    fn only_classes_of_this_controller_are_owned_and_accepted() {
        let yaml = class("ours", CONTROLLER_NAME) + &class("theirs", "example.com/other");
        let mut out = Compiled::default();
        let owned = compile_classes(&world_of(&yaml), &mut out);
        assert_eq!(owned, ["ours"]);
        assert!(
            !out.status
                .contains_key(&ObjKey::new("GatewayClass", "", "theirs"))
        );
        let st = &out.status[&ObjKey::new("GatewayClass", "", "ours")];
        let accepted = find(&st.conditions, "Accepted").expect("Accepted");
        assert_eq!(
            (accepted.status.as_str(), accepted.reason.as_str()),
            ("True", "Accepted")
        );
        assert_eq!(accepted.observed_generation, st.generation);
        assert_eq!(st.supported_features.len(), SUPPORTED_FEATURES.len());
        assert!(st.supported_features.iter().any(|f| f == "ReferenceGrant"));
    }
}
