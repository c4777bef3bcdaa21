//! Facts about Kong and the Kong Ingress Controller (KIC), per release line,
//! each with the repository, tag (or commit) and path it was read from. The
//! lab's pins (`manifests/lock.yaml`), `gwlab doctor`, the cluster target's
//! feature table and the docs all read them from here; a fact that could not
//! be established from source is not here.

use std::fmt;

use jiff::civil::{Date, date};

use super::version::Version;
use crate::features::Feature;

/// Where a fact was read: a repository at a tag or commit, and a path in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub repo: &'static str,
    /// A tag, or a commit for repositories that tag nothing relevant.
    pub at: &'static str,
    pub path: &'static str,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{} {}", self.repo, self.at, self.path)
    }
}

/// A value and where it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact<T> {
    pub value: T,
    pub source: Source,
}

const fn kic(at: &'static str, path: &'static str) -> Source {
    Source {
        repo: "Kong/kubernetes-ingress-controller",
        at,
        path,
    }
}

/// Kong's documentation site at the commit read (2026-08-21).
const fn kong_docs(path: &'static str) -> Source {
    Source {
        repo: "Kong/developer.konghq.com",
        at: "bc1cd74260f0bddb06dcf004c9c34b53bb870c1a",
        path,
    }
}

/// An inclusive range of release lines (`1.0..=1.3`), as compatibility tables give them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lines {
    pub first: (u64, u64),
    pub last: (u64, u64),
}

impl Lines {
    pub fn contains(&self, line: (u64, u64)) -> bool {
        self.first <= line && line <= self.last
    }
}

impl fmt::Display for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} to {}.{}",
            self.first.0, self.first.1, self.last.0, self.last.1
        )
    }
}

/// One release line of the Kong Ingress Controller, as read at its newest tag.
#[derive(Debug, Clone, Copy)]
pub struct KicLine {
    /// `(3, 5)` for 3.5.x.
    pub line: (u64, u64),
    /// The newest release of the line, whose source the facts below were read at.
    pub newest: Version,
    /// A long-term-support line (3 years instead of 1).
    pub lts: bool,
    /// The lowest Kong KIC runs with: below it KIC refuses the Kong's admin
    /// API and does not start.
    pub kong_minimum: Fact<Version>,
    /// The Kong lines Kong's compatibility table says work with this line.
    pub kong_compatible: Fact<Lines>,
    /// The open-source Kong KIC's own integration tests run.
    pub kong_tested: Fact<Version>,
    /// The Gateway API releases Kong's compatibility table says this line supports.
    pub gateway_api: Fact<Lines>,
    /// The Gateway API Go module the release is built against.
    pub gateway_api_built_against: Fact<&'static str>,
    /// The newest Kubernetes KIC's end-to-end tests run on (kind).
    pub kubernetes_tested: Fact<&'static str>,
    /// The Kong CRDs (Kong/kubernetes-configuration) the release installs.
    pub kong_crds: Fact<&'static str>,
    /// The feature gates the release knows; any other name stops it at start.
    pub feature_gates: Fact<&'static [&'static str]>,
    /// The router flavour KIC's own DB-less manifest sets on Kong (the lab sets the same).
    pub router_flavour: Fact<&'static str>,
    /// The last day Kong supports the line.
    pub support_ends: Fact<Date>,
}

const KIC_SUPPORT: Source = kong_docs("app/kubernetes-ingress-controller/support.md");
const KIC_COMPATIBILITY: Source =
    kong_docs("app/kubernetes-ingress-controller/version-compatibility.md");

const GATES_3_4: &[&str] = &[
    "GatewayAlpha",
    "FillIDs",
    "RewriteURIs",
    "KongServiceFacade",
    "SanitizeKonnectConfigDumps",
    "FallbackConfiguration",
    "KongCustomEntity",
    "CombinedServicesFromDifferentHTTPRoutes",
];

