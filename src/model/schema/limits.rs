//! The service's complexity limits on structured output, per request:
//! Anthropic's documented [limits](https://platform.claude.com/docs/en/build-with-claude/structured-outputs#schema-complexity-limits),
//! which Bedrock's 400s quote ("Schemas contains too many parameters with
//! union types (… limit: 16 …)").

use serde_json::{Map, Value};

use crate::error::Error;
use crate::model::{ConverseRequest, Response, ToolEntry};

/// At most this many strict tools (`strict: true`) per request.
pub const MAX_STRICT_TOOLS: usize = 20;
/// At most this many optional parameters (properties left out of
/// `required`) over all the schemas of a request.
pub const MAX_OPTIONAL_PARAMETERS: usize = 24;
/// At most this many union-typed parameters (a `type` list such as
/// `["string", "null"]`, or an `anyOf`; `Option<T>` is one) over all the
/// schemas of a request.
pub const MAX_UNION_PARAMETERS: usize = 16;

/// How much of the per-request budget a schema uses: [`complexity`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Complexity {
    /// Schemas with a `type` list, or an `anyOf`.
    pub union_parameters: usize,
    /// Properties not listed in their object's `required`.
    pub optional_parameters: usize,
}

impl std::ops::Add for Complexity {
    type Output = Complexity;
    fn add(self, other: Complexity) -> Complexity {
        Complexity {
            union_parameters: self.union_parameters + other.union_parameters,
            optional_parameters: self.optional_parameters + other.optional_parameters,
        }
    }
}

/// Counts `schema`'s union-typed and optional parameters, everywhere in it
/// (`$defs` included, each once however often it is referenced).
///
/// ```
/// use bedrock_converse::model::schema::complexity;
/// use serde_json::json;
///
/// let c = complexity(&json!({"type": "object", "required": ["a"], "properties": {
///     "a": {"type": ["string", "null"]}, "b": {"type": "integer"}}}));
/// assert_eq!((c.union_parameters, c.optional_parameters), (1, 1));
/// ```
pub fn complexity(schema: &Value) -> Complexity {
    let mut c = Complexity::default();
    count(schema, &mut c);
    c
}

fn count(node: &Value, c: &mut Complexity) {
    let Value::Object(obj) = node else { return };
    if obj.get("type").is_some_and(Value::is_array) || obj.contains_key("anyOf") {
        c.union_parameters += 1;
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        let required = required(obj);
        c.optional_parameters += props.keys().filter(|k| !required.contains(k)).count();
    }
    for (key, child) in obj {
        match (key.as_str(), child) {
            ("items" | "prefixItems" | "anyOf" | "allOf", Value::Array(list)) => {
                list.iter().for_each(|s| count(s, c))
            }
            ("items", item) => count(item, c),
            ("properties" | "$defs" | "definitions", Value::Object(map)) => {
                map.values().for_each(|s| count(s, c))
            }
            _ => {}
        }
    }
}

