//! The service's checks on structured output, done independently of the
//! client: `outputConfig.textFormat` (a `json_schema` whose schema is a JSON
//! string) and strict tools' input schemas must stay within a subset of JSON
//! Schema, and within per-request complexity limits, else the request is
//! answered with a 400 `ValidationException`.
//!
//! Sources: Bedrock's [structured output](https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html)
//! page, and Anthropic's [JSON Schema limitations](https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations)
//! it points to for Claude: numeric bounds, string lengths, `maxItems`,
//! `minItems` above 1, formats outside the listed ones, backreferences and
//! lookaround in `pattern`, external `$ref`s are not supported; objects need
//! `"additionalProperties": false`; at most 20 strict tools, 24 optional
//! parameters and 16 parameters with union types (type arrays or `anyOf`)
//! per request. The messages quote the service's ("Schemas contains too
//! many parameters with union types …").

use serde_json::Value;

/// Keywords refused wherever they appear in a schema.
const REFUSED: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
    "oneOf",
    "not",
];

/// The string formats the documentation lists as supported.
const FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Per request: strict tools, optional parameters, union-typed parameters.
const MAX_STRICT_TOOLS: usize = 20;
const MAX_OPTIONAL: usize = 24;
const MAX_UNION: usize = 16;

/// Checks a Converse/ConverseStream request body's structured-output
/// parts; `Err` holds the `ValidationException` message.
pub(crate) fn check(body: &Value) -> Result<(), String> {
    let output_schema = if let Some(format) = body.pointer("/outputConfig/textFormat") {
        if format.get("type").and_then(Value::as_str) != Some("json_schema") {
            return Err("outputConfig.textFormat.type must be json_schema".into());
        }
        let Some(text) = format
            .pointer("/structure/jsonSchema/schema")
            .and_then(Value::as_str)
        else {
            return Err(
                "outputConfig.textFormat.structure.jsonSchema.schema must be a string".into(),
            );
        };
        let schema: Value = serde_json::from_str(text).map_err(|e| {
            format!("outputConfig.textFormat.structure.jsonSchema.schema is not valid JSON: {e}")
        })?;
        subset(&schema, "").map_err(|e| format!("The output schema is not supported: {e}"))?;
        Some(schema)
    } else {
        None
    };
    let mut counts = Counts::default();
    if let Some(schema) = &output_schema {
        count(schema, &mut counts);
    }
    let tools = body.pointer("/toolConfig/tools").and_then(Value::as_array);
    let mut strict = 0;
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        let Some(spec) = tool.get("toolSpec") else {
            continue;
        };
        if spec.get("strict") == Some(&Value::Bool(true)) {
            strict += 1;
            let schema = spec.pointer("/inputSchema/json").unwrap_or(&Value::Null);
            subset(schema, "").map_err(|e| {
                format!("toolConfig.tools.{i}: the strict input schema is not supported: {e}")
            })?;
            count(schema, &mut counts);
        }
    }
    if strict > MAX_STRICT_TOOLS {
        return Err(format!(
            "Too many strict tools ({strict}). The maximum number of strict tools supported is {MAX_STRICT_TOOLS}."
        ));
    }
    if counts.unions > MAX_UNION {
        return Err(format!(
            "Schemas contains too many parameters with union types ({} parameters with type arrays or anyOf). \
             Schema is too complex for compilation (limit: {MAX_UNION} parameters with union types).",
            counts.unions
        ));
    }
    if counts.optional > MAX_OPTIONAL {
        return Err(format!(
            "Schemas contains too many optional parameters ({} optional parameters). \
             Schema is too complex for compilation (limit: {MAX_OPTIONAL} optional parameters).",
            counts.optional
        ));
    }
    Ok(())
}

/// Union-typed and optional parameters in the schemas of one request.
#[derive(Default)]
struct Counts {
    unions: usize,
    optional: usize,
}

/// Counts every node of `schema` with a type array or an `anyOf`, and
/// every property its object leaves out of `required`.
fn count(schema: &Value, counts: &mut Counts) {
    let Value::Object(node) = schema else { return };
    if node.get("type").is_some_and(Value::is_array) || node.contains_key("anyOf") {
        counts.unions += 1;
    }
    if let Some(Value::Object(props)) = node.get("properties") {
        let required = node.get("required").and_then(Value::as_array);
        counts.optional += props
            .keys()
            .filter(|k| !required.is_some_and(|r| r.iter().any(|v| v == *k)))
            .count();
    }
    for (key, value) in node {
        match (key.as_str(), value) {
            ("properties" | "$defs" | "definitions", Value::Object(map)) => {
                map.values().for_each(|s| count(s, counts))
            }
            ("anyOf" | "allOf" | "prefixItems", Value::Array(list)) => {
                list.iter().for_each(|s| count(s, counts))
            }
            ("items", items) => count(items, counts),
            _ => {}
        }
    }
}

