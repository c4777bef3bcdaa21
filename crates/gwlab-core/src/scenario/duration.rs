//! Durations as scenarios write them: `500ms`, `30s`, `2m`, `1m30s`.

use serde::{Deserialize, Deserializer};

pub use crate::duration::{DurationError, parse};

/// A duration as written in a scenario, parsed later so that its problems are
/// reported with the field they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DurationText(pub String);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A bare number is read too, so that `30` gets "no unit" rather than a type error.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Text(String),
        }
        Ok(DurationText(match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        }))
    }
}
