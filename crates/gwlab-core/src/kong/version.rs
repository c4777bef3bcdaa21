//! Versions as Kong and its ingress controller write them in image tags:
//! `3.9.3`, `v3.5.13`, `3.10.0.9` (Kong Gateway Enterprise adds a fourth
//! number, which no compatibility rule looks at: KIC itself compares only
//! major, minor and patch, Kong/kubernetes-ingress-controller@v3.5.13
//! `internal/manager/run.go`, `semver.Version{Major: v.Major(), Minor:
//! v.Minor(), Patch: v.Patch()}`).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// A tag's version: an optional `v`, then two to four dot-separated
    /// numbers, then anything after a `-` (a build suffix such as `-ubuntu`)
    /// ignored. `None` for a tag that names no version (`latest`, `3.9-rc`
    /// parses as 3.9.0 only when the part before `-` does).
    pub fn parse(tag: &str) -> Option<Version> {
        let core = tag.strip_prefix('v').unwrap_or(tag);
        let core = core.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let mut number = || -> Option<Option<u64>> {
            match parts.next() {
                None => Some(None),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().ok().map(Some)
                }
                Some(_) => None,
            }
        };
        let major = number()??;
        let minor = number()??;
        let patch = number()?.unwrap_or(0);
        // A fourth number (Enterprise builds) is allowed; a fifth is not a version.
        number()?;
        match parts.next() {
            None => Some(Version::new(major, minor, patch)),
            Some(_) => None,
        }
    }

    /// The release line: `3.9` of `3.9.3`.
    pub fn line(self) -> (u64, u64) {
        (self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_as_kong_and_kic_write_them() {
        assert_eq!(Version::parse("3.9.3"), Some(Version::new(3, 9, 3)));
        assert_eq!(Version::parse("v3.5.13"), Some(Version::new(3, 5, 13)));
        assert_eq!(Version::parse("3.10.0.9"), Some(Version::new(3, 10, 0)));
        assert_eq!(Version::parse("3.9"), Some(Version::new(3, 9, 0)));
        assert_eq!(Version::parse("3.9.3-ubuntu"), Some(Version::new(3, 9, 3)));
        for not_a_version in ["latest", "3", "3.x", "", "v", "1.2.3.4.5", "3..1"] {
            assert_eq!(Version::parse(not_a_version), None, "{not_a_version}");
        }
        assert!(Version::new(3, 10, 0) > Version::new(3, 9, 3));
        assert_eq!(Version::new(3, 9, 3).line(), (3, 9));
        assert_eq!(Version::new(3, 4, 1).to_string(), "3.4.1");
    }
}
