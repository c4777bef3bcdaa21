//! Durations as reports write them: seconds, as a number rounded to the
//! millisecond (`0.051`), never a structure of seconds and nanoseconds.

use std::time::Duration;

pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(rounded(*d))
}

/// `d` in seconds as reports write it, so that what is drawn from a run
/// just finished and from its JSON read back is the same.
pub(crate) fn rounded(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Reads what [`serialize`] wrote back, for saved reports; a negative or
/// non-finite number is refused rather than read as some other time.
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let secs = <f64 as serde::Deserialize>::deserialize(d)?;
    Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
}
