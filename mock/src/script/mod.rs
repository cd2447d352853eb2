//! Scripts: replies written as JSON, for `bedrock-local --script FILE` and
//! for tests that keep their replies in a file.
//!
//! A script is a JSON array; each entry is one [`Reply`], served in order.
//! An entry is an object with these members, all optional:
//!
//! | member | meaning | `Reply` method |
//! |---|---|---|
//! | `"text": "Hi"` | a text block | [`Reply::text`] |
//! | `"reasoning": {"text": "…", "signature": "…"}` | a reasoning block (before the text) | [`Reply::reasoning`] |
//! | `"tool_use": {"id": "t1", "name": "calc", "input": {…}}` | a tool call (after the text); the stop reason becomes `tool_use` | [`Reply::tool_use`] |
//! | `"blocks": [{"text": …}, {"reasoning": …}, {"tool_use": …}, {"raw": {"converse": …, "start": …, "deltas": […]}}]` | blocks in this order (instead of the three above) | [`Reply::with_text`], …, [`Reply::raw_block`] |
//! | `"json": {"n": 1}` | one text block holding this JSON (instead of blocks); to a request that forces a tool, a call of that tool with this input | [`Reply::json`] |
//! | `"echo": "You said: "` | repeat the last user message after this prefix (instead of blocks) | [`Reply::echo`] |
//! | `"deltas": 3` | stream each block in 3 deltas | [`Reply::deltas`] |
//! | `"word_deltas": true` | stream text a word at a time | [`Reply::word_deltas`] |
//! | `"stop_reason": "max_tokens"` | the stop reason (default `end_turn`) | [`Reply::stop_reason`] |
//! | `"usage": [10, 5]` | input and output tokens | [`Reply::usage`] |
//! | `"cache_tokens": [100, 0]` | cache read and write tokens | [`Reply::cache_tokens`] |
//! | `"cache_details": {"5m": 100, "1h": 2048}` | cache writes by TTL | [`Reply::cache_details`] |
//! | `"latency_ms": 250` | the reported latency (default 100) | [`Reply::latency_ms`] |
//! | `"additional_model_response_fields": {…}` | model-specific fields | [`Reply::additional_model_response_fields`] |
//! | `"trace": {…}` | the trace, wire JSON | [`Reply::trace`] |
//! | `"request_id": "r-1"` | the `x-amzn-RequestId` header | [`Reply::request_id`] |
//! | `"delay_ms": 2000` | wait before the response starts | [`Reply::first_frame_delay`] |
//! | `"frame_delay_ms": 50` | wait before each stream frame | [`Reply::frame_delay`] |
//! | `"fault": {"kind": "exception", "after": 4, "type": "modelStreamErrorException", "message": "…"}` | go wrong part-way through the stream | [`Reply::fault`] |
//! | `"error": {"status": 429, "type": "ThrottlingException", "message": "slow down"}` | an HTTP error instead of a reply (only `request_id` may go with it) | [`Reply::error`] |
//!
//! A fault's `kind` is `exception` (an exception frame, `type` defaulting to
//! `modelStreamErrorException`), `stall` (send nothing more, keep the
//! connection open), `drop` (close the connection), `bad_crc` (corrupt the
//! next frame's CRC) or `truncated` (send half of the next frame); `after`
//! counts the stream's events sent first: `messageStart`, then for each block
//! its `contentBlockStart` (tool use only), its deltas and `contentBlockStop`,
//! then `messageStop` and `metadata`. So `{"text": "partial", "deltas": 3,
//! "fault": {"kind": "exception", "after": 4}}` sends `messageStart` and three
//! deltas, then the exception. Faults only affect `/converse-stream`.
//!
//! Unknown members are refused, naming the entry, so a typo does not
//! silently serve something else.
//!
//! ```
//! use bedrock_converse_mock::Reply;
//!
//! let replies = Reply::script_from_json(r#"[
//!   {"text": "Hi", "deltas": 3, "usage": [10, 5]},
//!   {"error": {"status": 429, "type": "ThrottlingException", "message": "slow down"}}
//! ]"#)?;
//! assert_eq!(replies[0], Reply::text("Hi").deltas(3).usage(10, 5));
//! assert_eq!(replies[1], Reply::error(429, "ThrottlingException", "slow down"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::reply::{Fault, Reply};

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

