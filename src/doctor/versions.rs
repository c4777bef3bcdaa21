//! The versions Kong runs at: a withdrawn Kong Ingress Controller image, a
//! Kong or KIC release past its support, a KIC and Kong pair outside KIC's
//! compatibility, Gateway API CRDs outside the range the KIC release
//! supports. Facts and dates come from `kong::facts`, each with its source.

use jiff::civil::Date;

use super::facts::{Facts, Kic, KongProxy};
use super::{Finding, Layer, Severity};
use crate::kong::facts::{
    KONG_SUPPORT_SOURCE, KicLine, NEWEST_OSS_KONG, Withdrawn, kic_line, kic_support_ends,
    kong_support, withdrawn,
};
use crate::kong::{Version, image_version};

pub(super) fn check(f: &Facts, out: &mut Vec<Finding>, checks: &mut Vec<String>) {
    for kic in &f.kics {
        let at = format!("{} {}/{}", kic.kind(), kic.namespace(), kic.name());
        checks.push(format!("the Kong Ingress Controller version of {at}"));
        if let Some(w) = withdrawn(&kic.image) {
            out.push(withdrawn_image(kic, &at, w));
            continue;
        }
        let Some(version) = image_version(&kic.image).and_then(Version::parse) else {
            continue;
        };
        if let Some(today) = f.today {
            out.extend(kic_past_support(version, &at, &kic.image, today));
        }
        let Some(line) = kic_line(version) else {
            continue;
        };
        for kong in kongs_of(f, kic) {
            out.extend(incompatible_pair(version, line, &at, kong));
        }
        out.extend(crds_outside(f, version, line));
    }
    for kong in &f.kongs {
        let Some(version) = image_version(&kong.image).and_then(Version::parse) else {
            continue;
        };
        if let Some(today) = f.today {
            checks.push(format!(
                "the Kong version of {} {}/{}",
                kong.kind, kong.namespace, kong.name
            ));
            out.extend(kong_past_support(version, kong, today));
        }
    }
}

/// The Kong proxies that a controller programs: those of its own workload,
/// else those of its namespace (Kong's chart may split them).
fn kongs_of<'a>(f: &'a Facts, kic: &Kic) -> Vec<&'a KongProxy> {
    let same_workload: Vec<&KongProxy> = f
        .kongs
        .iter()
        .filter(|k| k.kind == kic.kind() && k.namespace == kic.namespace() && k.name == kic.name())
        .collect();
    if !same_workload.is_empty() {
        return same_workload;
    }
    f.kongs
        .iter()
        .filter(|k| k.namespace == kic.namespace())
        .collect()
}

/// The running pods' image IDs: what the node actually runs under the tag.
fn running_images(kic: &Kic) -> Vec<String> {
    kic.pods
        .iter()
        .flat_map(|p| {
            let pod = p.metadata.name.as_deref().unwrap_or_default();
            super::kic::container_statuses(p)
                .iter()
                .filter(|cs| withdrawn(&cs.image).is_some())
                .filter(|cs| !cs.image_id.is_empty())
                .map(move |cs| format!("pod {pod} runs {}", cs.image_id))
        })
        .collect()
}

fn withdrawn_image(kic: &Kic, at: &str, w: &Withdrawn) -> Finding {
    let mut f = Finding::new(
        "kic-withdrawn-image",
        Layer::Controller,
        format!(
            "{at} runs {}, a withdrawn release: {} ({})",
            kic.image, w.what, w.advisory
        ),
    )
    .severity(Severity::Critical)
    .evidence(format!("{at}: controller image {}", kic.image));
    for line in running_images(kic) {
        f = f.evidence(line);
    }
    f.evidence(format!("source: {}", w.source))
        .fix(format!(
            "move to {} or later now (gwlab's lab runs KIC 3.5.13; the 3.4 long-term line's newest is 3.4.20), by tag and digest, and delete the old pods",
            w.fixed_in
        ))
        .fix(format!(
            "treat these pods as compromised until shown otherwise: look for unexpected CPU use (`kubectl -n {ns} top pod`) and for outbound connections from them (network policy logs, flow logs, DNS queries to mining pools); the advisory is https://github.com/Kong/kubernetes-ingress-controller/security/advisories/{adv}",
            ns = kic.namespace(),
            adv = w.advisory
        ))
        .fix("find where the image came from (a mirror or cache can still serve it) and remove it there")
}

