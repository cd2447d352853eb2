//! JSON schemas made to fit Bedrock's structured-output subset, checked locally.
//!
//! Converse and ConverseStream take `outputConfig.textFormat` =
//! `{"type": "json_schema", "structure": {"jsonSchema": {"schema": "<schema as a
//! JSON string>", "name": …, "description": …}}}`
//! ([OutputConfig](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html),
//! [JsonSchemaDefinition](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_JsonSchemaDefinition.html));
//! a tool's `toolSpec.strict: true` constrains its input the same way. The
//! service compiles only a subset of JSON Schema into a grammar and answers
//! anything else with a 400 ([structured outputs](https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html);
//! Anthropic's [limits](https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations),
//! which Bedrock enforces for Claude, e.g. "For 'number' type, properties
//! maximum, minimum are not supported").
//!
//! [`fit`] makes a schema fit, as Anthropic's own SDKs do
//! ([how SDK transformation works](https://platform.claude.com/docs/en/build-with-claude/structured-outputs#how-sdk-transformation-works)):
//!
//! - **Described** (removed from the schema that is sent, and written into
//!   that schema's `description`, e.g. "Must be at least 1 and at most 10."):
//!   `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
//!   `multipleOf`, `minLength`, `maxLength`, `maxItems`, `minItems` above 1
//!   (lowered to 1, which the grammar holds), `uniqueItems`, a `format`
//!   outside [`SUPPORTED_FORMATS`], and a `pattern` with backreferences,
//!   lookaround or `\b`. The model sees them as prose; nothing in the grammar
//!   enforces them, so check the reply against the original schema
//!   ([`SchemaCheck`], which [`Converser::extract`](crate::Converser::extract)
//!   does for you). [`Unsupported::Refuse`] refuses them instead, as before.
//! - **Refused** (a [`SchemaError`] naming the JSON Pointer; no prose can
//!   stand for them): `contains`/`minContains`/`maxContains`,
//!   `minProperties`, `maxProperties`, `patternProperties`, `propertyNames`,
//!   `dependentRequired`/`dependentSchemas`, `unevaluatedItems`/`unevaluatedProperties`,
//!   `oneOf`, `not`, `if`/`then`/`else`, `$dynamicRef`; `additionalProperties`
//!   other than `false`; `enum` values that are objects or arrays; external
//!   or dangling `$ref`s; `$ref` inside `allOf`; recursive schemas.
//! - **Narrowed**: every object is closed with `"additionalProperties": false`,
//!   and a property whose schema admits `null` is made required (see [`fit`]
//!   for when it is made optional instead, to stay within the
//!   [complexity limits](MAX_UNION_PARAMETERS)).
//! - **Kept**: `type`, `properties`, `required`, `items`, `prefixItems`,
//!   `enum`, `const`, `anyOf`, `allOf`, `$ref`, `$defs`, `definitions`,
//!   `default`, `title`, `description`, supported `format`s, simple
//!   `pattern`s, `minItems` 0 or 1, root `$schema`, and anything not listed.
//!
//! Per request the service also takes at most [`MAX_STRICT_TOOLS`] strict
//! tools, [`MAX_OPTIONAL_PARAMETERS`] optional parameters and
//! [`MAX_UNION_PARAMETERS`] union-typed ones, summed over the output schema
//! and every strict tool's; [`ConverseRequest::validate`](crate::ConverseRequest::validate)
//! counts them ([`complexity`]) and refuses a request past one, naming the
//! limit and the count.
//!
//! Which models take which mode (2026): native `outputConfig.textFormat` (and
//! strict tools) on Claude Haiku 4.5, Sonnet 4.5/4.6, Opus 4.5/4.6
//! ([Claude on Bedrock](https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-structured-outputs.html))
//! and on select open-weight families (Qwen, DeepSeek, Mistral, Gemma,
//! Nemotron, MiniMax, Kimi, gpt-oss; the user guide's "supported models"
//! table is authoritative, and third-party reports add Nova and Llama). Every
//! other model with tool use (Claude 3.x/4/4.1, Cohere, Jamba, older Mistral,
//! …) needs the forced-tool mode: one tool whose
//! input schema is the schema, and `toolChoice` `tool` naming it, which the
//! [ToolChoice](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolChoice.html)
//! reference allows only for Claude 3+ and Nova (elsewhere `any` with the
//! single tool).
use serde_json::{Map, Value};
use std::fmt;

