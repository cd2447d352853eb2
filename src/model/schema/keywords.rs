//! Keywords, one schema node at a time: which are described (moved into the
//! description) and which are refused.

use serde_json::{Map, Value};

use super::{err, escape, SchemaError, SUPPORTED_FORMATS};

/// Keywords the service rejects wherever they appear, and which no prose
/// can stand for: refused under either [`Unsupported`](super::Unsupported).
const REFUSED: &[&str] = &[
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

/// Keywords the service rejects that [`describe`] moves into the description
/// (besides `minItems` above 1, unsupported `format`s and `pattern`s).
const DESCRIBED: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
];

/// Moves what the grammar cannot hold out of `obj` and into its
/// `description`, as sentences ("Must be at least 1 and at most 10.").
pub(super) fn describe(obj: &mut Map<String, Value>) {
    let mut notes = Vec::new();
    let number: Vec<String> = [
        ("minimum", "at least"),
        ("exclusiveMinimum", "greater than"),
        ("maximum", "at most"),
        ("exclusiveMaximum", "less than"),
        ("multipleOf", "a multiple of"),
    ]
    .iter()
    .filter_map(|(kw, words)| obj.remove(*kw).map(|v| format!("{words} {v}")))
    .collect();
    if !number.is_empty() {
        notes.push(format!("Must be {}.", number.join(" and ")));
    }
    let (min_len, max_len) = (obj.remove("minLength"), obj.remove("maxLength"));
    if let Some(bounds) = bounds(min_len.as_ref(), max_len.as_ref()) {
        let unit = plural("character", max_len.or(min_len));
        notes.push(format!("Must be {bounds} {unit} long."));
    }
    let min_items = obj
        .get("minItems")
        .filter(|n| n.as_u64().is_none_or(|n| n > 1))
        .cloned();
    if min_items.is_some() {
        // Lowered to 1, which the grammar holds and every valid value meets.
        obj.insert("minItems".into(), Value::from(1));
    }
    let max_items = obj.remove("maxItems");
    if let Some(bounds) = bounds(min_items.as_ref(), max_items.as_ref()) {
        let unit = plural("item", max_items.or(min_items));
        notes.push(format!("Must have {bounds} {unit}."));
    }
    if obj.remove("uniqueItems") == Some(Value::Bool(true)) {
        notes.push("Items must be unique.".into());
    }
    if let Some(f) = obj.get("format") {
        if !f.as_str().is_some_and(|f| SUPPORTED_FORMATS.contains(&f)) {
            let f = obj.remove("format").expect("present");
            notes.push(format!("Must be in the {} format.", as_text(&f)));
        }
    }
    if let Some(p) = obj.get("pattern") {
        if p.as_str().is_some_and(|p| pattern_problem(p).is_some()) {
            let p = obj.remove("pattern").expect("present");
            notes.push(format!(
                "Must match the regular expression {}.",
                as_text(&p)
            ));
        }
    }
    if notes.is_empty() {
        return;
    }
    let note = notes.join(" ");
    let description = match obj.get("description").and_then(Value::as_str) {
        Some(d) if !d.trim().is_empty() => format!("{d}\n\n{note}"),
        _ => note,
    };
    obj.insert("description".into(), Value::String(description));
}

/// "at least 2 and at most 5", "at least 2", "at most 5".
fn bounds(min: Option<&Value>, max: Option<&Value>) -> Option<String> {
    match (min, max) {
        (Some(a), Some(b)) => Some(format!("at least {a} and at most {b}")),
        (Some(a), None) => Some(format!("at least {a}")),
        (None, Some(b)) => Some(format!("at most {b}")),
        (None, None) => None,
    }
}

fn plural(unit: &str, last: Option<Value>) -> String {
    match last.and_then(|v| v.as_u64()) {
        Some(1) => unit.to_owned(),
        _ => format!("{unit}s"),
    }
}

/// A string as itself in backticks, anything else as JSON.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => other.to_string(),
    }
}

/// Refuses what the service rejects in `obj` (what [`describe`] has not
/// already moved out), naming the keyword's JSON Pointer.
pub(super) fn check(obj: &Map<String, Value>, path: &str) -> Result<(), SchemaError> {
    let at = |kw: &str| format!("{path}/{}", escape(kw));
    let unsupported = REFUSED.iter().chain(DESCRIBED);
    if let Some(kw) = unsupported.into_iter().find(|kw| obj.contains_key(**kw)) {
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

#[cfg(test)]
#[path = "keywords_tests.rs"]
mod tests;
