//! The service's checks on structured output, done independently of the
//! client: `outputConfig.textFormat` (a `json_schema` whose schema is a JSON
//! string) and strict tools' input schemas must stay within a subset of JSON
//! Schema, else the request is answered with a 400 `ValidationException`.

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

/// Checks a Converse/ConverseStream request body's structured-output
/// parts; `Err` holds the `ValidationException` message.
pub(crate) fn check(body: &Value) -> Result<(), String> {
    if let Some(format) = body.pointer("/outputConfig/textFormat") {
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
    }
    let tools = body.pointer("/toolConfig/tools").and_then(Value::as_array);
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        let Some(spec) = tool.get("toolSpec") else {
            continue;
        };
        if spec.get("strict") == Some(&Value::Bool(true)) {
            let schema = spec.pointer("/inputSchema/json").unwrap_or(&Value::Null);
            subset(schema, "").map_err(|e| {
                format!("toolConfig.tools.{i}: the strict input schema is not supported: {e}")
            })?;
        }
    }
    Ok(())
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
}
