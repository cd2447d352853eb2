//! Exact conversion between `serde_json::Value` and the SDK's `Document`.

use aws_smithy_types::{Document, Number};
use serde_json::Value;

/// Converts JSON to a smithy `Document`, keeping integers as integers
/// (`PosInt`/`NegInt`) and everything else as `Float`, so that the SDK writes
/// back exactly the number it was given.
pub(crate) fn json_to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or(f64::NAN))
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(json_to_document).collect()),
        Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_document(v)))
                .collect(),
        ),
    }
}

/// Converts a smithy `Document` to JSON. Non-finite floats, which JSON cannot
/// hold, become `null`.
pub(crate) fn document_to_json(doc: &Document) -> Value {
    match doc {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(document_to_json).collect()),
        Document::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), document_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_keep_their_kind() {
        let v = json!({"top_k": 200, "neg": -3, "f": 0.5, "big": u64::MAX, "n": null, "a": [true, "x"]});
        let d = json_to_document(&v);
        let Document::Object(m) = &d else {
            panic!("not an object")
        };
        assert_eq!(m["top_k"], Document::Number(Number::PosInt(200)));
        assert_eq!(m["neg"], Document::Number(Number::NegInt(-3)));
        assert_eq!(m["f"], Document::Number(Number::Float(0.5)));
        assert_eq!(m["big"], Document::Number(Number::PosInt(u64::MAX)));
        assert_eq!(document_to_json(&d), v);
    }

    #[test]
    fn non_finite_float_becomes_null() {
        assert_eq!(
            document_to_json(&Document::Number(Number::Float(f64::NAN))),
            Value::Null
        );
    }
}
