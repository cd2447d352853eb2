//! JSON schemas made to fit Bedrock's structured-output subset, checked locally.
//!
//! Converse and ConverseStream take `outputConfig.textFormat` =
//! `{"type": "json_schema", "structure": {"jsonSchema": {"schema": "<schema as a
//! JSON string>", "name": …, "description": …}}}`
//! ([OutputConfig](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html),
//! [JsonSchemaDefinition](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_JsonSchemaDefinition.html));
//! a tool's `toolSpec.strict: true` constrains its input the same way. The
//! service compiles only a subset of JSON Schema and answers anything else
//! with a 400 ([structured outputs](https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html);
//! Anthropic's [limits](https://platform.claude.com/docs/en/build-with-claude/structured-outputs),
//! which Bedrock enforces for Claude, e.g. "For 'number' type, properties
//! maximum, minimum are not supported"). [`fit`] refuses those keywords here,
//! with the JSON Pointer of the offending keyword, and otherwise only narrows
//! the schema (closes objects, requires nullable properties), so whatever the
//! model returns still validates against the schema you wrote.
//!
//! Refused: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
//! `multipleOf`, `minLength`, `maxLength`, `maxItems`, `minItems` above 1,
//! `uniqueItems`, `contains`/`minContains`/`maxContains`, `minProperties`,
//! `maxProperties`, `patternProperties`, `propertyNames`,
//! `dependentRequired`/`dependentSchemas`, `unevaluatedItems`/`unevaluatedProperties`,
//! `oneOf`, `not`, `if`/`then`/`else`, `$dynamicRef`; `additionalProperties`
//! other than `false`; a `format` outside [`SUPPORTED_FORMATS`]; `enum` values
//! that are objects or arrays; external or dangling `$ref`s; `$ref` inside
//! `allOf`; recursive schemas; `pattern`s with backreferences, lookaround or
//! `\b`. Kept: `type`, `properties`, `required`, `items`, `prefixItems`,
//! `enum`, `const`, `anyOf`, `allOf`, `$ref`, `$defs`, `definitions`,
//! `default`, `title`, `description`, root `$schema`, and anything not listed.
//! The numeric, string-length, `minItems`, `additionalProperties`, recursion,
//! external-`$ref`, enum, `allOf`+`$ref`, regex and format limits are the
//! documented ones; the other refused keywords are those absent from the
//! documented "supported" list, which Anthropic's SDKs also strip.
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

/// String `format`s the service accepts; any other `format` is refused.
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

/// Keywords the service rejects wherever they appear.
const UNSUPPORTED: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "minProperties",
    "maxProperties",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedItems",
    "unevaluatedProperties",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "$dynamicRef",
];

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

/// Makes `schema` fit Bedrock's structured-output subset, or says which keyword can't.
///
/// Every object schema (`type` `object`, or with `properties`) gets
/// `"additionalProperties": false` (the service requires it; `true` or a
/// schema there is refused), and a property whose schema admits `null`
/// (`["T", "null"]`, `anyOf` with `{"type": "null"}`, as schemars emits for
/// `Option<T>`) is added to `required`: the model then writes `null` rather
/// than leaving it out, which serde reads back as `None`. Nothing is dropped:
/// a keyword the service rejects (see the [module docs](self)) is an error,
/// even where a generator added it as an annotation; [`schema_for`] strips
/// schemars' own. `$defs`/`definitions` are kept and walked, as are `$ref`s,
/// which must be local, resolve, and not recurse. `fit` is idempotent.
///
/// # Errors
///
/// A [`SchemaError`] naming the JSON Pointer of the first keyword the service would reject.
pub fn fit(mut schema: Value) -> Result<Value, SchemaError> {
    let mut refs = Vec::new();
    walk(&mut schema, &mut String::new(), &mut refs)?;
    check_refs(&schema, &refs)?;
    Ok(schema)
}