const MEMBERS: &[&str] = &[
    "text",
    "json",
    "reasoning",
    "tool_use",
    "blocks",
    "echo",
    "deltas",
    "word_deltas",
    "stop_reason",
    "usage",
    "cache_tokens",
    "cache_details",
    "latency_ms",
    "additional_model_response_fields",
    "trace",
    "request_id",
    "delay_ms",
    "frame_delay_ms",
    "fault",
    "error",
];

/// Reads one member of an object, checking its type.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    at: &'a str,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn wrong(&self, name: &str, what: &str) -> io::Error {
        invalid(format!("{}: `{name}` must be {what}", self.at))
    }

    fn str(&self, name: &str) -> io::Result<Option<&'a str>> {
        self.get(name)
            .map(|v| v.as_str().ok_or_else(|| self.wrong(name, "a string")))
            .transpose()
    }

    fn req_str(&self, name: &str) -> io::Result<&'a str> {
        self.str(name)?
            .ok_or_else(|| invalid(format!("{}: `{name}` is missing", self.at)))
    }

    fn u64(&self, name: &str) -> io::Result<Option<u64>> {
        self.get(name)
            .map(|v| v.as_u64().ok_or_else(|| self.wrong(name, "a whole number")))
            .transpose()
    }

    fn bool(&self, name: &str) -> io::Result<Option<bool>> {
        self.get(name)
            .map(|v| v.as_bool().ok_or_else(|| self.wrong(name, "true or false")))
            .transpose()
    }

    fn pair(&self, name: &str) -> io::Result<Option<(u32, u32)>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n = |v: Option<&Value>| {
            v.and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
        };
        match v.as_array().map(|a| (a.len(), n(a.first()), n(a.get(1)))) {
            Some((2, Some(a), Some(b))) => Ok(Some((a, b))),
            _ => Err(self.wrong(name, "a list of two whole numbers, e.g. [10, 5]")),
        }
    }

    fn object(&self, name: &str) -> io::Result<Option<&'a Map<String, Value>>> {
        self.get(name)
            .map(|v| v.as_object().ok_or_else(|| self.wrong(name, "an object")))
            .transpose()
    }
}

fn object<'a>(v: &'a Value, at: &str) -> io::Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| invalid(format!("{at}: must be a JSON object")))
}

fn tool_use(reply: Reply, v: &Value, at: &str) -> io::Result<Reply> {
    let at = format!("{at}: `tool_use`");
    let f = Fields {
        map: object(v, &at)?,
        at: &at,
    };
    let input = f
        .get("input")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    Ok(reply.tool_use(f.req_str("id")?, f.req_str("name")?, input))
}

fn reasoning(reply: Reply, v: &Value, at: &str) -> io::Result<Reply> {
    let at = format!("{at}: `reasoning`");
    let f = Fields {
        map: object(v, &at)?,
        at: &at,
    };
    Ok(reply.reasoning(f.req_str("text")?, f.str("signature")?.unwrap_or("")))
}

fn block(reply: Reply, v: &Value, at: &str) -> io::Result<Reply> {
    let map = object(v, at)?;
    if map.len() != 1 {
        return Err(invalid(format!(
            "{at}: a block has exactly one member: `text`, `reasoning`, `tool_use` or `raw`"
        )));
    }
    let (kind, value) = map.iter().next().expect("one member");
    match kind.as_str() {
        "text" => match value.as_str() {
            Some(text) => Ok(reply.with_text(text)),
            None => Err(invalid(format!("{at}: `text` must be a string"))),
        },
        "reasoning" => reasoning(reply, value, at),
        "tool_use" => tool_use(reply, value, at),
        "raw" => {
            let at = format!("{at}: `raw`");
            let f = Fields {
                map: object(value, &at)?,
                at: &at,
            };
            let converse = f
                .get("converse")
                .cloned()
                .ok_or_else(|| invalid(format!("{at}: `converse` is missing")))?;
            let deltas = match f.get("deltas") {
                None => Vec::new(),
                Some(Value::Array(d)) => d.clone(),
                Some(_) => return Err(f.wrong("deltas", "a list")),
            };
            Ok(reply.raw_block(converse, f.get("start").cloned(), deltas))
        }
        other => Err(invalid(format!(
            "{at}: unknown block `{other}` (expected `text`, `reasoning`, `tool_use` or `raw`)"
        ))),
    }
}

