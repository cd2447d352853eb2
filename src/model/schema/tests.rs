use super::*;
use serde_json::json;

fn refused(schema: Value) -> SchemaError {
    fit_with(schema, Unsupported::Refuse).expect_err("should be refused")
}

/// One test per keyword refused under [`Unsupported::Refuse`]:
/// `{"properties": {"p": <sub>}}` fails at `/properties/p/<at>`.
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
    fn a_written_range_is_described_or_refused() {
        let sent = schema_for::<Ranged>().unwrap();
        assert_eq!(
            sent["properties"]["stars"],
            json!({"type": "integer", "description": "Must be at least 1 and at most 5."})
        );
        let original = original_schema_for::<Ranged>();
        assert_eq!(original["properties"]["stars"]["maximum"], 5);
        let e = schema_for_with::<Ranged>(Unsupported::Refuse).unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.keyword.as_str()),
            ("/properties/stars/minimum", "minimum")
        );
    }
}

/// One test per described keyword: `{"properties": {"p": <sub>}}` is sent
/// as `<sent>`, and refused nowhere.
macro_rules! describes {
    ($($name:ident: $sub:tt => $sent:tt;)*) => {$(
        #[test]
        fn $name() {
            let fitted = fit(json!({"type": "object", "properties": {"p": $sub}})).unwrap();
            assert_eq!(fitted["properties"]["p"], json!($sent));
        }
    )*};
}

describes! {
    describes_range: {"type": "integer", "minimum": 1, "maximum": 10}
        => {"type": "integer", "description": "Must be at least 1 and at most 10."};
    describes_exclusive_and_multiple: {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5, "multipleOf": 0.5}
        => {"type": "number", "description": "Must be greater than 0 and less than 1.5 and a multiple of 0.5."};
    describes_lengths: {"type": "string", "minLength": 1, "maxLength": 20}
        => {"type": "string", "description": "Must be at least 1 and at most 20 characters long."};
    describes_one_character: {"type": "string", "maxLength": 1}
        => {"type": "string", "description": "Must be at most 1 character long."};
    describes_items_and_lowers_min_items: {"type": "array", "minItems": 2, "maxItems": 5, "uniqueItems": true}
        => {"type": "array", "minItems": 1, "description": "Must have at least 2 and at most 5 items. Items must be unique."};
    describes_max_items_alone: {"type": "array", "maxItems": 1}
        => {"type": "array", "description": "Must have at most 1 item."};
    keeps_min_items_one_and_drops_unique_false: {"type": "array", "minItems": 1, "uniqueItems": false}
        => {"type": "array", "minItems": 1};
    describes_a_format: {"type": "string", "format": "ipv5"}
        => {"type": "string", "description": "Must be in the `ipv5` format."};
    keeps_a_supported_format: {"type": "string", "format": "date"} => {"type": "string", "format": "date"};
    describes_a_pattern: {"type": "string", "pattern": "(a)\\1"}
        => {"type": "string", "description": "Must match the regular expression `(a)\\1`."};
    keeps_a_simple_pattern: {"type": "string", "pattern": "^[a-z]+$"} => {"type": "string", "pattern": "^[a-z]+$"};
    appends_to_a_description: {"type": "integer", "description": "Stars.", "minimum": 1}
        => {"type": "integer", "description": "Stars.\n\nMust be at least 1."};
}

#[test]
fn structural_keywords_are_refused_even_when_describing() {
    for (sub, kw) in [
        (
            json!({"type": "object", "additionalProperties": true}),
            "additionalProperties",
        ),
        (json!({"oneOf": [{"type": "string"}]}), "oneOf"),
        (
            json!({"type": "array", "contains": {"type": "string"}}),
            "contains",
        ),
        (json!({"not": {}}), "not"),
    ] {
        let e = fit(json!({"type": "object", "properties": {"p": sub}})).unwrap_err();
        assert_eq!(e.keyword, kw);
    }
}

