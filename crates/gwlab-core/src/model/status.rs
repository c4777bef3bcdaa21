//! Status as a Gateway API controller writes it: conditions with
//! observedGeneration, route parents, listeners.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub observed_generation: u64,
}

impl Condition {
    pub fn new(
        type_: &str,
        ok: bool,
        reason: &str,
        message: impl Into<String>,
        generation: u64,
    ) -> Self {
        Condition {
            type_: type_.into(),
            status: if ok { "True" } else { "False" }.into(),
            reason: reason.into(),
            message: message.into(),
            observed_generation: generation,
        }
    }

    /// `type_` True, with `type_` as its reason and no message, when `ok`;
    /// else False for `reason` and `message`.
    pub(crate) fn holds_or(
        type_: &str,
        ok: bool,
        reason: &str,
        message: impl Into<String>,
        generation: u64,
    ) -> Self {
        if ok {
            Condition::new(type_, true, type_, "", generation)
        } else {
            Condition::new(type_, false, reason, message, generation)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentStatus {
    /// `namespace/name` of the parent Gateway.
    pub parent: String,
    pub section_name: Option<String>,
    pub port: Option<u16>,
    pub controller_name: String,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerStatus {
    pub name: String,
    pub attached_routes: u32,
    pub supported_kinds: Vec<String>,
    pub conditions: Vec<Condition>,
}

/// The status of one object, whatever its kind; unused parts stay empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub generation: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<ParentStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_features: Vec<String>,
}

pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_that_holds_has_its_type_as_reason_and_no_message() {
        let c = Condition::holds_or("Programmed", true, "Invalid", "broken", 4);
        assert_eq!(c, Condition::new("Programmed", true, "Programmed", "", 4));
        let c = Condition::holds_or("Programmed", false, "Invalid", "broken", 4);
        assert_eq!(
            c,
            Condition::new("Programmed", false, "Invalid", "broken", 4)
        );
    }
}
