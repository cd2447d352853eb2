//! What every measurement shares: the request, the two clients (the wrapper
//! and the raw SDK, built from one SDK configuration), the handler that
//! touches each delta (the same for the raw SDK consumer and for both of the
//! wrapper's streaming calls, `converse_with` and `converse_with_on_runtime`), and
//! small statistics helpers.

use std::collections::HashMap;
use std::hint::black_box;
use std::ops::ControlFlow;
use std::time::Duration;

use aws_sdk_bedrockruntime::config::{Credentials, Region};
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ConversationRole, ConverseStreamOutput,
    InferenceConfiguration, Message as SdkMessage, SystemContentBlock,
};
use aws_sdk_bedrockruntime::Client;
use aws_smithy_types::{Document, Number};
use bedrock_converse::model::Role;
use bedrock_converse::model::StopReason;
use bedrock_converse::stream::{Metadata, Stop};
use bedrock_converse::{ConverseRequest, Converser, Delta};
use bedrock_converse::{Error, Response, StreamHandler};
use serde_json::json;

/// The model, system prompt, prompt and settings of the original Python
/// wrapper's example, sent by every client in every measurement.
pub const MODEL: &str = "anthropic.claude-3-sonnet-20240229-v1:0";
pub const SYSTEM: &str = "You are an app that creates playlists for a radio station that plays rock and pop music. Only return song names and the artist.";
pub const PROMPT: &str = "Create a list of 3 pop songs.";
pub const TEMPERATURE: f32 = 0.5;
pub const MAX_TOKENS: i32 = 512;
pub const TOP_K: u64 = 200;

/// The tiny streamed reply of the per-call and concurrency measurements:
/// messageStart, 4 deltas, contentBlockStop, messageStop, metadata.
pub const TINY_TEXT: &str = "1. Shake It Off - Taylor Swift";
pub const TINY_DELTAS: usize = 4;

/// The long reply of the throughput measurement.
pub const LONG_DELTAS: usize = 20_000;
pub const LONG_DELTA_BYTES: usize = 32;

/// The reply of the peak-memory measurement: 10 MiB of text.
pub const BIG_TEXT_BYTES: usize = 10 * 1024 * 1024;

/// Long replies are written in HTTP chunks of up to this many bytes, several
/// whole frames each, so that the local server is not the bottleneck (one
/// write per frame capped it near the SDK's own rate on 2 cores).
pub const LONG_CHUNK_BYTES: usize = 16 * 1024;

/// The tiny streamed reply: [`TINY_TEXT`] in [`TINY_DELTAS`] deltas.
pub fn tiny_reply() -> bedrock_converse_mock::Reply {
    bedrock_converse_mock::Reply::text(TINY_TEXT)
        .deltas(TINY_DELTAS)
        .usage(25, 9)
}

/// A reply of `bytes` of text in `deltas` deltas, written in big chunks.
pub fn long_reply(bytes: usize, deltas: usize) -> bedrock_converse_mock::Reply {
    bedrock_converse_mock::Reply::text(prose(bytes))
        .deltas(deltas)
        .usage(25, deltas as u32)
        .chunk_bytes(LONG_CHUNK_BYTES)
}

/// `n` bytes of ASCII prose (so that the mock's even split gives deltas of
/// equal length).
pub fn prose(n: usize) -> String {
    const WORDS: &str =
        "the quick brown fox jumps over the lazy dog while a band plays rock and pop all night ";
    WORDS.chars().cycle().take(n).collect()
}

/// The wrapper's request.
pub fn request() -> ConverseRequest {
    ConverseRequest::new(MODEL)
        .system(SYSTEM)
        .user(PROMPT)
        .temperature(TEMPERATURE)
        .max_tokens(MAX_TOKENS as u32)
        .additional_model_request_fields(json!({ "top_k": TOP_K }))
}

/// The same request as SDK types, built once; a raw SDK caller clones them
/// into each call's fluent builder (as the wrapper does).
#[derive(Clone)]
pub struct RawRequest {
    messages: Vec<SdkMessage>,
    system: Vec<SystemContentBlock>,
    inference: InferenceConfiguration,
    fields: Document,
}

impl RawRequest {
    pub fn new() -> RawRequest {
        let message = SdkMessage::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text(PROMPT.into()))
            .build()
            .expect("message builds");
        RawRequest {
            messages: vec![message],
            system: vec![SystemContentBlock::Text(SYSTEM.into())],
            inference: InferenceConfiguration::builder()
                .max_tokens(MAX_TOKENS)
                .temperature(TEMPERATURE)
                .build(),
            fields: Document::Object(HashMap::from([(
                "top_k".to_owned(),
                Document::Number(Number::PosInt(TOP_K)),
            )])),
        }
    }
}

