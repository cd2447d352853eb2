//! Schemas from Rust types, through schemars.

use serde_json::Value;

#[cfg(doc)]
use super::fit;
use super::{fit_with, SchemaError, Unsupported};

/// schemars settings for Bedrock: draft 2020-12 (`$defs`), no `$schema`, and
/// [`strip_schemars_annotations`] on every subschema.
pub fn settings() -> schemars::generate::SchemaSettings {
    schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.meta_schema = None)
        .with_transform(schemars::transform::RecursiveTransform(
            strip_schemars_annotations,
        ))
}

/// Undoes what schemars adds on its own that the service rejects, so that
/// [`fit`] sees only what the type's author wrote: the numeric `format`s
/// (`int32`, `uint64`, `double`, …) and the `minimum`/`maximum` that merely
/// restate that type's range (`0` for unsigned, `-128`/`127` for `i8`, …;
/// deserializing still enforces it). A bound from `#[schemars(range)]` differs
/// from the type's and stays. `oneOf`, which schemars uses only
/// for enums whose variants are mutually exclusive by construction (distinct
/// tags), becomes `anyOf`, which then means the same.
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

/// `T`'s JSON schema (schemars, with [`settings`]), [fitted](fit) for
/// Bedrock: a `#[schemars(range)]` or `#[schemars(length)]` bound is moved
/// into the description.
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// struct Review {
///     #[schemars(range(min = 1, max = 10))]
///     rating: u8,
/// }
/// let sent = bedrock_converse::model::schema::schema_for::<Review>()?;
/// assert_eq!(sent["properties"]["rating"]["description"], "Must be at least 1 and at most 10.");
/// assert!(sent["properties"]["rating"].get("maximum").is_none());
/// # Ok::<(), bedrock_converse::model::schema::SchemaError>(())
/// ```
///
/// # Errors
///
/// A [`SchemaError`] if `T`'s schema uses something the service rejects
/// that cannot be described (e.g. a map, whose `additionalProperties` is a schema).
pub fn schema_for<T: schemars::JsonSchema>() -> Result<Value, SchemaError> {
    schema_for_with::<T>(Unsupported::Describe)
}

/// [`schema_for`], with keywords the grammar cannot hold handled as
/// `unsupported` says ([`Unsupported::Refuse`]: a `#[schemars(range)]`
/// bound is an error).
///
/// # Errors
///
/// A [`SchemaError`] if `T`'s schema uses something the service rejects.
pub fn schema_for_with<T: schemars::JsonSchema>(
    unsupported: Unsupported,
) -> Result<Value, SchemaError> {
    fit_with(original_schema_for::<T>(), unsupported)
}

/// `T`'s JSON schema as schemars writes it (with [`settings`]), before
/// [`fit`]: the schema a reply is [checked](super::SchemaCheck) against,
/// bounds included.
pub fn original_schema_for<T: schemars::JsonSchema>() -> Value {
    settings()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