fn walk(
    node: &mut Value,
    path: &mut String,
    refs: &mut Vec<(String, String)>,
) -> Result<(), SchemaError> {
    let obj = match node {
        Value::Bool(_) => return Ok(()),
        Value::Object(obj) => obj,
        _ => return Err(err(path, "", "not a JSON schema (an object or a boolean)")),
    };
    check_keywords(obj, path)?;
    if let Some(Value::String(target)) = obj.get("$ref") {
        refs.push((path.clone(), target.clone()));
    }
    let is_object = obj.contains_key("properties")
        || match obj.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => false,
        };
    if is_object {
        obj.insert("additionalProperties".into(), Value::Bool(false));
        require_nullable(obj);
    }
    for (key, child) in obj.iter_mut() {
        let len = path.len();
        path.push('/');
        path.push_str(&escape(key));
        match (key.as_str(), child) {
            ("items", Value::Array(list))
            | ("prefixItems" | "anyOf" | "allOf", Value::Array(list)) => {
                for (i, item) in list.iter_mut().enumerate() {
                    let l = path.len();
                    path.push_str(&format!("/{i}"));
                    walk(item, path, refs)?;
                    path.truncate(l);
                }
            }
            ("items", item) => walk(item, path, refs)?,
            ("properties" | "$defs" | "definitions", Value::Object(map)) => {
                for (name, sub) in map.iter_mut() {
                    let l = path.len();
                    path.push('/');
                    path.push_str(&escape(name));
                    walk(sub, path, refs)?;
                    path.truncate(l);
                }
            }
            _ => {}
        }
        path.truncate(len);
    }
    Ok(())
}

fn check_keywords(obj: &Map<String, Value>, path: &str) -> Result<(), SchemaError> {
    let at = |kw: &str| format!("{path}/{}", escape(kw));
    if let Some(kw) = UNSUPPORTED.iter().find(|kw| obj.contains_key(**kw)) {
        let reason = match *kw {
            "oneOf" => "not supported; use anyOf (schemars' own oneOf is rewritten by schema_for)",
            _ => "not supported by Bedrock structured outputs",
        };
        return Err(err(&at(kw), kw, reason));
    }
    match obj.get("additionalProperties") {
        None | Some(Value::Bool(false)) => {}
        Some(_) => {
            return Err(err(
                &at("additionalProperties"),
                "additionalProperties",
                "must be false",
            ))
        }
    }
    if let Some(n) = obj.get("minItems") {
        if n.as_u64().is_none_or(|n| n > 1) {
            return Err(err(&at("minItems"), "minItems", "only 0 or 1 is supported"));
        }
    }
    if let Some(f) = obj.get("format") {
        if !f.as_str().is_some_and(|f| SUPPORTED_FORMATS.contains(&f)) {
            let reason = format!(
                "{f} is not a supported format ({})",
                SUPPORTED_FORMATS.join(", ")
            );
            return Err(err(&at("format"), "format", reason));
        }
    }
    if let Some(p) = obj.get("pattern") {
        if let Some(why) = p.as_str().map_or(Some("must be a string"), pattern_problem) {
            return Err(err(&at("pattern"), "pattern", why));
        }
    }
    if let Some(Value::Array(values)) = obj.get("enum") {
        if let Some(i) = values.iter().position(|v| v.is_object() || v.is_array()) {
            let reason = "enum values must be strings, numbers, booleans or null";
            return Err(err(&format!("{}/{i}", at("enum")), "enum", reason));
        }
    }
    if let Some(r) = obj.get("$ref") {
        if !r.as_str().is_some_and(|r| r.starts_with('#')) {
            return Err(err(
                &at("$ref"),
                "$ref",
                "only local references (#/…) are supported",
            ));
        }
    }
    if let Some(Value::Array(all)) = obj.get("allOf") {
        if let Some(i) = all.iter().position(|s| s.get("$ref").is_some()) {
            let path = format!("{}/{i}/$ref", at("allOf"));
            return Err(err(
                &path,
                "$ref",
                "allOf with $ref is not supported; inline the schema",
            ));
        }
    }
    Ok(())
}

/// Backreferences, lookaround and word boundaries are outside the supported regex subset.
fn pattern_problem(p: &str) -> Option<&'static str> {
    if ["(?=", "(?!", "(?<=", "(?<!"].iter().any(|s| p.contains(s)) {
        return Some("lookahead/lookbehind is not supported");
    }
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('1'..='9' | 'k') => return Some("backreferences are not supported"),
                Some('b' | 'B') => return Some("word boundaries (\\b, \\B) are not supported"),
                _ => {}
            }
        }
    }
    None
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

