//! Durations as reports write them: seconds, as a number rounded to the
//! millisecond (`0.051`), never a structure of seconds and nanoseconds.

use std::time::Duration;

pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}
