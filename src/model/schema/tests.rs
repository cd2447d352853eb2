use super::*;
use serde_json::json;

fn refused(schema: Value) -> SchemaError {
    fit(schema).expect_err("should be refused")
}

/// One test per refused keyword: `{"properties": {"p": <sub>}}` fails at `/properties/p/<at>`.
macro_rules! refuses {
    ($($name:ident: $sub:tt => $at:literal, $kw:literal;)*) => {$(
        #[test]
        fn $name() {
            let e = refused(json!({"type": "object", "properties": {"p": $sub}}));
            assert_eq!((e.path.as_str(), e.keyword.as_str()), (concat!("/properties/p/", $at), $kw), "{e}");
        }
    )*};
}

refuses! {
    minimum: {"type": "integer", "minimum": 1} => "minimum", "minimum";
    maximum: {"type": "number", "maximum": 5} => "maximum", "maximum";
    exclusive_minimum: {"type": "number", "exclusiveMinimum": 0} => "exclusiveMinimum", "exclusiveMinimum";
    exclusive_maximum: {"type": "number", "exclusiveMaximum": 9} => "exclusiveMaximum", "exclusiveMaximum";
    multiple_of: {"type": "integer", "multipleOf": 2} => "multipleOf", "multipleOf";
    min_length: {"type": "string", "minLength": 1} => "minLength", "minLength";
    max_length: {"type": "string", "maxLength": 9} => "maxLength", "maxLength";
    max_items: {"type": "array", "maxItems": 3} => "maxItems", "maxItems";
    min_items_2: {"type": "array", "minItems": 2} => "minItems", "minItems";
    unique_items: {"type": "array", "uniqueItems": true} => "uniqueItems", "uniqueItems";
    contains: {"type": "array", "contains": {"type": "string"}} => "contains", "contains";
    min_contains: {"type": "array", "minContains": 1} => "minContains", "minContains";
    max_contains: {"type": "array", "maxContains": 1} => "maxContains", "maxContains";
    min_properties: {"type": "object", "minProperties": 1} => "minProperties", "minProperties";
    max_properties: {"type": "object", "maxProperties": 1} => "maxProperties", "maxProperties";
    pattern_properties: {"type": "object", "patternProperties": {"^a": {}}} => "patternProperties", "patternProperties";
    property_names: {"type": "object", "propertyNames": {"type": "string"}} => "propertyNames", "propertyNames";
    dependent_required: {"type": "object", "dependentRequired": {}} => "dependentRequired", "dependentRequired";
    dependent_schemas: {"type": "object", "dependentSchemas": {}} => "dependentSchemas", "dependentSchemas";
    unevaluated_items: {"type": "array", "unevaluatedItems": false} => "unevaluatedItems", "unevaluatedItems";
    unevaluated_properties: {"type": "object", "unevaluatedProperties": false} => "unevaluatedProperties", "unevaluatedProperties";
    one_of: {"oneOf": [{"type": "string"}, {"type": "integer"}]} => "oneOf", "oneOf";
    not: {"not": {"type": "string"}} => "not", "not";
    if_then_else: {"if": {"type": "string"}, "then": {}} => "if", "if";
    then_alone: {"then": {}} => "then", "then";
    else_alone: {"else": {}} => "else", "else";
    dynamic_ref: {"$dynamicRef": "#x"} => "$dynamicRef", "$dynamicRef";
    additional_true: {"type": "object", "additionalProperties": true} => "additionalProperties", "additionalProperties";
    additional_schema: {"type": "object", "additionalProperties": {"type": "string"}} => "additionalProperties", "additionalProperties";
    format_unsupported: {"type": "string", "format": "ipv5"} => "format", "format";
    format_numeric: {"type": "integer", "format": "uint32"} => "format", "format";
    enum_object: {"enum": ["a", {"b": 1}]} => "enum/1", "enum";
    ref_external: {"$ref": "https://example.com/s.json"} => "$ref", "$ref";
    ref_dangling: {"$ref": "#/$defs/Nope"} => "$ref", "$ref";
    all_of_ref: {"allOf": [{"type": "object"}, {"$ref": "#"}]} => "allOf/1/$ref", "$ref";
    pattern_lookahead: {"type": "string", "pattern": "^(?=a)"} => "pattern", "pattern";
    pattern_backref: {"type": "string", "pattern": "(a)\\1"} => "pattern", "pattern";
    pattern_boundary: {"type": "string", "pattern": "\\bx"} => "pattern", "pattern";
}

#[test]
fn recursion_is_refused_at_the_ref_that_closes_the_cycle() {
    let e = refused(
        json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object",
        "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}}}),
    );
    assert_eq!(e.path, "/$defs/Node/properties/next/anyOf/0/$ref");
    let e = refused(json!({"type": "object", "properties": {"me": {"$ref": "#"}}}));
    assert_eq!(
        (e.path.as_str(), e.keyword.as_str()),
        ("/properties/me/$ref", "$ref")
    );
}

