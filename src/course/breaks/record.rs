//! The record of a break that the broken object itself carries.

use super::*;

/// The annotation on each object a break changes: the break's record (which
/// exercise, which fault, each field's value before), written by the same
/// patch that puts the fault in and removed by the one that puts it back, so
/// that the record cannot be lost or taken for the object's own state.
pub const BREAK_ANNOTATION: &str = "gwlab.dev/lab-break";

/// What [`BREAK_ANNOTATION`] holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakRecord {
    pub exercise: String,
    pub fault: Fault,
    pub fields: Vec<FieldRecord>,
}

/// One field of a [`BreakRecord`]: its value before the break (`None`:
/// absent) and the value the break set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldRecord {
    #[serde(flatten)]
    pub field: Field,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    pub after: Value,
}

/// The break record an object carries, if any.
pub(super) fn record_on(obj: &Value, o: &LabObject) -> Result<Option<BreakRecord>, BreakError> {
    let Some(text) = obj["metadata"]["annotations"].get(BREAK_ANNOTATION) else {
        return Ok(None);
    };
    let text = text.as_str().unwrap_or_default();
    serde_json::from_str(text)
        .map(Some)
        .map_err(|source| BreakError::BadRecord {
            object: o.display(),
            source,
        })
}

pub(super) fn uid_of(obj: &Value, o: &LabObject) -> Result<String, BreakError> {
    obj["metadata"]["uid"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| BreakError::NoUid {
            object: o.display(),
        })
}