/// 3.5.0 turned `CombinedServicesFromDifferentHTTPRoutes` into the flag
/// `--combined-services-from-different-httproutes` (CHANGELOG 3.5.0): as a
/// gate it is now an unknown name.
const GATES_3_5: &[&str] = &[
    "GatewayAlpha",
    "FillIDs",
    "RewriteURIs",
    "KongServiceFacade",
    "SanitizeKonnectConfigDumps",
    "FallbackConfiguration",
    "KongCustomEntity",
];

/// The KIC release lines gwlab knows, oldest first.
pub const KIC_LINES: &[KicLine] = &[
    KicLine {
        line: (3, 4),
        newest: Version::new(3, 4, 20),
        lts: true,
        kong_minimum: Fact {
            value: Version::new(3, 4, 1),
            source: kic(
                "v3.4.20",
                "internal/versions/versions.go (KICv3VersionCutoff)",
            ),
        },
        kong_compatible: Fact {
            value: Lines {
                first: (3, 4),
                last: (3, 12),
            },
            source: KIC_COMPATIBILITY,
        },
        kong_tested: Fact {
            value: Version::new(3, 9, 0),
            source: kic(
                "v3.4.20",
                ".github/test_dependencies.yaml (integration.kong-oss)",
            ),
        },
        gateway_api: Fact {
            value: Lines {
                first: (1, 0),
                last: (1, 2),
            },
            source: KIC_COMPATIBILITY,
        },
        gateway_api_built_against: Fact {
            value: "v1.3.0",
            source: kic(
                "v3.4.20",
                "go.mod (sigs.k8s.io/gateway-api; v1.2.1 up to v3.4.4)",
            ),
        },
        kubernetes_tested: Fact {
            value: "v1.33.0",
            source: kic("v3.4.20", ".github/test_dependencies.yaml (e2e.kind)"),
        },
        kong_crds: Fact {
            value: "v1.5.2",
            source: kic("v3.4.20", "config/crd/kustomization.yaml"),
        },
        feature_gates: Fact {
            value: GATES_3_4,
            source: kic("v3.4.20", "pkg/manager/config/feature_gates_keys.go"),
        },
        router_flavour: Fact {
            value: "expressions",
            source: kic(
                "v3.4.20",
                "config/base/kong-ingress-dbless.yaml (KONG_ROUTER_FLAVOR)",
            ),
        },
        support_ends: Fact {
            value: date(2027, 12, 18),
            source: KIC_SUPPORT,
        },
    },
    KicLine {
        line: (3, 5),
        newest: Version::new(3, 5, 13),
        lts: false,
        kong_minimum: Fact {
            value: Version::new(3, 4, 1),
            source: kic(
                "v3.5.13",
                "internal/versions/versions.go (KICv3VersionCutoff)",
            ),
        },
        kong_compatible: Fact {
            value: Lines {
                first: (3, 4),
                last: (3, 12),
            },
            source: KIC_COMPATIBILITY,
        },
        kong_tested: Fact {
            value: Version::new(3, 9, 1),
            source: kic(
                "v3.5.13",
                ".github/test_dependencies.yaml (integration.kong-oss)",
            ),
        },
        gateway_api: Fact {
            value: Lines {
                first: (1, 0),
                last: (1, 3),
            },
            source: KIC_COMPATIBILITY,
        },
        gateway_api_built_against: Fact {
            value: "v1.3.0",
            source: kic("v3.5.13", "go.mod (sigs.k8s.io/gateway-api)"),
        },
        kubernetes_tested: Fact {
            value: "v1.33.0",
            source: kic("v3.5.13", ".github/test_dependencies.yaml (e2e.kind)"),
        },
        kong_crds: Fact {
            value: "v1.5.2",
            source: kic("v3.5.13", "config/crd/kustomization.yaml"),
        },
        feature_gates: Fact {
            value: GATES_3_5,
            source: kic("v3.5.13", "pkg/manager/config/feature_gates_keys.go"),
        },
        router_flavour: Fact {
            value: "expressions",
            source: kic(
                "v3.5.13",
                "config/base/kong-ingress-dbless.yaml (KONG_ROUTER_FLAVOR)",
            ),
        },
        support_ends: Fact {
            value: date(2027, 12, 18),
            source: KIC_SUPPORT,
        },
    },
];