#[test]
fn walks_defs_definitions_items_and_escapes_pointers() {
    let e = refused(json!({"$defs": {"a/b": {"type": "string", "maxLength": 1}}}));
    assert_eq!(e.path, "/$defs/a~1b/maxLength");
    let e = refused(json!({"definitions": {"X": {"type": "array", "items": {"minimum": 1}}}}));
    assert_eq!(e.path, "/definitions/X/items/minimum");
    let e = refused(json!({"type": "array", "prefixItems": [true, {"maximum": 1}]}));
    assert_eq!(e.path, "/prefixItems/1/maximum");
    let e = refused(json!({"anyOf": [{"type": "null"}, {"type": "string", "format": "x"}]}));
    assert_eq!(e.path, "/anyOf/1/format");
    // a property *named* like a keyword is not that keyword
    assert!(fit(json!({"type": "object", "properties": {"minimum": {"type": "string"}}})).is_ok());
    assert!(refused(json!(3)).to_string().contains("not a JSON schema"));
}

#[test]
fn closes_objects_requires_nullables_and_is_idempotent() {
    let input = json!({"$defs": {"In": {"type": "object", "properties": {"x": {"type": "string"}}}},
        "type": "object", "required": ["a"], "properties": {
        "a": {"type": "string", "format": "date", "pattern": "^[a-z]+$"},
        "b": {"type": ["integer", "null"]},
        "c": {"anyOf": [{"$ref": "#/$defs/In"}, {"type": "null"}]},
        "d": {"type": "boolean", "default": false},
        "e": {"type": "array", "items": {"properties": {}}, "minItems": 1}}});
    let want = json!({"$defs": {"In": {"type": "object", "properties": {"x": {"type": "string"}},
        "additionalProperties": false}},
        "type": "object", "required": ["a", "b", "c"], "additionalProperties": false, "properties": {
        "a": {"type": "string", "format": "date", "pattern": "^[a-z]+$"},
        "b": {"type": ["integer", "null"]},
        "c": {"anyOf": [{"$ref": "#/$defs/In"}, {"type": "null"}]},
        "d": {"type": "boolean", "default": false},
        "e": {"type": "array", "items": {"properties": {}, "additionalProperties": false}, "minItems": 1}}});
    let once = fit(input).unwrap();
    assert_eq!(once, want);
    assert_eq!(fit(once.clone()).unwrap(), once);
}

#[cfg(feature = "schema")]
mod schemars_types {
    use super::*;
    use schemars::JsonSchema;
    use serde::Deserialize;

    /// A person.
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Person {
        name: String,
        age: u32,
        nickname: Option<String>,
        address: Address,
        tags: Vec<String>,
        mood: Mood,
    }
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Address {
        city: String,
        zip: Option<Address2>,
    }
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Address2 {
        code: i64,
    }
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Mood {
        Happy,
        Sad,
    }
    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    enum Shape {
        Point,
        Circle { r: f64 },
        Square(u8),
    }
    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Ranged {
        #[schemars(range(min = 1, max = 5))]
        stars: u8,
    }

    fn fitted_twice<T: JsonSchema>() -> Value {
        let once = schema_for::<T>().unwrap();
        assert_eq!(fit(once.clone()).unwrap(), once, "fit is idempotent");
        once
    }

    #[test]
    fn struct_with_nested_option_vec_enum_and_u32() {
        let want = json!({
            "title": "Person", "description": "A person.", "type": "object",
            "additionalProperties": false,
            "required": ["name", "age", "address", "tags", "mood", "nickname"],
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer"},
                "nickname": {"type": ["string", "null"]},
                "address": {"$ref": "#/$defs/Address"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "mood": {"$ref": "#/$defs/Mood"}},
            "$defs": {
                "Address": {"type": "object", "additionalProperties": false, "required": ["city", "zip"],
                    "properties": {"city": {"type": "string"},
                        "zip": {"anyOf": [{"$ref": "#/$defs/Address2"}, {"type": "null"}]}}},
                "Address2": {"type": "object", "additionalProperties": false, "required": ["code"],
                    "properties": {"code": {"type": "integer"}}},
                "Mood": {"type": "string", "enum": ["Happy", "Sad"]}}});
        assert_eq!(fitted_twice::<Person>(), want);
        // what the model must now write (nullable fields present as null) still deserializes
        let reply = json!({"name": "Ann", "age": 7, "nickname": null, "tags": [], "mood": "Sad",
            "address": {"city": "Oslo", "zip": null}});
        let person: Person = serde_json::from_value(reply).unwrap();
        assert!(person.nickname.is_none() && person.address.zip.is_none());
    }

    #[test]
    fn data_carrying_enum_becomes_any_of() {
        let want = json!({"title": "Shape", "anyOf": [
            {"type": "string", "enum": ["Point"]},
            {"type": "object", "additionalProperties": false, "required": ["Circle"], "properties": {
                "Circle": {"type": "object", "additionalProperties": false, "required": ["r"],
                    "properties": {"r": {"type": "number"}}}}},
            {"type": "object", "additionalProperties": false, "required": ["Square"],
                "properties": {"Square": {"type": "integer"}}}]});
        assert_eq!(fitted_twice::<Shape>(), want);
    }

    #[test]
    fn a_written_range_is_still_refused() {
        let e = schema_for::<Ranged>().unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.keyword.as_str()),
            ("/properties/stars/minimum", "minimum")
        );
    }
}