/// The subset: no refused keyword, and every object closed with
/// `"additionalProperties": false`.
fn subset(schema: &Value, at: &str) -> Result<(), String> {
    match schema {
        Value::Bool(_) => return Ok(()),
        Value::Object(_) => {}
        _ => return Err(format!("{at}: a schema must be an object")),
    }
    if let Some(kw) = REFUSED.iter().find(|k| schema.get(**k).is_some()) {
        return Err(format!("{at}: keyword '{kw}' is not supported"));
    }
    if schema
        .get("minItems")
        .is_some_and(|n| n.as_u64().is_none_or(|n| n > 1))
    {
        return Err(format!(
            "{at}: 'minItems' values other than 0 or 1 are not supported"
        ));
    }
    if let Some(f) = schema.get("format") {
        if !f.as_str().is_some_and(|f| FORMATS.contains(&f)) {
            return Err(format!("{at}: format {f} is not supported"));
        }
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        let lookaround = ["(?=", "(?!", "(?<=", "(?<!"].iter().any(|s| p.contains(s));
        let backreference = p.split('\\').skip(1).any(|rest| {
            rest.starts_with(|c: char| c.is_ascii_digit() && c != '0') || rest.starts_with('k')
        });
        if lookaround || backreference {
            return Err(format!("{at}: pattern {p:?} uses unsupported regex features (backreferences or lookaround)"));
        }
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        if !r.starts_with('#') {
            return Err(format!("{at}: external $ref {r:?} is not supported"));
        }
    }
    let is_object = schema.get("properties").is_some()
        || match schema.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => false,
        };
    if is_object && schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        return Err(format!(
            "{at}: objects must set 'additionalProperties' to false"
        ));
    }
    for key in ["properties", "$defs", "definitions"] {
        if let Some(Value::Object(map)) = schema.get(key) {
            for (name, sub) in map {
                subset(sub, &format!("{at}/{key}/{name}"))?;
            }
        }
    }
    for key in ["anyOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(list)) = schema.get(key) {
            for (i, sub) in list.iter().enumerate() {
                subset(sub, &format!("{at}/{key}/{i}"))?;
            }
        }
    }
    if let Some(items) = schema.get("items") {
        subset(items, &format!("{at}/items"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_schema(schema: &str) -> Value {
        json!({"outputConfig": {"textFormat": {"type": "json_schema",
            "structure": {"jsonSchema": {"schema": schema}}}}})
    }

    #[test]
    fn schemas_are_checked_as_the_service_does() {
        let ok = r#"{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}"#;
        assert_eq!(check(&with_schema(ok)), Ok(()));
        assert!(check(&with_schema("{not json")).is_err());
        assert!(check(&with_schema(r#"{"type":"object"}"#)).is_err());
        let bounded = r#"{"type":"object","additionalProperties":false,"properties":{"a":{"type":"integer","minimum":1}}}"#;
        assert!(check(&with_schema(bounded))
            .unwrap_err()
            .contains("minimum"));
        let not_string = json!({"outputConfig": {"textFormat": {"type": "json_schema",
            "structure": {"jsonSchema": {"schema": {"type": "object"}}}}}});
        assert!(check(&not_string).is_err());
        assert_eq!(check(&json!({"messages": []})), Ok(()));
    }

    /// `{"type": "object", "properties": {"p": sub}}`, closed.
    fn one_property(sub: Value) -> String {
        json!({"type": "object", "additionalProperties": false, "properties": {"p": sub}})
            .to_string()
    }

    #[test]
    fn documented_limits_on_keywords() {
        for refused in [
            json!({"type": "array", "minItems": 2}),
            json!({"type": "string", "format": "ipv5"}),
            json!({"type": "string", "pattern": "(a)\\1"}),
            json!({"type": "string", "pattern": "^(?!x)"}),
            json!({"$ref": "https://example.com/s.json"}),
        ] {
            assert!(
                check(&with_schema(&one_property(refused.clone()))).is_err(),
                "{refused}"
            );
        }
        for kept in [
            json!({"type": "array", "minItems": 1}),
            json!({"type": "string", "format": "date-time"}),
            json!({"type": "string", "pattern": "^\\d+$"}),
        ] {
            assert_eq!(
                check(&with_schema(&one_property(kept.clone()))),
                Ok(()),
                "{kept}"
            );
        }
    }

    /// A closed object with `unions` nullable required properties and
    /// `optional` optional ones.
    fn shaped(unions: usize, optional: usize) -> Value {
        let mut props = serde_json::Map::new();
        let mut required = Vec::new();
        for i in 0..unions {
            props.insert(format!("u{i}"), json!({"type": ["string", "null"]}));
            required.push(json!(format!("u{i}")));
        }
        for i in 0..optional {
            props.insert(format!("o{i}"), json!({"type": "string"}));
        }
        json!({"type": "object", "additionalProperties": false, "properties": props, "required": required})
    }

    fn strict_tools(schemas: &[Value]) -> Value {
        let tools: Vec<Value> = schemas
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"toolSpec": {"name": format!("t{i}"), "strict": true, "inputSchema": {"json": s}}}))
            .collect();
        json!({"toolConfig": {"tools": tools}})
    }

    #[test]
    fn complexity_limits_per_request() {
        assert_eq!(check(&with_schema(&shaped(16, 24).to_string())), Ok(()));
        let unions = check(&with_schema(&shaped(17, 0).to_string())).unwrap_err();
        assert!(
            unions.contains("union types") && unions.contains("limit: 16"),
            "{unions}"
        );
        let optional = check(&with_schema(&shaped(0, 25).to_string())).unwrap_err();
        assert!(
            optional.contains("optional parameters") && optional.contains("limit: 24"),
            "{optional}"
        );
        // Summed over the output schema and every strict tool.
        let mut body = strict_tools(&[shaped(8, 12)]);
        body["outputConfig"] = with_schema(&shaped(9, 0).to_string())["outputConfig"].clone();
        assert!(check(&body).unwrap_err().contains("union types"));
        let small = shaped(0, 0);
        assert_eq!(check(&strict_tools(&vec![small.clone(); 20])), Ok(()));
        let many = check(&strict_tools(&vec![small; 21])).unwrap_err();
        assert!(
            many.contains("strict tools") && many.contains("20"),
            "{many}"
        );
    }
}
