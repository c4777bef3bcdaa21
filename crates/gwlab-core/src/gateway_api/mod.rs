//! The Gateway API releases gwlab knows, v1.2.1 to v1.6.1 (standard
//! channel), and what each added to the objects gwlab reads. A scenario says
//! which release its manifests are written for (`gatewayAPI:`, v1.2.1 when
//! it does not); a field or value from a later release is bad input that
//! names the release that has it.
//!
//! What each release added was read from its standard-channel CRDs
//! (kubernetes-sigs/gateway-api, `config/crd/standard/` at tags v1.2.1,
//! v1.3.0, v1.4.1, v1.5.1 and v1.6.1) and its feature names from
//! `pkg/features/httproute.go` at the same tags.

mod newer;

use std::fmt;
use std::str::FromStr;

pub use newer::{Newer, newer_than};

/// A Gateway API release, standard channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Release {
    /// The release gwlab was first written for, and every scenario's
    /// unless it says otherwise.
    #[default]
    V1_2_1,
    V1_3_0,
    V1_4_1,
    V1_5_1,
    V1_6_1,
}

impl Release {
    /// Every release gwlab knows, oldest first.
    pub const ALL: [Release; 5] = [
        Release::V1_2_1,
        Release::V1_3_0,
        Release::V1_4_1,
        Release::V1_5_1,
        Release::V1_6_1,
    ];

    /// As the release is tagged: `v1.5.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Release::V1_2_1 => "v1.2.1",
            Release::V1_3_0 => "v1.3.0",
            Release::V1_4_1 => "v1.4.1",
            Release::V1_5_1 => "v1.5.1",
            Release::V1_6_1 => "v1.6.1",
        }
    }

    /// Its minor version, `1.5`: a cluster's CRDs of v1.5.0 serve what
    /// v1.5.1's do.
    pub fn minor(self) -> (u32, u32) {
        match self {
            Release::V1_2_1 => (1, 2),
            Release::V1_3_0 => (1, 3),
            Release::V1_4_1 => (1, 4),
            Release::V1_5_1 => (1, 5),
            Release::V1_6_1 => (1, 6),
        }
    }

    /// The release of a CRD's `gateway.networking.k8s.io/bundle-version`
    /// annotation (`v1.5.0`, `v1.5.1`, `v1.6.0-rc.1`...): the newest known
    /// release of its minor version, or, for a minor version gwlab does not
    /// know, the newest release older than it (`None` below v1.2).
    pub fn of_bundle(version: &str) -> Option<Release> {
        let minor = bundle_minor(version)?;
        Release::ALL
            .iter()
            .rev()
            .copied()
            .find(|r| r.minor() <= minor)
    }

    /// The release gwlab knows of exactly the bundle's minor version
    /// (`None` for v1.1 or v1.7).
    pub fn of_bundle_minor(version: &str) -> Option<Release> {
        let minor = bundle_minor(version)?;
        Release::ALL.iter().copied().find(|r| r.minor() == minor)
    }
}

/// `(1, 5)` of a bundle version written `v1.5.0`, `v1.6.0-rc.1`...
fn bundle_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.strip_prefix('v')?.split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A release gwlab does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Gateway API release gwlab knows ({known})", known = known())]
pub struct UnknownRelease(pub String);

fn known() -> String {
    Release::ALL.map(Release::as_str).join(", ")
}

impl FromStr for Release {
    type Err = UnknownRelease;

    fn from_str(s: &str) -> Result<Release, UnknownRelease> {
        Release::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRelease(s.to_string()))
    }
}

impl<'de> serde::Deserialize<'de> for Release {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Release, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_read_and_order_as_tagged() {
        assert_eq!("v1.5.1".parse::<Release>(), Ok(Release::V1_5_1));
        assert!(Release::V1_2_1 < Release::V1_3_0 && Release::V1_5_1 < Release::V1_6_1);
        let e = "v1.5.0".parse::<Release>().unwrap_err().to_string();
        assert_eq!(
            e,
            "`v1.5.0` is not a Gateway API release gwlab knows (v1.2.1, v1.3.0, v1.4.1, v1.5.1, v1.6.1)"
        );
        assert_eq!(Release::default(), Release::V1_2_1);
    }

    #[test]
    fn a_bundle_version_reads_as_the_release_of_its_minor_version() {
        assert_eq!(Release::of_bundle("v1.5.0"), Some(Release::V1_5_1));
        assert_eq!(Release::of_bundle("v1.6.0-rc.1"), Some(Release::V1_6_1));
        assert_eq!(Release::of_bundle("v1.2.1"), Some(Release::V1_2_1));
        // A newer minor than gwlab knows serves at least what v1.6.1 does.
        assert_eq!(Release::of_bundle("v1.7.0"), Some(Release::V1_6_1));
        assert_eq!(Release::of_bundle("v1.1.0"), None);
        assert_eq!(Release::of_bundle("dev"), None);
        assert_eq!(Release::of_bundle_minor("v1.5.0"), Some(Release::V1_5_1));
        assert_eq!(Release::of_bundle_minor("v1.7.0"), None);
    }
}