/// The JSON body the SDK sends for [`request`], for the raw HTTP reader.
pub fn request_json() -> Vec<u8> {
    json!({
        "messages": [{ "role": "user", "content": [{ "text": PROMPT }] }],
        "system": [{ "text": SYSTEM }],
        "inferenceConfig": { "maxTokens": MAX_TOKENS, "temperature": TEMPERATURE },
        "additionalModelRequestFields": { "top_k": TOP_K },
    })
    .to_string()
    .into_bytes()
}

/// One SDK client configuration for both sides: region, the mock endpoint,
/// static test credentials. Never the default credential chain.
pub fn sdk_config_builder(endpoint: &str) -> aws_sdk_bedrockruntime::config::Builder {
    aws_sdk_bedrockruntime::config::Builder::new()
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIDMOCKEXAMPLE",
            "mock-secret-key",
            None,
            None,
            "bench",
        ))
        .behavior_version_latest()
}

/// The raw SDK client.
pub fn raw_client(config: aws_sdk_bedrockruntime::Config) -> Client {
    Client::from_conf(config)
}

/// The wrapper, on the very same SDK configuration.
pub fn wrapper(config: aws_sdk_bedrockruntime::Config) -> Converser {
    Converser::builder()
        .config(config)
        .build()
        .expect("the converser builds")
}

/// A current-thread tokio runtime, the raw SDK's best case for one caller.
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// What `#[tokio::main]` builds: a multi-thread runtime, one worker per core.
pub fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Touches each event and each delta's text, for both sides alike.
#[derive(Debug, Default, Clone)]
pub struct Touch {
    pub events: u64,
    pub deltas: u64,
    pub bytes: u64,
    pub check: u64,
    pub stopped: bool,
}

impl Touch {
    #[inline]
    pub fn text(&mut self, t: &str) {
        self.events += 1;
        self.deltas += 1;
        self.bytes += t.len() as u64;
        self.check = self
            .check
            .wrapping_add(black_box(t.as_bytes()).last().copied().unwrap_or(0) as u64);
    }

    /// What a raw SDK caller does with each event.
    #[inline]
    pub fn event(&mut self, event: &ConverseStreamOutput) {
        match event {
            ConverseStreamOutput::ContentBlockDelta(d) => match &d.delta {
                Some(ContentBlockDelta::Text(t)) => self.text(t),
                _ => self.events += 1,
            },
            ConverseStreamOutput::MessageStop(s) => {
                self.events += 1;
                self.stopped = s.stop_reason == StopReason::EndTurn;
            }
            _ => self.events += 1,
        }
    }
}

impl StreamHandler for Touch {
    fn on_message_start(&mut self, _role: &Role) -> ControlFlow<()> {
        self.events += 1;
        ControlFlow::Continue(())
    }
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        match delta.text() {
            Some(t) => self.text(t),
            None => self.events += 1,
        }
        ControlFlow::Continue(())
    }
    fn on_block_stop(&mut self, _index: u32) -> ControlFlow<()> {
        self.events += 1;
        ControlFlow::Continue(())
    }
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        self.events += 1;
        self.stopped = stop.reason == StopReason::EndTurn;
        ControlFlow::Continue(())
    }
    fn on_metadata(&mut self, _metadata: &Metadata) -> ControlFlow<()> {
        self.events += 1;
        ControlFlow::Continue(())
    }
}

/// One raw SDK streaming call: send, then `recv` every event and pass it to
/// `each`.
pub async fn raw_stream_each(
    client: &Client,
    req: &RawRequest,
    mut each: impl FnMut(ConverseStreamOutput),
) {
    let mut output = client
        .converse_stream()
        .model_id(MODEL)
        .set_messages(Some(req.messages.clone()))
        .set_system(Some(req.system.clone()))
        .inference_config(req.inference.clone())
        .additional_model_request_fields(req.fields.clone())
        .send()
        .await
        .expect("raw converse_stream");
    while let Some(event) = output.stream.recv().await.expect("raw stream event") {
        each(event);
    }
}

/// One raw SDK streaming call, touching each event.
pub async fn raw_stream(client: &Client, req: &RawRequest, touch: &mut Touch) {
    raw_stream_each(client, req, |event| touch.event(&event)).await;
    assert!(touch.stopped, "the raw stream ended without messageStop");
}