/// When KIC lines before 3.4 left Kong's support ("have reached the end of
/// full support", and 2.12 LTS among the supported ones at the commit read).
const EARLIER_KIC_SUPPORT: &[((u64, u64), Date)] = &[
    ((2, 8), date(2023, 12, 19)),
    ((2, 9), date(2024, 3, 9)),
    ((2, 10), date(2024, 6, 2)),
    ((2, 11), date(2024, 8, 9)),
    ((2, 12), date(2026, 9, 25)),
    ((3, 0), date(2024, 11, 3)),
    ((3, 1), date(2025, 2, 7)),
    ((3, 2), date(2025, 6, 12)),
    ((3, 3), date(2025, 8, 26)),
];

/// The last day Kong supports the KIC line of `version`, if gwlab knows it.
pub fn kic_support_ends(version: Version) -> Option<Fact<Date>> {
    if let Some(line) = kic_line(version) {
        return Some(line.support_ends);
    }
    EARLIER_KIC_SUPPORT
        .iter()
        .find(|(line, _)| *line == version.line())
        .map(|(_, ends)| Fact {
            value: *ends,
            source: KIC_SUPPORT,
        })
}

/// The facts of the KIC line a version belongs to, if gwlab knows it.
pub fn kic_line(version: Version) -> Option<&'static KicLine> {
    KIC_LINES.iter().find(|l| l.line == version.line())
}

/// The Kong version from which KIC programs a RequestRedirect with Kong's
/// `redirect` plugin; below it, with `request-termination` and a fixed
/// `Location` (`KongRedirectPluginCutoff`, compared in
/// `internal/manager/run.go` as `supportRedirectPlugin`). The plugin itself
/// first ships in Kong 3.9.0 (Kong/kong@3.9.0 `kong/plugins/redirect/`).
pub(crate) const REDIRECT_PLUGIN_SINCE: Fact<Version> = Fact {
    value: Version::new(3, 9, 0),
    source: kic(
        "v3.5.13",
        "internal/versions/versions.go (KongRedirectPluginCutoff)",
    ),
};

/// How KIC programs an HTTPRoute RequestRedirect on a Kong version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectTranslation {
    /// Kong < 3.9: `request-termination` with the status code, and a
    /// response-transformer `Location` built from the filter alone.
    RequestTermination,
    /// Kong ≥ 3.9: Kong's `redirect` plugin, which keeps the request's path
    /// and query unless the filter replaces the full path.
    RedirectPlugin,
}

pub fn redirect_translation(kong: Version) -> RedirectTranslation {
    if kong >= REDIRECT_PLUGIN_SINCE.value {
        RedirectTranslation::RedirectPlugin
    } else {
        RedirectTranslation::RequestTermination
    }
}

/// One Kong Gateway release line in Kong's version support policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KongSupport {
    pub line: (u64, u64),
    pub lts: bool,
    /// The end of full support ("eol" in Kong's data).
    pub ends: Date,
    /// The end of the sunset period that follows.
    pub sunset: Date,
}

/// Kong's support dates. Kong publishes them for Kong Gateway (Enterprise);
/// no separate dates exist for open-source Kong.
pub const KONG_SUPPORT_SOURCE: Source = kong_docs("app/_data/support/gateway.yml");