fn fault(v: &Map<String, Value>, at: &str) -> io::Result<Fault> {
    let at = format!("{at}: `fault`");
    let f = Fields { map: v, at: &at };
    let after = f
        .u64("after")?
        .ok_or_else(|| invalid(format!("{at}: `after` (events sent first) is missing")))?
        as usize;
    let kind = f.req_str("kind")?;
    for name in v.keys() {
        let allowed = match kind {
            "exception" => ["kind", "after", "type", "message"].contains(&name.as_str()),
            _ => ["kind", "after"].contains(&name.as_str()),
        };
        if !allowed {
            return Err(invalid(format!(
                "{at}: unknown member `{name}` for kind `{kind}`"
            )));
        }
    }
    Ok(match kind {
        "exception" => Fault::Exception {
            after,
            exception_type: f
                .str("type")?
                .unwrap_or("modelStreamErrorException")
                .to_owned(),
            message: f
                .str("message")?
                .unwrap_or("The model stream failed.")
                .to_owned(),
        },
        "stall" => Fault::Stall { after },
        "drop" => Fault::Drop { after },
        "bad_crc" => Fault::BadCrc { after },
        "truncated" => Fault::Truncated { after },
        other => {
            return Err(invalid(format!(
            "{at}: unknown kind `{other}` (expected exception, stall, drop, bad_crc or truncated)"
        )))
        }
    })
}

impl Reply {
    /// One script entry (see [the format](crate::script)) as a reply. Fails
    /// with [`io::ErrorKind::InvalidData`] naming the member that is wrong.
    ///
    /// # Errors
    ///
    /// An `InvalidData` I/O error naming the member that is unknown or malformed.
    pub fn from_json(entry: &Value) -> io::Result<Reply> {
        Reply::entry(entry, "reply")
    }