/// Like [`raw_stream`], keeping the text (what the wrapper's `Response` holds).
pub async fn raw_stream_keep(client: &Client, req: &RawRequest) -> String {
    let mut text = String::new();
    raw_stream_each(client, req, |event| {
        if let ConverseStreamOutput::ContentBlockDelta(d) = event {
            if let Some(ContentBlockDelta::Text(t)) = d.delta {
                text.push_str(&t);
            }
        }
    })
    .await;
    text
}

/// One raw SDK `converse` call; returns the text length.
pub async fn raw_converse(client: &Client, req: &RawRequest) -> usize {
    let output = client
        .converse()
        .model_id(MODEL)
        .set_messages(Some(req.messages.clone()))
        .set_system(Some(req.system.clone()))
        .inference_config(req.inference.clone())
        .additional_model_request_fields(req.fields.clone())
        .send()
        .await
        .expect("raw converse");
    match output.output {
        Some(aws_sdk_bedrockruntime::types::ConverseOutput::Message(m)) => m
            .content
            .iter()
            .map(|b| b.as_text().map(|t| t.len()).unwrap_or(0))
            .sum(),
        _ => 0,
    }
}

/// Which of the wrapper's two streaming calls a measurement goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `converse_with`: the handler runs on the calling thread; each event
    /// crosses from the runtime thread to it.
    With,
    /// `converse_with_on_runtime`: the handler runs on the runtime thread, in the
    /// task that reads the stream; the caller wakes once, for the result.
    Send,
}

impl Path {
    /// The wrapper's method this path calls.
    pub fn name(self) -> &'static str {
        match self {
            Path::With => "converse_with",
            Path::Send => "converse_with_on_runtime",
        }
    }

    /// One streaming call with `handler` through this path.
    pub fn call<H: StreamHandler + Send>(
        self,
        converser: &Converser,
        req: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        match self {
            Path::With => converser.converse_with(req, handler),
            Path::Send => converser.converse_with_on_runtime(req, handler),
        }
    }

    /// One streaming call with a [`Touch`] handler through this path.
    pub fn stream(self, converser: &Converser, req: &ConverseRequest, touch: &mut Touch) {
        let reply = self
            .call(converser, req, touch)
            .unwrap_or_else(|e| panic!("wrapper {}: {e:?}", self.name()));
        black_box(reply);
        assert!(
            touch.stopped,
            "the wrapper's {} stream ended without messageStop",
            self.name()
        );
    }
}

/// Counts event-stream frames in a byte stream, across chunk boundaries, by
/// their length preludes (no CRC or JSON work).
#[derive(Debug, Default)]
pub struct FrameCounter {
    /// Bytes still to skip in the current frame.
    rest: usize,
    /// Bytes of the current frame's 4-byte length, when split across chunks.
    head: Vec<u8>,
}

impl FrameCounter {
    /// Feeds a chunk; returns how many frames it completed.
    pub fn feed(&mut self, mut data: &[u8]) -> usize {
        let mut done = 0;
        while !data.is_empty() {
            if self.rest == 0 {
                let need = 4 - self.head.len();
                let take = need.min(data.len());
                self.head.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.head.len() < 4 {
                    break;
                }
                let total =
                    u32::from_be_bytes([self.head[0], self.head[1], self.head[2], self.head[3]])
                        as usize;
                self.head.clear();
                self.rest = total.saturating_sub(4).max(1);
                continue;
            }
            let take = self.rest.min(data.len());
            self.rest -= take;
            data = &data[take..];
            if self.rest == 0 {
                done += 1;
            }
        }
        done
    }
}

/// The `q`-quantile (0..=1) of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
pub fn rss_hwm_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (ns) used so far by this process's threads, not counting the
/// local server's thread: the client's cost, whatever the machine's load
/// does to wall-clock times. Threads that have exited are not counted, so
/// read it while the threads measured are alive.
pub fn client_cpu_ns() -> u64 {
    thread_cpu_ns(false)
}

/// CPU time (ns) used so far by the local server's thread.
pub fn server_cpu_ns() -> u64 {
    thread_cpu_ns(true)
}

/// CPU time (ns) used so far by the live threads of this process that are
/// the local server's (`server`), or by all the others (`!server`).
fn thread_cpu_ns(server: bool) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|t| {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            comm.starts_with("bedrock-mock") == server
        })
        .filter_map(|t| {
            std::fs::read_to_string(t.path().join("schedstat"))
                .ok()?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// CPU time (ns) used so far by this whole process, threads that have ended
/// included (`/proc/self/stat`, in 10 ms ticks: for runs of seconds).
pub fn process_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the name.
    (ticks(11) + ticks(12)) * 10_000_000
}