pub(crate) const KONG_SUPPORT: &[KongSupport] = &[
    KongSupport {
        line: (3, 4),
        lts: true,
        ends: date(2026, 8, 31),
        sunset: date(2027, 8, 31),
    },
    KongSupport {
        line: (3, 5),
        lts: false,
        ends: date(2024, 11, 8),
        sunset: date(2025, 11, 8),
    },
    KongSupport {
        line: (3, 6),
        lts: false,
        ends: date(2025, 2, 12),
        sunset: date(2026, 2, 12),
    },
    KongSupport {
        line: (3, 7),
        lts: false,
        ends: date(2025, 5, 28),
        sunset: date(2026, 5, 28),
    },
    KongSupport {
        line: (3, 8),
        lts: false,
        ends: date(2025, 9, 11),
        sunset: date(2026, 9, 11),
    },
    KongSupport {
        line: (3, 9),
        lts: false,
        ends: date(2025, 12, 12),
        sunset: date(2026, 12, 12),
    },
    KongSupport {
        line: (3, 10),
        lts: true,
        ends: date(2028, 3, 31),
        sunset: date(2029, 3, 31),
    },
    KongSupport {
        line: (3, 11),
        lts: false,
        ends: date(2026, 7, 3),
        sunset: date(2027, 7, 3),
    },
    KongSupport {
        line: (3, 12),
        lts: false,
        ends: date(2026, 10, 1),
        sunset: date(2027, 10, 1),
    },
    KongSupport {
        line: (3, 13),
        lts: false,
        ends: date(2026, 12, 18),
        sunset: date(2027, 12, 18),
    },
    KongSupport {
        line: (3, 14),
        lts: true,
        ends: date(2029, 4, 7),
        sunset: date(2030, 4, 7),
    },
    KongSupport {
        line: (3, 15),
        lts: false,
        ends: date(2027, 7, 2),
        sunset: date(2028, 7, 2),
    },
];

pub fn kong_support(version: Version) -> Option<&'static KongSupport> {
    KONG_SUPPORT.iter().find(|s| s.line == version.line())
}

/// The newest open-source Kong: no open-source tag follows it (Kong/kong
/// tags end at 3.9.3, and Kong's product data lists no `ce-version` after 3.9).
pub const NEWEST_OSS_KONG: Fact<Version> = Fact {
    value: Version::new(3, 9, 3),
    source: kong_docs("app/_data/products/gateway.yml (release 3.9, ce-version)"),
};

/// An image release that was withdrawn because what was published under its
/// tag was not the release.
#[derive(Debug, Clone, Copy)]
pub struct Withdrawn {
    /// The repository, without registry (`kong/kubernetes-ingress-controller`).
    pub repository: &'static str,
    pub tag: &'static str,
    pub advisory: &'static str,
    /// The first release that replaces it.
    pub fixed_in: &'static str,
    pub what: &'static str,
    pub source: Source,
}

pub(crate) const WITHDRAWN: &[Withdrawn] = &[Withdrawn {
    repository: "kong/kubernetes-ingress-controller",
    tag: "3.4.0",
    advisory: "GHSA-58mg-ww7q-xw3p",
    fixed_in: "3.4.1",
    what: "an unauthorized build carrying a cryptocurrency miner (XMRig) was published under this tag in December 2024; Kong removed the images",
    source: kic("v3.5.13", "CHANGELOG.md (3.4.0 and 3.4.1 notes)"),
}];

/// The withdrawn release an image reference names, if any: the repository
/// and the tag must both match, on any registry (a mirror serves the same
/// build under its own host).
pub fn withdrawn(image: &str) -> Option<&'static Withdrawn> {
    let (repository, tag) = super::split_image(image)?;
    WITHDRAWN.iter().find(|w| {
        let same_repository = repository == w.repository
            || repository
                .strip_suffix(w.repository)
                .is_some_and(|host| host.ends_with('/'));
        same_repository && w.tag == tag
    })
}

