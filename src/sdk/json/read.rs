//! Reading JSON with its path in hand: every read names where it is, and an
//! object is read to its end ([`Obj::finish`]), so a key nobody asked for is
//! an error naming it instead of being dropped.

use aws_smithy_types::{base64, Blob};
use serde_json::{Map, Value};

use super::JsonError;

/// A JSON object being read; each key taken is ticked off.
pub(super) struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
    taken: Vec<&'static str>,
}

impl<'a> Obj<'a> {
    /// `value` as an object at `path`.
    pub(super) fn new(value: &'a Value, path: &str) -> Result<Self, JsonError> {
        match value {
            Value::Object(map) => Ok(Obj {
                path: path.to_owned(),
                map,
                taken: Vec::new(),
            }),
            _ => Err(JsonError::new(path, "must be an object")),
        }
    }

    /// The path of `key` in this object.
    pub(super) fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value of `key` (JSON `null` counts as absent), ticked off.
    pub(super) fn opt(&mut self, key: &'static str) -> Option<(&'a Value, String)> {
        self.taken.push(key);
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some((v, self.at(key))),
        }
    }

    /// The value of a required `key`.
    pub(super) fn req(&mut self, key: &'static str) -> Result<(&'a Value, String), JsonError> {
        self.opt(key)
            .ok_or_else(|| JsonError::new(&self.at(key), "is required"))
    }

    /// An optional member read with `read`.
    pub(super) fn opt_with<T>(
        &mut self,
        key: &'static str,
        read: impl FnOnce(&'a Value, &str) -> Result<T, JsonError>,
    ) -> Result<Option<T>, JsonError> {
        self.opt(key).map(|(v, p)| read(v, &p)).transpose()
    }

    /// A required member read with `read`.
    pub(super) fn req_with<T>(
        &mut self,
        key: &'static str,
        read: impl FnOnce(&'a Value, &str) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        let (v, p) = self.req(key)?;
        read(v, &p)
    }

    /// An optional string member.
    pub(super) fn opt_str(&mut self, key: &'static str) -> Result<Option<String>, JsonError> {
        self.opt_with(key, string)
    }

    /// A required string member.
    pub(super) fn req_str(&mut self, key: &'static str) -> Result<String, JsonError> {
        self.req_with(key, string)
    }

    /// Errors on the first key not ticked off.
    pub(super) fn finish(self) -> Result<(), JsonError> {
        match self.map.keys().find(|k| !self.taken.contains(&k.as_str())) {
            Some(key) => Err(JsonError::new(&join(&self.path, key), "unknown key")),
            None => Ok(()),
        }
    }
}

/// `parent.key`, or `key` at the top.
fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A union (exactly one key set): its key, value and path.
pub(super) fn union<'a>(
    value: &'a Value,
    path: &str,
) -> Result<(&'a str, &'a Value, String), JsonError> {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (key, v) = map.iter().next().expect("one key");
            Ok((key.as_str(), v, join(path, key)))
        }
        _ => Err(JsonError::new(
            path,
            "must be an object with exactly one key",
        )),
    }
}

/// The error for a union member this codec does not know.
pub(super) fn unknown_member(path: &str) -> JsonError {
    JsonError::new(path, "unknown key")
}

pub(super) fn string(value: &Value, path: &str) -> Result<String, JsonError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| JsonError::new(path, "must be a string"))
}

pub(super) fn boolean(value: &Value, path: &str) -> Result<bool, JsonError> {
    value
        .as_bool()
        .ok_or_else(|| JsonError::new(path, "must be true or false"))
}

pub(super) fn int(value: &Value, path: &str) -> Result<i32, JsonError> {
    value
        .as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| JsonError::new(path, "must be a 32-bit integer"))
}

pub(super) fn long(value: &Value, path: &str) -> Result<i64, JsonError> {
    value
        .as_i64()
        .ok_or_else(|| JsonError::new(path, "must be a 64-bit integer"))
}

pub(super) fn float(value: &Value, path: &str) -> Result<f32, JsonError> {
    value
        .as_f64()
        .map(|f| f as f32)
        .ok_or_else(|| JsonError::new(path, "must be a number"))
}

pub(super) fn array<'a>(value: &'a Value, path: &str) -> Result<&'a [Value], JsonError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| JsonError::new(path, "must be an array"))
}

/// Each item of an array read with `read`, at `path[i]`.
pub(super) fn list<T>(
    value: &Value,
    path: &str,
    read: impl Fn(&Value, &str) -> Result<T, JsonError>,
) -> Result<Vec<T>, JsonError> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, v)| read(v, &format!("{path}[{i}]")))
        .collect()
}

pub(super) fn strings(value: &Value, path: &str) -> Result<Vec<String>, JsonError> {
    list(value, path, string)
}

/// A base64 string as bytes.
pub(super) fn blob(value: &Value, path: &str) -> Result<Blob, JsonError> {
    let text = value
        .as_str()
        .ok_or_else(|| JsonError::new(path, "must be a base64 string"))?;
    base64::decode(text)
        .map(Blob::new)
        .map_err(|e| JsonError::new(path, format!("is not base64: {e}")))
}

/// An enum's string, kept as the SDK keeps it (an unknown value too).
pub(super) fn enumeration<T: for<'s> From<&'s str>>(
    value: &Value,
    path: &str,
) -> Result<T, JsonError> {
    value
        .as_str()
        .map(T::from)
        .ok_or_else(|| JsonError::new(path, "must be a string"))
}

/// An object whose values are all strings.
pub(super) fn string_map(value: &Value, path: &str) -> Result<Vec<(String, String)>, JsonError> {
    let Value::Object(map) = value else {
        return Err(JsonError::new(path, "must be an object"));
    };
    map.iter()
        .map(|(k, v)| Ok((k.clone(), string(v, &join(path, k))?)))
        .collect()
}

/// A `BuildError` of the SDK's builders, at `path`.
pub(super) fn built<T>(
    result: Result<T, aws_smithy_types::error::operation::BuildError>,
    path: &str,
) -> Result<T, JsonError> {
    result.map_err(|e| JsonError::new(path, e.to_string()))
}

/// Writes a base64 string.
pub(super) fn write_blob(blob: &Blob) -> Value {
    Value::String(base64::encode(blob.as_ref()))
}

/// Writes an `f32` as its shortest decimal, so that `0.7` comes back `0.7`.
pub(super) fn write_float(f: f32) -> Value {
    format!("{f}")
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// An object from the members that are set.
pub(super) fn object<const N: usize>(members: [(&str, Option<Value>); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect(),
    )
}

/// A one-key object: a union member.
pub(super) fn member(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

/// A string as JSON.
pub(super) fn s(text: &str) -> Option<Value> {
    Some(Value::String(text.to_owned()))
}

pub(super) fn double(value: &Value, path: &str) -> Result<f64, JsonError> {
    value
        .as_f64()
        .ok_or_else(|| JsonError::new(path, "must be a number"))
}

/// Writes an `f64` (a non-finite one, which JSON cannot hold, as `null`).
pub(super) fn write_double(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// The error for a value of the SDK's `Unknown` variants, which has no
/// JSON form.
pub(super) fn not_writable(what: &str, value: &impl std::fmt::Debug) -> JsonError {
    JsonError::new("", format!("this {what} has no JSON form: {value:?}"))
}