#[cfg(feature = "schema")]
mod check;
#[cfg(feature = "schema")]
mod generate;
mod keywords;
mod limits;
mod refs;

#[cfg(feature = "schema")]
pub use check::SchemaCheck;
#[cfg(feature = "schema")]
pub use generate::{
    original_schema_for, schema_for, schema_for_with, settings, strip_schemars_annotations,
};
pub use limits::{
    complexity, Complexity, MAX_OPTIONAL_PARAMETERS, MAX_STRICT_TOOLS, MAX_UNION_PARAMETERS,
};

/// String `format`s the service accepts; any other `format` is described or refused.
pub const SUPPORTED_FORMATS: &[&str] = &[
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

/// What [`fit_with`] does with a keyword the service's grammar cannot hold
/// but prose can (a bound, a length, an unsupported `format` or `pattern`;
/// the list is in the [module docs](self)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// Remove it from the schema that is sent and write it into the
    /// schema's `description`; check the reply against the original schema
    /// ([`SchemaCheck`]). The default.
    #[default]
    Describe,
    /// Refuse the schema with a [`SchemaError`], so that everything the
    /// schema says is guaranteed by the service's grammar.
    Refuse,
}

/// Why a schema cannot be sent: the keyword at `path` is outside the service's subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON Pointer (RFC 6901) to the offending keyword, e.g.
    /// `/properties/age/minimum`; `""` is the whole schema.
    pub path: String,
    /// The keyword refused, e.g. `minimum` (empty when the node is not a schema).
    pub keyword: String,
    /// What the service requires instead.
    pub reason: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "schema keyword `{}` at `{}`: {}",
            self.keyword, self.path, self.reason
        )
    }
}

impl std::error::Error for SchemaError {}

fn err(path: &str, keyword: &str, reason: impl Into<String>) -> SchemaError {
    SchemaError {
        path: path.into(),
        keyword: keyword.into(),
        reason: reason.into(),
    }
}

/// Makes `schema` fit Bedrock's structured-output subset, or says which
/// keyword can't: [`fit_with`] and [`Unsupported::Describe`].
///
/// ```
/// use bedrock_converse::model::schema::fit;
/// use serde_json::json;
///
/// let sent = fit(json!({"type": "object", "properties": {
///     "rating": {"type": "integer", "minimum": 1, "maximum": 10}}}))?;
/// assert_eq!(sent["properties"]["rating"],
///     json!({"type": "integer", "description": "Must be at least 1 and at most 10."}));
/// assert_eq!(sent["additionalProperties"], false);
/// # Ok::<(), bedrock_converse::model::schema::SchemaError>(())
/// ```
///
/// # Errors
///
/// A [`SchemaError`] naming the JSON Pointer of the first keyword the
/// service would reject that cannot be described.
pub fn fit(schema: Value) -> Result<Value, SchemaError> {
    fit_with(schema, Unsupported::Describe)
}

