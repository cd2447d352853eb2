//! Recording raw exchanges to a file: the interceptor behind
//! [`ConverserBuilder::record_to`](crate::ConverserBuilder::record_to).
//!
//! The file has the same format as the recordings `bedrock_converse_mock::Replay` serves back:
//!
//! ```json
//! {"interactions": [
//!   {"request":  {"method": "POST", "path": "/model/amazon.nova-lite-v1%3A0/converse", "body": {…}},
//!    "response": {"status": 200, "headers": {"content-type": "application/json", …}, "body": "{…}"}},
//!   {"request":  {"method": "POST", "path": "/model/…/converse-stream", "body": {…}},
//!    "response": {"status": 200, "headers": {…}, "body_base64": "AAAA…"}}
//! ]}
//! ```
//!
//! - `request.body` is the JSON the SDK sent; request **headers are never
//!   written**: they carry the credentials (`authorization` with the SigV4
//!   signature or the bearer token, `x-amz-security-token`, `x-amz-date`,
//!   `x-amz-content-sha256`), and a replay does not need them.
//! - `response.headers` are the response's headers, names lower-cased, except
//!   those that can carry a credential or session (`SECRET_HEADERS`:
//!   `authorization`, `proxy-authorization`, `x-amz-security-token`, `cookie`,
//!   `set-cookie`). Bedrock sends none of them; the list guards against a
//!   proxy or custom endpoint that would.
//! - `response.body` is the body as text when it is UTF-8 and not an event
//!   stream; otherwise `body_base64` holds the raw bytes (for
//!   `/converse-stream`, the `application/vnd.amazon.eventstream` frames exactly
//!   as they arrived).
//!
//! Every HTTP attempt is one interaction (an SDK retry is recorded as its own
//! interaction, so a replay sees the same sequence), in the order the
//! requests were sent. The response body is teed as it flows to the SDK: each
//! chunk is passed on at once and a reference to it kept, so recording adds no
//! latency to a stream. An interaction is written when its body ends, fails or
//! is dropped (a stream stopped early keeps the bytes that had arrived); the
//! whole file is then rewritten, so it is always a complete JSON document.

use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde_json::{json, Map, Value};

use crate::error::Error;

/// Response headers never written to a recording (names compared
/// case-insensitively).
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-amz-security-token",
    "cookie",
    "set-cookie",
];

/// The media type of `/converse-stream` bodies, always written as base64.
const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// The request of one attempt, waiting for its response.
#[derive(Debug)]
struct Pending {
    method: String,
    path: String,
    body: Value,
}

#[derive(Debug)]
enum Slot {
    /// Sent; no response yet (or none ever: the connection failed).
    Waiting(Pending),
    /// Response headers arrived; the body is being teed.
    Receiving,
    /// Complete, ready to write.
    Done(Value),
}

struct State {
    path: PathBuf,
    slots: Vec<Slot>,
}

/// The recorder, installed as an SDK interceptor.
#[derive(Clone)]
pub(crate) struct Recorder {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.lock().path)
            .finish_non_exhaustive()
    }
}

/// Which slot the current attempt fills, kept in the attempt's config bag
/// between `read_before_transmit` and `modify_before_deserialization`.
#[derive(Debug, Clone, Copy)]
struct SlotId(usize);

impl Storable for SlotId {
    type Storer = StoreReplace<SlotId>;
}