    /// A script's replies, in order, from its JSON text: an array of
    /// entries (see [the format](crate::script)). Errors name the entry by
    /// its index.
    ///
    /// # Errors
    ///
    /// An `InvalidData` I/O error if `text` is not a JSON array of valid entries (naming the entry).
    pub fn script_from_json(text: &str) -> io::Result<Vec<Reply>> {
        let doc: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let entries = doc
            .as_array()
            .ok_or_else(|| invalid("a script is a JSON array of replies".into()))?;
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| Reply::entry(e, &format!("reply {i}")))
            .collect()
    }

    /// A script's replies from a file (see
    /// [`script_from_json`](Reply::script_from_json)); errors name the file.
    ///
    /// # Errors
    ///
    /// The file's I/O error, or as [`script_from_json`](Reply::script_from_json).
    pub fn script_from_file(path: impl AsRef<Path>) -> io::Result<Vec<Reply>> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Reply::script_from_json(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))
    }

    fn entry(entry: &Value, at: &str) -> io::Result<Reply> {
        let map = object(entry, at)?;
        if let Some(name) = map.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(invalid(format!(
                "{at}: unknown member `{name}` (expected one of: {})",
                MEMBERS.join(", ")
            )));
        }
        let f = Fields { map, at };
        if let Some(error) = f.object("error")? {
            if let Some(other) = map
                .keys()
                .find(|k| !["error", "request_id"].contains(&k.as_str()))
            {
                return Err(invalid(format!(
                    "{at}: `{other}` cannot go with `error` (an error has no reply)"
                )));
            }
            let at = format!("{at}: `error`");
            let e = Fields {
                map: error,
                at: &at,
            };
            let status = e
                .u64("status")?
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (400..=599).contains(s))
                .ok_or_else(|| {
                    invalid(format!(
                        "{at}: `status` must be an HTTP error status (400-599)"
                    ))
                })?;
            let mut reply =
                Reply::error(status, e.req_str("type")?, e.str("message")?.unwrap_or(""));
            if let Some(id) = f.str("request_id")? {
                reply = reply.request_id(id);
            }
            return Ok(reply);
        }
        let shorthand = ["text", "reasoning", "tool_use"]
            .into_iter()
            .find(|k| f.get(k).is_some());
        let mut reply = if let Some(value) = f.get("json") {
            if let Some(other) = shorthand
                .or(f.get("blocks").map(|_| "blocks"))
                .or(f.get("echo").map(|_| "echo"))
            {
                return Err(invalid(format!(
                    "{at}: `json` cannot go with `{other}` (the JSON is the reply's one block)"
                )));
            }
            Reply::json(value)
        } else if let Some(prefix) = f.str("echo")? {
            if let Some(other) = shorthand.or(f.get("blocks").map(|_| "blocks")) {
                return Err(invalid(format!(
                    "{at}: `echo` cannot go with `{other}` (an echo's text is the user's)"
                )));
            }
            Reply::echo(prefix)
        } else if let Some(blocks) = f.get("blocks") {
            if let Some(other) = shorthand {
                return Err(invalid(format!(
                    "{at}: `{other}` cannot go with `blocks` (put it in the list)"
                )));
            }
            let list = blocks
                .as_array()
                .ok_or_else(|| f.wrong("blocks", "a list"))?;
            let mut reply = Reply::empty();
            for (i, b) in list.iter().enumerate() {
                reply = block(reply, b, &format!("{at}: block {i}"))?;
            }
            reply
        } else {
            let mut reply = Reply::empty();
            if let Some(r) = f.get("reasoning") {
                reply = reasoning(reply, r, at)?;
            }
            if let Some(text) = f.str("text")? {
                reply = reply.with_text(text);
            }
            if let Some(t) = f.get("tool_use") {
                reply = tool_use(reply, t, at)?;
            }
            reply
        };
        if let Some(n) = f.u64("deltas")? {
            reply = reply.deltas(n as usize);
        }
        if f.bool("word_deltas")? == Some(true) {
            reply = reply.word_deltas();
        }
        if let Some(reason) = f.str("stop_reason")? {
            reply = reply.stop_reason(reason);
        }
        if let Some((input, output)) = f.pair("usage")? {
            reply = reply.usage(input, output);
        }
        if let Some((read, write)) = f.pair("cache_tokens")? {
            reply = reply.cache_tokens(read, write);
        }
        if let Some(details) = f.object("cache_details")? {
            let mut pairs = Vec::new();
            for (ttl, n) in details {
                let n = n
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        f.wrong(
                            "cache_details",
                            "an object of TTL to whole number, e.g. {\"5m\": 100}",
                        )
                    })?;
                pairs.push((ttl.as_str(), n));
            }
            reply = reply.cache_details(&pairs);
        }
        if let Some(ms) = f.u64("latency_ms")? {
            reply = reply.latency_ms(ms);
        }
        if let Some(fields) = f.get("additional_model_response_fields") {
            reply = reply.additional_model_response_fields(fields.clone());
        }
        if let Some(trace) = f.get("trace") {
            reply = reply.trace(trace.clone());
        }
        if let Some(id) = f.str("request_id")? {
            reply = reply.request_id(id);
        }
        if let Some(ms) = f.u64("delay_ms")? {
            reply = reply.first_frame_delay(Duration::from_millis(ms));
        }
        if let Some(ms) = f.u64("frame_delay_ms")? {
            reply = reply.frame_delay(Duration::from_millis(ms));
        }
        if let Some(v) = f.object("fault")? {
            reply = reply.fault(fault(v, at)?);
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests;