#[test]
fn described_schemas_are_idempotent() {
    let once = fit(json!({"type": "object", "properties": {
        "p": {"type": "array", "minItems": 3, "description": "Tags", "items": {"type": "string", "maxLength": 4}}}}))
    .unwrap();
    assert_eq!(fit(once.clone()).unwrap(), once);
}

/// `n` optional fields: `{"type": ["string", "null"]}`, none required.
fn optionals(n: usize) -> Value {
    let props: Map<String, Value> = (0..n)
        .map(|i| (format!("f{i:02}"), json!({"type": ["string", "null"]})))
        .collect();
    json!({"type": "object", "properties": props})
}

#[test]
fn nullable_properties_stay_required_within_the_union_limit() {
    let fitted = fit(optionals(16)).unwrap();
    let c = complexity(&fitted);
    assert_eq!((c.union_parameters, c.optional_parameters), (16, 0));
    assert_eq!(fitted["required"].as_array().unwrap().len(), 16);
}

#[test]
fn past_the_union_limit_nullable_properties_become_optional_in_order() {
    let fitted = fit(optionals(17)).unwrap();
    let c = complexity(&fitted);
    assert_eq!((c.union_parameters, c.optional_parameters), (16, 1));
    assert_eq!(fitted["properties"]["f00"], json!({"type": "string"}));
    assert_eq!(
        fitted["properties"]["f16"],
        json!({"type": ["string", "null"]})
    );
    assert!(!fitted["required"]
        .as_array()
        .unwrap()
        .contains(&json!("f00")));
    assert_eq!(fit(fitted.clone()).unwrap(), fitted, "idempotent");
    // 40 fields: 24 optional at most, so 16 unions cannot be reached.
    let c = complexity(&fit(optionals(41)).unwrap());
    assert_eq!((c.union_parameters, c.optional_parameters), (17, 24));
}

#[test]
fn an_any_of_with_null_becomes_its_other_branch() {
    let mut schema = optionals(16);
    schema["properties"]["a"] = json!({"description": "A.", "default": null,
        "anyOf": [{"$ref": "#/$defs/In"}, {"type": "null"}]});
    schema["$defs"] = json!({"In": {"type": "object", "properties": {}}});
    let fitted = fit(schema).unwrap();
    assert_eq!(
        fitted["properties"]["a"],
        json!({"description": "A.", "$ref": "#/$defs/In"})
    );
    // A union that dropping null does not end is left alone; the next one goes.
    let mut schema = optionals(16);
    schema["properties"]["a"] = json!({"type": ["string", "integer", "null"]});
    let fitted = fit(schema).unwrap();
    assert_eq!(
        fitted["properties"]["a"],
        json!({"type": ["string", "integer", "null"]})
    );
    assert_eq!(fitted["properties"]["f00"], json!({"type": "string"}));
    let c = complexity(&fitted);
    assert_eq!((c.union_parameters, c.optional_parameters), (16, 1));
}

#[test]
fn complexity_counts_everywhere_once() {
    let c = complexity(
        &json!({"anyOf": [{"type": "object", "properties": {"a": {}}}, {"type": "null"}],
        "$defs": {"X": {"type": ["integer", "string"], "items": {"properties": {"b": {}, "c": {}}, "required": ["b"]}}}}),
    );
    assert_eq!((c.union_parameters, c.optional_parameters), (2, 2));
}

#[cfg(feature = "schema")]
#[test]
fn the_check_names_pointer_and_keyword() {
    let check = SchemaCheck::new(&json!({"type": "object", "required": ["r"], "properties": {
        "r": {"type": "integer", "maximum": 10}, "s": {"type": "string", "minLength": 2},
        "d": {"type": "string", "format": "date"}}}))
    .unwrap();
    assert_eq!(
        check.check(&json!({"r": 3, "s": "ab", "d": "2026-12-04"})),
        Ok(())
    );
    assert_eq!(
        check.check(&json!({"r": 12})).unwrap_err(),
        "/r: 12 is greater than the maximum of 10"
    );
    let e = check
        .check(&json!({"r": 1, "s": "a", "d": "soon"}))
        .unwrap_err();
    assert!(e.contains("/s: ") && e.contains("(minLength)"), "{e}");
    assert!(e.contains("/d: ") && e.contains("format"), "{e}");
    assert!(check.check(&json!({})).unwrap_err().starts_with("(root): "));
    assert!(SchemaCheck::new(&json!({"type": 3})).is_err());
}