/// Makes `schema` fit Bedrock's structured-output subset, or says which keyword can't.
///
/// Every object schema (`type` `object`, or with `properties`) gets
/// `"additionalProperties": false` (the service requires it; `true` or a
/// schema there is refused), and a property whose schema admits `null`
/// (`["T", "null"]`, `anyOf` with `{"type": "null"}`, as schemars emits for
/// `Option<T>`) is added to `required`: the model then writes `null` rather
/// than leaving it out, which serde reads back as `None`. Each such property
/// is one union-typed parameter; when the schema holds more than
/// [`MAX_UNION_PARAMETERS`], properties made required this way become
/// optional instead, in document order, until it holds no more (or until
/// [`MAX_OPTIONAL_PARAMETERS`] would be passed): removed from `required`,
/// and `null` removed from their type (`["T", "null"]` becomes `"T"`, an
/// `anyOf` of one schema and null becomes that schema), so the model leaves
/// them out rather than writing `null`, which serde also reads as `None`.
/// Only properties the schema already left optional are changed, so every
/// value of the fitted schema is still one of the original.
///
/// A keyword the service rejects is handled as `unsupported` says (see the
/// [module docs](self)); [`schema_for`] strips schemars' own annotations
/// first. `$defs`/`definitions` are kept and walked, as are `$ref`s, which
/// must be local, resolve, and not recurse. `fit_with` is idempotent.
///
/// # Errors
///
/// A [`SchemaError`] naming the JSON Pointer of the first keyword the service would reject.
pub fn fit_with(mut schema: Value, unsupported: Unsupported) -> Result<Value, SchemaError> {
    let mut walker = Walker {
        unsupported,
        refs: Vec::new(),
        made_required: Vec::new(),
    };
    walker.walk(&mut schema, &mut String::new())?;
    refs::check_refs(&schema, &walker.refs)?;
    limits::stay_within(&mut schema, &walker.made_required);
    Ok(schema)
}

/// What a walk over a schema collects.
struct Walker {
    unsupported: Unsupported,
    /// `(where, target)` of every `$ref`.
    refs: Vec<(String, String)>,
    /// `(object's pointer, property)` of each nullable property made required.
    made_required: Vec<(String, String)>,
}

impl Walker {
    fn walk(&mut self, node: &mut Value, path: &mut String) -> Result<(), SchemaError> {
        let obj = match node {
            Value::Bool(_) => return Ok(()),
            Value::Object(obj) => obj,
            _ => return Err(err(path, "", "not a JSON schema (an object or a boolean)")),
        };
        if self.unsupported == Unsupported::Describe {
            keywords::describe(obj);
        }
        keywords::check(obj, path)?;
        if let Some(Value::String(target)) = obj.get("$ref") {
            self.refs.push((path.clone(), target.clone()));
        }
        if is_object_schema(obj) {
            obj.insert("additionalProperties".into(), Value::Bool(false));
            for name in require_nullable(obj) {
                self.made_required.push((path.clone(), name));
            }
        }
        for (key, child) in obj.iter_mut() {
            let len = path.len();
            path.push('/');
            path.push_str(&escape(key));
            match (key.as_str(), child) {
                ("items" | "prefixItems" | "anyOf" | "allOf", Value::Array(list)) => {
                    for (i, item) in list.iter_mut().enumerate() {
                        let l = path.len();
                        path.push_str(&format!("/{i}"));
                        self.walk(item, path)?;
                        path.truncate(l);
                    }
                }
                ("items", item) => self.walk(item, path)?,
                ("properties" | "$defs" | "definitions", Value::Object(map)) => {
                    for (name, sub) in map.iter_mut() {
                        let l = path.len();
                        path.push('/');
                        path.push_str(&escape(name));
                        self.walk(sub, path)?;
                        path.truncate(l);
                    }
                }
                _ => {}
            }
            path.truncate(len);
        }
        Ok(())
    }
}

/// `type` `object` (alone or in a list), or `properties`.
fn is_object_schema(obj: &Map<String, Value>) -> bool {
    obj.contains_key("properties")
        || match obj.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => false,
        }
}

fn nullable(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(ts)) if ts.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    schema.get("const").is_some_and(Value::is_null)
        || schema
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.iter().any(Value::is_null))
        || schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(nullable))
}

/// The names of required-nullable properties it added to `required`.
fn require_nullable(obj: &mut Map<String, Value>) -> Vec<String> {
    let Some(Value::Object(props)) = obj.get("properties") else {
        return Vec::new();
    };
    let required: Vec<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let missing: Vec<String> = props
        .iter()
        .filter(|(name, schema)| !required.contains(&name.as_str()) && nullable(schema))
        .map(|(name, _)| name.clone())
        .collect();
    if missing.is_empty() {
        return missing;
    }
    let values = missing.iter().cloned().map(Value::String);
    match obj
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(list) => list.extend(values),
        other => *other = Value::Array(values.collect()),
    }
    missing
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
