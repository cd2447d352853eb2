use super::super::fit;
use super::*;
use crate::model::{Tool, ToolConfig};
use serde_json::json;

/// The field and reason of a request refused by the complexity limits.
fn refused(r: &ConverseRequest) -> (String, String) {
    match r.check_schema_limits() {
        Err(Error::InvalidRequest { field, reason }) => (field, reason),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

/// A strict tool whose schema, fitted, has `unions` union-typed
/// parameters and `optional` optional ones.
fn strict(name: &str, unions: usize, optional: usize) -> Tool {
    let mut props = Map::new();
    for i in 0..unions {
        props.insert(format!("u{i}"), json!({"type": ["string", "null"]}));
    }
    for i in 0..optional {
        props.insert(format!("o{i}"), json!({"type": "string"}));
    }
    Tool::new(name, "T.", json!({"type": "object", "properties": props})).strict(true)
}

fn request(tools: impl IntoIterator<Item = Tool>) -> ConverseRequest {
    let config = tools
        .into_iter()
        .fold(ToolConfig::new().cache_point(), |c, t| c.tool(t));
    ConverseRequest::new("m").user("hi").tool_config(config)
}

#[test]
fn at_most_20_strict_tools_and_the_others_are_not_counted() {
    let twenty = (0..20).map(|i| strict(&format!("s{i}"), 0, 0));
    let loose = Tool::new("loose", "L.", json!({"type": "object"}));
    let ok = request(twenty.clone().chain([loose.clone()]));
    assert!(ok.check_schema_limits().is_ok());
    // The 21st strict tool is refused, named by its place among all entries
    // (the cache point first, the tool that is not strict in between).
    let over = request(
        twenty
            .chain([loose, strict("s20", 0, 0)])
            .chain((21..25).map(|i| strict(&format!("s{i}"), 0, 0))),
    );
    let (field, reason) = refused(&over);
    assert_eq!(field, "tool_config.tools[22]");
    assert!(reason.starts_with("is strict tool number 21"), "{reason}");
}

#[test]
fn union_parameters_are_counted_over_every_strict_schema_up_to_16() {
    let ok = request([strict("a", 10, 0), strict("b", 6, 0)]);
    assert!(ok.check_schema_limits().is_ok());
    let over = request([strict("a", 10, 0), strict("b", 6, 0), strict("c", 1, 0)]);
    let (field, reason) = refused(&over);
    assert_eq!(field, "tool_config.tools[3].input_schema");
    assert!(reason.contains("union-typed parameters"), "{reason}");
    assert!(reason.contains("to 17:"), "{reason}");
    // Tools that are not strict send their schemas unfitted and uncounted.
    let loose = Tool::new("l", "L.", strict("l", 17, 0).input_schema);
    assert!(request([strict("a", 16, 0), loose])
        .check_schema_limits()
        .is_ok());
}

#[test]
fn optional_parameters_are_counted_over_every_strict_schema_up_to_24() {
    let ok = request([strict("a", 0, 12), strict("b", 0, 12)]);
    assert!(ok.check_schema_limits().is_ok());
    let over = request([strict("a", 0, 12), strict("b", 0, 13)]);
    let (field, reason) = refused(&over);
    assert_eq!(field, "tool_config.tools[2].input_schema");
    assert!(reason.contains("optional parameters"), "{reason}");
    assert!(reason.contains("to 25:"), "{reason}");
}

#[test]
fn the_output_schema_counts_first_with_the_strict_tools() {
    let output = strict("o", 10, 20).input_schema;
    let with_output = |tools: Vec<Tool>| request(tools).output_schema(output.clone());
    assert!(with_output(vec![strict("a", 6, 4)])
        .check_schema_limits()
        .is_ok());
    let (field, _) = refused(&with_output(vec![strict("a", 7, 0)]));
    assert_eq!(field, "tool_config.tools[1].input_schema");
    let (field, _) = refused(&with_output(vec![strict("a", 0, 5)]));
    assert_eq!(field, "tool_config.tools[1].input_schema");
    // Alone, past a limit, it is named itself (unions without `null`,
    // which fitting cannot make optional).
    let props: Map<String, Value> = (0..17)
        .map(|i| (format!("p{i}"), json!({"type": ["string", "integer"]})))
        .collect();
    let big = json!({"type": "object", "properties": props});
    let (field, _) = refused(&ConverseRequest::new("m").user("hi").output_schema(big));
    assert_eq!(field, "output_config.text_format.schema");
}

#[test]
fn complexities_add_field_by_field() {
    let a = complexity(&json!({"type": ["string", "null"], "properties": {"x": {}}}));
    let b = complexity(&json!({"anyOf": [{}], "properties": {"y": {}, "z": {}}}));
    assert_eq!((a.union_parameters, a.optional_parameters), (1, 1));
    assert_eq!((b.union_parameters, b.optional_parameters), (1, 2));
    let sum = a + b;
    assert_eq!((sum.union_parameters, sum.optional_parameters), (2, 3));
}

#[test]
fn a_nullable_any_of_whose_branch_repeats_one_of_its_keywords_stays_as_it_is() {
    // Past the union limit "a" would be made optional first, but its
    // branch has a description of its own: merged, one would be lost.
    let a = json!({"description": "A.",
        "anyOf": [{"type": "string", "description": "S."}, {"type": "null"}]});
    let mut props = Map::new();
    props.insert("a".into(), a.clone());
    for i in 0..16 {
        props.insert(format!("f{i:02}"), json!({"type": ["string", "null"]}));
    }
    let fitted = fit(json!({"type": "object", "properties": props})).unwrap();
    assert_eq!(fitted["properties"]["a"], a);
    assert_eq!(fitted["properties"]["f00"], json!({"type": "string"}));
    let c = complexity(&fitted);
    assert_eq!((c.union_parameters, c.optional_parameters), (16, 1));
}