fn required(obj: &Map<String, Value>) -> Vec<&String> {
    obj.get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| match v {
            Value::String(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// Past [`MAX_UNION_PARAMETERS`], turns nullable properties that [`fit`](super::fit)
/// made required back into optional, non-nullable ones, in order, while
/// that lowers the count and stays within [`MAX_OPTIONAL_PARAMETERS`].
pub(super) fn stay_within(schema: &mut Value, made_required: &[(String, String)]) {
    let mut c = complexity(schema);
    for (at, name) in made_required {
        if c.union_parameters <= MAX_UNION_PARAMETERS
            || c.optional_parameters >= MAX_OPTIONAL_PARAMETERS
        {
            return;
        }
        if let Some(Value::Object(obj)) = schema.pointer_mut(at) {
            if make_optional(obj, name) {
                c = complexity(schema);
            }
        }
    }
}

/// Drops `null` from property `name`'s schema and `name` from `required`,
/// if that leaves no union; says whether it did.
fn make_optional(obj: &mut Map<String, Value>, name: &str) -> bool {
    let Some(Value::Object(prop)) = obj.get_mut("properties").and_then(|p| p.get_mut(name)) else {
        return false;
    };
    let is_null = |v: &Value| v == "null" || v.get("type").is_some_and(|t| t == "null");
    if let Some(Value::Array(types)) = prop.get("type") {
        let rest: Vec<Value> = types.iter().filter(|t| !is_null(t)).cloned().collect();
        let [only] = rest.as_slice() else {
            return false;
        };
        prop.insert("type".into(), only.clone());
    } else if let Some(Value::Array(any)) = prop.get("anyOf") {
        let rest: Vec<&Value> = any.iter().filter(|s| !is_null(s)).collect();
        let [Value::Object(only)] = rest.as_slice() else {
            return false;
        };
        if only.keys().any(|k| prop.contains_key(k) && k != "anyOf") {
            return false;
        }
        let only = only.clone();
        prop.remove("anyOf");
        prop.extend(only);
    } else {
        return false;
    }
    if prop.get("default").is_some_and(Value::is_null) {
        prop.remove("default");
    }
    if let Some(Value::Array(list)) = obj.get_mut("required") {
        list.retain(|v| v != name);
    }
    true
}

impl ConverseRequest {
    /// Refuses a request past the service's per-request complexity limits,
    /// counted over the schemas as sent (the output schema and every strict
    /// tool's). A schema that does not fit is left to the other checks.
    pub(crate) fn check_schema_limits(&self) -> Result<(), Error> {
        let mut schemas = Vec::new();
        if let Some(format) = self
            .output_config
            .as_ref()
            .and_then(|c| c.text_format.as_ref())
        {
            if let Ok(s) = format.fitted() {
                schemas.push(("output_config.text_format.schema".to_owned(), s));
            }
        }
        let mut strict = 0;
        let entries = self.tool_config.iter().flat_map(|c| c.entries.iter());
        for (i, entry) in entries.enumerate() {
            let ToolEntry::Tool(tool) = entry else {
                continue;
            };
            if tool.strict != Some(true) {
                continue;
            }
            strict += 1;
            let field = format!("tool_config.tools[{i}]");
            if strict > MAX_STRICT_TOOLS {
                return Err(Error::invalid(
                    field,
                    format!("is strict tool number {strict}: the service takes at most {MAX_STRICT_TOOLS} strict tools per request"),
                ));
            }
            if let Ok(s) = tool.strict_schema(&field) {
                schemas.push((format!("{field}.input_schema"), s));
            }
        }
        let mut total = Complexity::default();
        for (field, schema) in schemas {
            total = total + complexity(&schema);
            if total.union_parameters > MAX_UNION_PARAMETERS {
                return Err(Error::invalid(
                    field,
                    format!(
                        "brings the request's union-typed parameters (type lists or anyOf, Option<T> included) to {}: the service takes at most {MAX_UNION_PARAMETERS}",
                        total.union_parameters
                    ),
                ));
            }
            if total.optional_parameters > MAX_OPTIONAL_PARAMETERS {
                return Err(Error::invalid(
                    field,
                    format!(
                        "brings the request's optional parameters (properties not in `required`) to {}: the service takes at most {MAX_OPTIONAL_PARAMETERS}",
                        total.optional_parameters
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl ConverseRequest {
    /// A reply whose tool calls break the input schema of a tool that asked
    /// for a check (`Tool::validate_input`, `schema` feature) becomes
    /// [`Error::InvalidToolInput`](Error::InvalidToolInput).
    pub(crate) fn checked_reply(&self, result: Result<Response, Error>) -> Result<Response, Error> {
        #[cfg(feature = "schema")]
        return result.and_then(|r| self.check_tool_inputs(r));
        #[cfg(not(feature = "schema"))]
        result
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