impl Recorder {
    /// Creates (or truncates) the file with no interactions, so that a path
    /// that cannot be written fails when the `Converser` is built.
    pub(crate) fn create(path: impl Into<PathBuf>) -> Result<Recorder, Error> {
        let state = State {
            path: path.into(),
            slots: Vec::new(),
        };
        write_file(&state.path, &document(&state.slots)).map_err(|e| {
            Error::config(format!(
                "could not create the recording file {}: {e}",
                state.path.display()
            ))
        })?;
        Ok(Recorder {
            state: Arc::new(Mutex::new(state)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks a slot complete and rewrites the file. Errors are logged, never
    /// passed to the caller: recording must not change what the caller sees.
    fn complete(&self, slot: usize, interaction: Value) {
        let mut state = self.lock();
        if let Some(s) = state.slots.get_mut(slot) {
            *s = Slot::Done(interaction);
        }
        if let Err(e) = write_file(&state.path, &document(&state.slots)) {
            log::error!(
                "could not write the recording file {}: {e}",
                state.path.display()
            );
        }
    }
}

fn document(slots: &[Slot]) -> Value {
    let interactions: Vec<Value> = slots
        .iter()
        .filter_map(|s| match s {
            Slot::Done(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    json!({ "interactions": interactions })
}

/// Writes next to the target, then renames, so a reader never sees half a file.
fn write_file(path: &Path, doc: &Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(doc).map_err(std::io::Error::other)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}

/// The path part of a request URI (`https://host/model/x/converse?q` gives
/// `/model/x/converse`), percent-encoding untouched.
fn uri_path(uri: &str) -> String {
    let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path = match after_scheme.find('/') {
        Some(i) if uri.contains("://") => &after_scheme[i..],
        Some(_) => after_scheme,
        None => "/",
    };
    path.split(['?', '#']).next().unwrap_or(path).to_owned()
}

fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS
        .iter()
        .any(|secret| secret.eq_ignore_ascii_case(name))
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "bedrock_converse::Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let body = match request.body().bytes() {
            Some([]) | None => Value::Null,
            Some(bytes) => serde_json::from_slice(bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
        };
        let pending = Pending {
            method: request.method().to_owned(),
            path: uri_path(request.uri()),
            body,
        };
        let mut state = self.lock();
        state.slots.push(Slot::Waiting(pending));
        cfg.interceptor_state()
            .store_put(SlotId(state.slots.len() - 1));
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(SlotId(slot)) = cfg.load::<SlotId>().copied() else {
            return Ok(());
        };
        let pending = {
            let mut state = self.lock();
            match state.slots.get_mut(slot) {
                Some(s @ Slot::Waiting(_)) => match std::mem::replace(s, Slot::Receiving) {
                    Slot::Waiting(p) => p,
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        };
        let response = context.response_mut();
        let mut headers = Map::new();
        let mut event_stream = false;
        for (name, value) in response.headers().iter() {
            let name = name.to_ascii_lowercase();
            if is_secret_header(&name) {
                continue;
            }
            if name == "content-type" && value.starts_with(EVENT_STREAM) {
                event_stream = true;
            }
            match headers.get_mut(&name) {
                Some(Value::String(v)) => {
                    v.push_str(", ");
                    v.push_str(value);
                }
                _ => {
                    headers.insert(name, Value::String(value.to_owned()));
                }
            }
        }
        let sink = Sink {
            recorder: self.clone(),
            slot,
            request: pending,
            status: response.status().as_u16(),
            headers,
            event_stream,
            chunks: Vec::new(),
        };
        let inner = response.take_body();
        *response.body_mut() = SdkBody::from_body_1_x(Tee {
            inner,
            sink: Some(sink),
        });
        Ok(())
    }
}

/// What is known of one exchange while its response body flows.
struct Sink {
    recorder: Recorder,
    slot: usize,
    request: Pending,
    status: u16,
    headers: Map<String, Value>,
    event_stream: bool,
    chunks: Vec<Bytes>,
}

impl Sink {
    fn finish(self) {
        let bytes: Vec<u8> = self.chunks.concat();
        let mut response = json!({ "status": self.status, "headers": self.headers });
        match std::str::from_utf8(&bytes) {
            Ok(text) if !self.event_stream => response["body"] = json!(text),
            _ => response["body_base64"] = json!(aws_smithy_types::base64::encode(&bytes)),
        }
        let interaction = json!({
            "request": {
                "method": self.request.method,
                "path": self.request.path,
                "body": self.request.body,
            },
            "response": response,
        });
        self.recorder.complete(self.slot, interaction);
    }
}

/// A response body that passes every chunk on unchanged and keeps a
/// reference to it for the recording.
struct Tee {
    inner: SdkBody,
    sink: Option<Sink>,
}

impl Tee {
    fn finish(&mut self) {
        if let Some(sink) = self.sink.take() {
            sink.finish();
        }
    }
}

impl Body for Tee {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(sink)) = (frame.data_ref(), this.sink.as_mut()) {
                    sink.chunks.push(data.clone());
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => this.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        Body::size_hint(&self.inner)
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_path_keeps_percent_encoding_and_drops_host_and_query() {
        assert_eq!(
            uri_path("https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse"),
            "/model/amazon.nova-lite-v1%3A0/converse"
        );
        assert_eq!(
            uri_path("http://127.0.0.1:4000/model/m/converse-stream?x=1"),
            "/model/m/converse-stream"
        );
        assert_eq!(uri_path("http://127.0.0.1:4000"), "/");
        assert_eq!(uri_path("/model/m/converse"), "/model/m/converse");
    }

    #[test]
    fn secret_looking_headers_are_dropped() {
        for name in ["Authorization", "X-Amz-Security-Token", "Set-Cookie"] {
            assert!(is_secret_header(name), "{name}");
        }
        for name in [
            "content-type",
            "x-amzn-requestid",
            "x-amzn-errortype",
            "date",
        ] {
            assert!(!is_secret_header(name), "{name}");
        }
    }

    #[test]
    fn an_unwritable_path_fails_at_creation() {
        let dir = std::env::temp_dir().join("bedrock-converse-no-such-dir-4f1c");
        let err = Recorder::create(dir.join("x/y.json")).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
}