fn kic_past_support(version: Version, at: &str, image: &str, today: Date) -> Option<Finding> {
    let ends = kic_support_ends(version)?;
    (ends.value < today).then(|| {
        Finding::new(
            "kic-past-support",
            Layer::Controller,
            format!(
                "{at} runs the Kong Ingress Controller {version}, whose line {}.{} left Kong's support on {}",
                version.major, version.minor, ends.value
            ),
        )
        .severity(Severity::Warning)
        .evidence(format!("{at}: controller image {image}"))
        .evidence(format!("source: {}", ends.source))
        .fix("move to a supported line: KIC 3.5 (gwlab's lab runs 3.5.13) or 3.4 LTS (newest 3.4.20), both supported to 2027-12-18")
    })
}

/// A Kong line past Kong's support. Kong publishes support dates for Kong
/// Gateway Enterprise only; for open-source Kong a line is judged past its
/// support only where a newer open-source line exists to move to (3.9.3 is
/// the last open-source Kong, so 3.9 is not judged by date: there is no
/// open-source way forward, and no published date applies to it).
fn kong_past_support(version: Version, kong: &KongProxy, today: Date) -> Option<Finding> {
    let support = kong_support(version)?;
    let open_source = !kong.image.contains("kong-gateway");
    if support.ends >= today || (open_source && version.line() >= NEWEST_OSS_KONG.value.line()) {
        return None;
    }
    let at = format!("{} {}/{}", kong.kind, kong.namespace, kong.name);
    let f = Finding::new(
        "kong-past-support",
        Layer::Controller,
        format!(
            "{at} runs Kong {version}, whose line {}.{} left Kong's support on {} (sunset {})",
            version.major, version.minor, support.ends, support.sunset
        ),
    )
    .severity(Severity::Warning)
    .evidence(format!(
        "{at}: container {} image {}",
        kong.container, kong.image
    ))
    .evidence(format!("source: {KONG_SUPPORT_SOURCE}"));
    Some(if open_source {
        f.fix(format!(
            "move to Kong {v} (kong:{v}), the newest open-source Kong ({src}); from 3.9 KIC programs RequestRedirect with Kong's redirect plugin",
            v = NEWEST_OSS_KONG.value,
            src = NEWEST_OSS_KONG.source
        ))
    } else {
        f.fix("move to a supported Kong Gateway line: 3.10 LTS (to 2028-03-31) or 3.14 LTS (to 2029-04-07)")
    })
}

fn incompatible_pair(kic: Version, line: &KicLine, at: &str, kong: &KongProxy) -> Option<Finding> {
    let version = image_version(&kong.image).and_then(Version::parse)?;
    let kong_at = format!("{} {}/{}", kong.kind, kong.namespace, kong.name);
    let evidence = |f: Finding| {
        f.evidence(format!(
            "{kong_at}: container {} image {}",
            kong.container, kong.image
        ))
        .evidence(format!("{at}: KIC {kic}"))
    };
    if version < line.kong_minimum.value {
        return Some(
            evidence(Finding::new(
                "kic-kong-too-old",
                Layer::Controller,
                format!(
                    "KIC {kic} does not run with Kong {version}: it refuses any Kong below {} and does not start",
                    line.kong_minimum.value
                ),
            ))
            .evidence(format!("source: {}", line.kong_minimum.source))
            .fix(format!(
                "run Kong {} or later (KIC {}.{} is tested with Kong {})",
                line.kong_minimum.value, line.line.0, line.line.1, line.kong_tested.value
            )),
        );
    }
    (!line.kong_compatible.value.contains(version.line())).then(|| {
        evidence(
            Finding::new(
                "kic-kong-untested",
                Layer::Controller,
                format!(
                    "Kong {version} is outside what KIC {}.{} is documented to work with (Kong {})",
                    line.line.0, line.line.1, line.kong_compatible.value
                ),
            )
            .severity(Severity::Warning),
        )
        .evidence(format!("source: {}", line.kong_compatible.source))
        .fix(format!(
            "run a Kong from {} with this controller, or a KIC release documented for Kong {}.{}",
            line.kong_compatible.value, version.major, version.minor
        ))
    })
}