#[cfg(feature = "schema")]
mod tool_inputs {
    use super::*;
    use crate::model::{ConverseRequest, Message, Response, Tool};
    use crate::sdk::json::json_to_document;
    use crate::Error;
    use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, ToolUseBlock};

    fn calling(name: &str, input: Value) -> Response {
        let block = ToolUseBlock::builder()
            .tool_use_id("tu-1")
            .name(name)
            .input(json_to_document(&input))
            .build()
            .unwrap();
        Response {
            message: Message::new(
                ConversationRole::Assistant,
                vec![ContentBlock::ToolUse(block)],
            ),
            ..Response::default()
        }
    }

    fn digit() -> Tool {
        Tool::new(
            "pick",
            "Picks a digit.",
            json!({"type": "object",
            "properties": {"n": {"type": "integer", "maximum": 9}}}),
        )
    }

    #[test]
    fn only_tools_that_asked_are_checked_and_only_their_calls() {
        let checked = ConverseRequest::new("m")
            .user("hi")
            .tool(digit().validate_input(true));
        let bad = calling("pick", json!({"n": 12}));
        match checked.check_tool_inputs(bad.clone()) {
            Err(Error::InvalidToolInput {
                tool_use_id,
                name,
                input,
                reason,
                response,
            }) => {
                assert_eq!((tool_use_id.as_str(), name.as_str()), ("tu-1", "pick"));
                assert_eq!(input, r#"{"n":12}"#);
                assert!(
                    reason.ends_with("/n: 12 is greater than the maximum of 9"),
                    "{reason}"
                );
                assert_eq!(*response, bad);
            }
            other => panic!("expected InvalidToolInput, got {other:?}"),
        }
        let good = calling("pick", json!({"n": 7}));
        assert_eq!(checked.check_tool_inputs(good.clone()).unwrap(), good);
        // A call to another tool, or to a tool that did not ask, passes as it came.
        let other = calling("other", json!({"n": 12}));
        assert_eq!(checked.check_tool_inputs(other.clone()).unwrap(), other);
        let unchecked = ConverseRequest::new("m").user("hi").tool(digit());
        assert_eq!(unchecked.check_tool_inputs(bad.clone()).unwrap(), bad);
        assert!(checked.checked_reply(Ok(bad)).is_err());
        assert_eq!(digit().check_input(&json!({"n": 3})), Ok(()));
        assert!(digit().check_input(&json!({"n": 10})).is_err());
    }
}

#[test]
fn every_way_of_admitting_null_makes_a_property_required_and_only_those() {
    let fitted = fit(json!({"type": "object", "properties": {
        "null": {"type": "null"},
        "list": {"type": ["integer", "null"]},
        "const": {"const": null},
        "enum": {"enum": ["a", null]},
        "any": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "string": {"type": "string"},
        "union": {"type": ["string", "integer"]},
        "one": {"const": 1},
        "letters": {"enum": ["a", "b"]},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}))
    .unwrap();
    let mut required: Vec<&str> = fitted["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["any", "const", "enum", "list", "null"]);
}

#[test]
fn every_object_schema_is_closed_and_only_those() {
    let fitted = fit(
        json!({"type": "object", "required": ["a", "b", "c"], "properties": {
        "a": {"type": "object"},
        "b": {"type": ["object", "null"]},
        "c": {"type": ["string", "null"]}}}),
    )
    .unwrap();
    let closed = |t: Value| json!({"type": t, "additionalProperties": false});
    assert_eq!(fitted["properties"]["a"], closed(json!("object")));
    assert_eq!(fitted["properties"]["b"], closed(json!(["object", "null"])));
    assert_eq!(
        fitted["properties"]["c"],
        json!({"type": ["string", "null"]})
    );
}