fn require_nullable(obj: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = obj.get("properties") else {
        return;
    };
    let required: Vec<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let missing: Vec<Value> = props
        .iter()
        .filter(|(name, schema)| !required.contains(&name.as_str()) && nullable(schema))
        .map(|(name, _)| Value::String(name.clone()))
        .collect();
    if missing.is_empty() {
        return;
    }
    match obj
        .entry("required")
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(list) => list.extend(missing),
        other => *other = Value::Array(missing),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every `$ref` must resolve, and none may lead back into itself: with each
/// ref target as a node and an edge T→U when U is referenced anywhere under
/// T, a cycle is a recursive schema.
fn check_refs(root: &Value, refs: &[(String, String)]) -> Result<(), SchemaError> {
    for (at, target) in refs {
        if root.pointer(&target[1..]).is_none() {
            return Err(err(
                &format!("{at}/$ref"),
                "$ref",
                format!("{target} does not resolve"),
            ));
        }
    }
    let under =
        |node: &str, at: &str| node.is_empty() || at == node || at.starts_with(&format!("{node}/"));
    // 0 = unvisited, 1 = on the DFS stack, 2 = done; nodes are indexes into `refs` (by target)
    fn visit<'a>(
        node: &'a str,
        refs: &'a [(String, String)],
        under: &dyn Fn(&str, &str) -> bool,
        state: &mut Vec<(&'a str, u8)>,
    ) -> Option<&'a str> {
        state.push((node, 1));
        for (at, target) in refs.iter().filter(|(at, _)| under(node, at)) {
            let next = &target[1..];
            match state.iter().find(|(n, _)| *n == next).map(|s| s.1) {
                Some(1) => return Some(at),
                Some(_) => {}
                None => {
                    if let Some(found) = visit(next, refs, under, state) {
                        return Some(found);
                    }
                }
            }
        }
        state
            .iter_mut()
            .find(|(n, _)| *n == node)
            .expect("pushed above")
            .1 = 2;
        None
    }
    let mut state = Vec::new();
    for (_, target) in refs {
        if state.iter().any(|(n, _)| *n == &target[1..]) {
            continue;
        }
        if let Some(at) = visit(&target[1..], refs, &under, &mut state) {
            return Err(err(
                &format!("{at}/$ref"),
                "$ref",
                "recursive schemas are not supported",
            ));
        }
    }
    Ok(())
}

/// schemars settings for Bedrock: draft 2020-12 (`$defs`), no `$schema`, and
/// [`strip_schemars_annotations`] on every subschema.
#[cfg(feature = "schema")]
pub fn settings() -> schemars::generate::SchemaSettings {
    schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.meta_schema = None)
        .with_transform(schemars::transform::RecursiveTransform(
            strip_schemars_annotations,
        ))
}

/// Undoes what schemars adds on its own that the service rejects, so that
/// [`fit`] refuses only what the type's author wrote: the numeric `format`s
/// (`int32`, `uint64`, `double`, …) and the `minimum`/`maximum` that merely
/// restate that type's range (`0` for unsigned, `-128`/`127` for `i8`, …;
/// deserializing still enforces it). A bound from `#[schemars(range)]` differs
/// from the type's, stays, and is refused. `oneOf`, which schemars uses only
/// for enums whose variants are mutually exclusive by construction (distinct
/// tags), becomes `anyOf`, which then means the same.
#[cfg(feature = "schema")]
pub fn strip_schemars_annotations(schema: &mut schemars::Schema) {
    const RANGES: &[(&str, f64, Option<f64>)] = &[
        ("int8", -128.0, Some(127.0)),
        ("int16", -32768.0, Some(32767.0)),
        ("uint8", 0.0, Some(255.0)),
        ("uint16", 0.0, Some(65535.0)),
        ("uint32", 0.0, None),
        ("uint64", 0.0, None),
        ("uint128", 0.0, None),
        ("uint", 0.0, None),
    ];
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let format = obj
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let numeric = format.starts_with("int") || format.starts_with("uint");
    if numeric || matches!(format.as_str(), "float" | "double") {
        obj.remove("format");
    }
    if let Some(&(_, min, max)) = RANGES.iter().find(|r| r.0 == format) {
        if obj.get("minimum").and_then(Value::as_f64) == Some(min) {
            obj.remove("minimum");
        }
        if max.is_some() && obj.get("maximum").and_then(Value::as_f64) == max {
            obj.remove("maximum");
        }
    }
    if let Some(one_of) = obj.remove("oneOf") {
        obj.insert("anyOf".into(), one_of);
    }
}

/// `T`'s JSON schema (schemars, with [`settings`]), [fitted](fit) for Bedrock.
///
/// # Errors
///
/// A [`SchemaError`] if `T`'s schema uses something the service rejects (e.g. a `#[schemars(range)]` bound).
#[cfg(feature = "schema")]
pub fn schema_for<T: schemars::JsonSchema>() -> Result<Value, SchemaError> {
    fit(settings()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value())
}

#[cfg(test)]
mod tests;
