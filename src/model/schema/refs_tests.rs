//! `$ref`s: a recursive schema is refused wherever its cycle closes.

use serde_json::json;

use super::super::{fit, SchemaError};

fn refused(schema: serde_json::Value) -> SchemaError {
    fit(schema).expect_err("should be refused")
}

#[test]
fn a_definition_that_refers_to_itself_is_recursive() {
    let e = refused(
        json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}},
        "$defs": {"A": {"$ref": "#/$defs/A"}}}),
    );
    assert_eq!(
        (e.path.as_str(), e.reason.as_str()),
        ("/$defs/A/$ref", "recursive schemas are not supported")
    );
}

#[test]
fn a_cycle_is_found_after_definitions_that_have_none() {
    // A refers to C, which refers to nothing; B refers to itself.
    let e = refused(json!({"type": "object", "properties": {
            "a": {"$ref": "#/$defs/A"}, "b": {"$ref": "#/$defs/B"}},
        "$defs": {"A": {"$ref": "#/$defs/C"}, "C": {"type": "string"},
            "B": {"type": "object", "properties": {"next": {"$ref": "#/$defs/B"}}}}}));
    assert_eq!(e.path, "/$defs/B/properties/next/$ref");
    // The same definition referred to twice, or through another, is no cycle.
    assert!(fit(json!({"type": "object", "properties": {
            "a": {"$ref": "#/$defs/A"}, "c": {"$ref": "#/$defs/C"}, "d": {"$ref": "#/$defs/C"}},
        "$defs": {"A": {"$ref": "#/$defs/C"}, "C": {"type": "string"}}}))
    .is_ok());
}