/// The Gateway API features KIC's only published conformance report for its
/// 3.x line claims beyond core (kubernetes-sigs/gateway-api
/// `conformance/reports/v1.2.1/kong-kubernetes-ingress-controller/`, KIC
/// v3.4.0, expressions router). No report exists for a later KIC release, so
/// gwlab claims no more for 3.5: a feature missing here is `unsupported`.
pub(crate) const CONFORMANCE_FEATURES: Fact<&[Feature]> = Fact {
    value: &[
        Feature::HTTPRouteHostRewrite,
        Feature::HTTPRouteMethodMatching,
        Feature::HTTPRoutePathRewrite,
        Feature::HTTPRouteQueryParamMatching,
        Feature::HTTPRouteResponseHeaderModification,
    ],
    source: Source {
        repo: "kubernetes-sigs/gateway-api",
        at: "4564255ac2c35d582249b3cdf261bdf51c8bca32",
        path: "conformance/reports/v1.2.1/kong-kubernetes-ingress-controller/experimental-v3.4.0-expressions-report.yaml",
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_are_ordered_and_each_fact_names_a_file() {
        assert!(KIC_LINES.windows(2).all(|w| w[0].line < w[1].line));
        for l in KIC_LINES {
            assert_eq!(l.newest.line(), l.line);
            for s in [
                l.kong_minimum.source,
                l.kong_compatible.source,
                l.kong_tested.source,
                l.gateway_api.source,
                l.gateway_api_built_against.source,
                l.kubernetes_tested.source,
                l.kong_crds.source,
                l.feature_gates.source,
                l.router_flavour.source,
                l.support_ends.source,
            ] {
                assert!(!s.repo.is_empty() && !s.at.is_empty() && s.path.contains('/'));
            }
            // The Kong KIC tests with is one its own table allows.
            assert!(l.kong_compatible.value.contains(l.kong_tested.value.line()));
            assert!(l.kong_tested.value >= l.kong_minimum.value);
        }
        assert!(KONG_SUPPORT.windows(2).all(|w| w[0].line < w[1].line));
    }

    #[test]
    fn gates_of_each_line() {
        let l34 = kic_line(Version::new(3, 4, 9)).unwrap();
        let l35 = kic_line(Version::new(3, 5, 0)).unwrap();
        assert!(
            l34.feature_gates
                .value
                .contains(&"CombinedServicesFromDifferentHTTPRoutes")
        );
        assert!(
            !l35.feature_gates
                .value
                .contains(&"CombinedServicesFromDifferentHTTPRoutes")
        );
        for l in [l34, l35] {
            assert!(!l.feature_gates.value.contains(&"Gateway"));
        }
        assert!(kic_line(Version::new(3, 6, 0)).is_none());
    }

    #[test]
    fn redirects_follow_the_kong_version() {
        assert_eq!(
            redirect_translation(Version::new(3, 8, 1)),
            RedirectTranslation::RequestTermination
        );
        assert_eq!(
            redirect_translation(Version::new(3, 9, 0)),
            RedirectTranslation::RedirectPlugin
        );
        assert_eq!(
            redirect_translation(Version::new(3, 10, 0)),
            RedirectTranslation::RedirectPlugin
        );
    }

    #[test]
    fn the_withdrawn_kic_image_is_found_on_any_registry_prefix() {
        for image in [
            "kong/kubernetes-ingress-controller:3.4.0",
            "docker.io/kong/kubernetes-ingress-controller:3.4.0",
            "docker.io/kong/kubernetes-ingress-controller:3.4.0@sha256:0123",
            "mirror.example.com:5000/kong/kubernetes-ingress-controller:3.4.0",
        ] {
            let w = withdrawn(image).unwrap_or_else(|| panic!("{image}"));
            assert_eq!(w.advisory, "GHSA-58mg-ww7q-xw3p");
        }
        for image in [
            "kong/kubernetes-ingress-controller:3.4.1",
            "kong/kubernetes-ingress-controller:3.4",
            "example.com/notkong/kubernetes-ingress-controller:3.4.0",
            "kong:3.4.0",
        ] {
            assert!(withdrawn(image).is_none(), "{image}");
        }
    }

    #[test]
    fn support_dates() {
        let k38 = kong_support(Version::new(3, 8, 0)).unwrap();
        assert_eq!(k38.ends, date(2025, 9, 11));
        assert!(kong_support(Version::new(3, 10, 0)).unwrap().lts);
        assert!(kong_support(Version::new(2, 8, 0)).is_none());
    }
}