fn crds_outside(f: &Facts, kic: Version, line: &KicLine) -> Option<Finding> {
    let (name, bundle) = f
        .crds
        .iter()
        .find(|(n, _, _)| n == "gateways.gateway.networking.k8s.io")
        .and_then(|(n, v, _)| Some((n, v.as_deref()?)))?;
    let installed = Version::parse(bundle)?;
    (!line.gateway_api.value.contains(installed.line())).then(|| {
        Finding::new(
            "kic-gateway-api-unsupported",
            Layer::Crds,
            format!(
                "the Gateway API CRDs are {bundle}, outside what KIC {kic} supports (Gateway API {})",
                line.gateway_api.value
            ),
        )
        .severity(Severity::Warning)
        .evidence(format!("CRD {name}: gateway.networking.k8s.io/bundle-version: {bundle}"))
        .evidence(format!("source: {}", line.gateway_api.source))
        .fix(format!(
            "install Gateway API CRDs from {} (`gwlab up --gateway-api VERSION`; v1.2.1 without it), or a KIC release that supports {}.{}",
            line.gateway_api.value, installed.major, installed.minor
        ))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kic(image: &str) -> Kic {
        let mut deployment = k8s_openapi::api::apps::v1::Deployment::default();
        deployment.metadata.namespace = Some("kong".into());
        deployment.metadata.name = Some("kong".into());
        Kic {
            workload: super::super::facts::Workload::Deployment(Box::new(deployment)),
            pods: vec![],
            events: vec![],
            log: String::new(),
            publish_service: None,
            feature_gates: None,
            image: image.into(),
        }
    }

    fn kong(image: &str) -> KongProxy {
        KongProxy {
            kind: "Deployment".into(),
            namespace: "kong".into(),
            name: "kong".into(),
            container: "proxy".into(),
            image: image.into(),
        }
    }

    fn facts(kic_image: &str, kong_image: &str, today: Date) -> Facts {
        Facts {
            kics: vec![kic(kic_image)],
            kongs: vec![kong(kong_image)],
            crds: vec![(
                "gateways.gateway.networking.k8s.io".into(),
                Some("v1.2.1".into()),
                Some("standard".into()),
            )],
            today: Some(today),
            ..Default::default()
        }
    }

    fn found(f: &Facts) -> Vec<Finding> {
        let mut out = Vec::new();
        check(f, &mut out, &mut Vec::new());
        out
    }

    const DAY: Date = jiff::civil::date(2026, 12, 6);

    #[test]
    fn the_lab_pins_raise_nothing() {
        let f = found(&facts(
            "kong/kubernetes-ingress-controller:3.5.13@sha256:979f",
            "kong:3.9.3@sha256:4d6a",
            DAY,
        ));
        assert!(f.is_empty(), "{f:#?}");
        // Kong Gateway Enterprise 3.9 is judged by its date.
        let f = found(&facts(
            "kong/kubernetes-ingress-controller:3.5.13",
            "kong/kong-gateway:3.9.1.2",
            DAY,
        ));
        let w = f.iter().find(|x| x.id == "kong-past-support").unwrap();
        assert_eq!(w.severity, Severity::Warning);
        assert!(
            w.problem.contains("2025-12-12") && w.fix[0].contains("3.10 LTS"),
            "{w:#?}"
        );
    }

    #[test]
    fn the_withdrawn_image_is_critical_and_names_the_advisory() {
        let mut fx = facts(
            "kong/kubernetes-ingress-controller:3.4.0",
            "kong:3.8.0",
            DAY,
        );
        let pod = json!({"metadata": {"name": "kong-1"}, "status": {"containerStatuses": [
            {"name": "ingress-controller", "image": "docker.io/kong/kubernetes-ingress-controller:3.4.0",
             "imageID": "docker.io/kong/kubernetes-ingress-controller@sha256:abcd",
             "ready": false, "restartCount": 0}]}});
        fx.kics[0].pods = vec![serde_json::from_value(pod).unwrap()];
        let f = found(&fx);
        let w = f.iter().find(|x| x.id == "kic-withdrawn-image").unwrap();
        assert_eq!(w.severity, Severity::Critical);
        assert!(w.problem.contains("GHSA-58mg-ww7q-xw3p"));
        assert!(w.evidence.iter().any(|e| {
            e.contains("pod kong-1 runs docker.io/kong/kubernetes-ingress-controller@sha256:abcd")
        }));
        assert!(w.fix.iter().any(|x| x.contains("3.4.1 or later")));
        assert!(
            w.fix
                .iter()
                .any(|x| x.contains("CPU") && x.contains("outbound connections"))
        );
        // Kong 3.8 is past its support as well.
        assert!(
            f.iter()
                .any(|x| x.id == "kong-past-support" && x.fix[0].contains("kong:3.9.3"))
        );
    }

    #[test]
    fn a_kong_below_kics_minimum_is_an_error_and_outside_the_table_a_warning() {
        let f = found(&facts(
            "kong/kubernetes-ingress-controller:3.5.13",
            "kong:3.4.0",
            DAY,
        ));
        let e = f.iter().find(|x| x.id == "kic-kong-too-old").unwrap();
        assert_eq!(e.severity, Severity::Error);
        assert!(e.problem.contains("3.4.1"), "{}", e.problem);
        let f = found(&facts(
            "kong/kubernetes-ingress-controller:3.5.13",
            "kong/kong-gateway:3.14.0.1",
            DAY,
        ));
        let w = f.iter().find(|x| x.id == "kic-kong-untested").unwrap();
        assert_eq!(w.severity, Severity::Warning);
        assert!(
            !f.iter().any(|x| x.id == "kong-past-support"),
            "3.14 is supported"
        );
    }

    #[test]
    fn crds_outside_the_kic_range_are_named() {
        let mut fx = facts(
            "kong/kubernetes-ingress-controller:3.4.20",
            "kong:3.9.3",
            DAY,
        );
        fx.crds[0].1 = Some("v1.3.0".into());
        let f = found(&fx);
        let w = f
            .iter()
            .find(|x| x.id == "kic-gateway-api-unsupported")
            .unwrap();
        assert!(
            w.problem.contains("v1.3.0") && w.problem.contains("1.0 to 1.2"),
            "{}",
            w.problem
        );
        // KIC 3.5 supports 1.3.
        let mut fx = facts(
            "kong/kubernetes-ingress-controller:3.5.13",
            "kong:3.9.3",
            DAY,
        );
        fx.crds[0].1 = Some("v1.3.0".into());
        assert!(
            !found(&fx)
                .iter()
                .any(|x| x.id == "kic-gateway-api-unsupported")
        );
    }

    #[test]
    fn support_is_judged_on_the_day_given() {
        let f = found(&facts(
            "kong/kubernetes-ingress-controller:3.3.1",
            "kong:3.9.3",
            DAY,
        ));
        assert!(f.iter().any(|x| x.id == "kic-past-support"));
        let earlier = jiff::civil::date(2025, 1, 1);
        let f = found(&facts(
            "kong/kubernetes-ingress-controller:3.3.1",
            "kong:3.9.3",
            earlier,
        ));
        assert!(!f.iter().any(|x| x.id.ends_with("past-support")), "{f:#?}");
        // Without a date, nothing is judged by date.
        let mut fx = facts(
            "kong/kubernetes-ingress-controller:3.3.1",
            "kong:3.8.0",
            DAY,
        );
        fx.today = None;
        assert!(!found(&fx).iter().any(|x| x.id.ends_with("past-support")));
    }
}
