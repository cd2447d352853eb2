//! Streaming that falls back: a model that cannot stream, or cannot stream
//! tool use, is called through Converse, and the handler is driven with the
//! whole reply (message start, each block's deltas, stop, metadata), so the
//! caller's code does not change.
//!
//! Which models need it comes from the [catalogue](crate::model::catalogue),
//! or is learnt from the service's own refusal of a stream ("This model
//! doesn't support tool use in streaming mode." / "The model is unsupported
//! for streaming.") and remembered per model for the `Converser`'s life.
//! Each model's fallback is logged once.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{Converser, DEFAULT_CONVERSE_TIMEOUT};
use crate::engine::spawned::Fallback;
use crate::engine::whole::events;
use crate::error::Error;
use crate::model::catalogue::{Capability, Catalogue};
use crate::model::{ConverseRequest, Response, StreamFallback};
use crate::sdk::SdkParts;
use crate::stream::StreamHandler;

/// The service's refusal of a stream, word for word, and what it means.
const REFUSALS: [(&str, StreamFallback); 2] = [
    (
        "The model is unsupported for streaming.",
        StreamFallback::ModelCannotStream,
    ),
    (
        "This model doesn't support tool use in streaming mode.",
        StreamFallback::ModelCannotStreamToolUse,
    ),
];

/// What a `Converser` has learnt of models that cannot stream.
#[derive(Debug, Default)]
pub(super) struct Learnt {
    /// Per model id: what it cannot stream.
    models: Mutex<HashMap<String, HashSet<StreamFallback>>>,
    /// Models whose fallback has been logged.
    logged: Mutex<HashSet<(String, StreamFallback)>>,
}

impl Learnt {
    /// Whether a request for `model_id` (with tools or not) must go through
    /// Converse: the catalogue or an earlier refusal says so.
    fn known(&self, model_id: &str, tools: bool) -> Option<StreamFallback> {
        let catalogue = Catalogue::current();
        let learnt = self.models.lock().unwrap_or_else(|p| p.into_inner());
        let has = |why| learnt.get(model_id).is_some_and(|set| set.contains(&why));
        if has(StreamFallback::ModelCannotStream)
            || catalogue.supports(model_id, Capability::Streaming) == Some(false)
        {
            return Some(StreamFallback::ModelCannotStream);
        }
        let no_tools = has(StreamFallback::ModelCannotStreamToolUse)
            || catalogue.supports(model_id, Capability::ToolUseStreaming) == Some(false);
        (tools && no_tools).then_some(StreamFallback::ModelCannotStreamToolUse)
    }

    /// Learns from a failed stream of `model_id`: the service's refusal of
    /// a stream for that model is remembered, and answered with what to do
    /// instead.
    fn learn(&self, model_id: &str, tools: bool, error: &Error) -> Option<StreamFallback> {
        let message = error.as_service()?.message.trim();
        let why = REFUSALS.iter().find(|(m, _)| *m == message)?.1;
        if why == StreamFallback::ModelCannotStreamToolUse && !tools {
            return None;
        }
        self.models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(model_id.to_owned())
            .or_default()
            .insert(why);
        Some(why)
    }

    /// How a spawned call of `request` falls back, for each attempt's
    /// model: at once if that model is known not to stream it, else after
    /// the service refuses the stream (which is then remembered for that
    /// model, and logged).
    pub(super) fn for_spawn(self: &Arc<Self>, request: &ConverseRequest) -> Fallback {
        let tools = request.tool_config.is_some();
        let (known, learn) = (self.clone(), self.clone());
        Fallback {
            known: Box::new(move |model_id: &str| {
                let why = known.known(model_id, tools)?;
                known.log_once(model_id, why);
                Some(why)
            }),
            learn: Box::new(move |model_id: &str, error: &Error| {
                let why = learn.learn(model_id, tools, error)?;
                learn.log_once(model_id, why);
                Some(why)
            }),
        }
    }

    fn log_once(&self, model_id: &str, why: StreamFallback) {
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        if logged.insert((model_id.to_owned(), why)) {
            let what = match why {
                StreamFallback::ModelCannotStream => "cannot stream",
                StreamFallback::ModelCannotStreamToolUse => "cannot stream tool use",
            };
            log::info!(
                "{model_id} {what}: streaming calls to it go through Converse, and the handler gets the whole reply at once"
            );
        }
    }
}

impl Converser {
    /// One attempt of a streaming call: `sent` (the request with the
    /// target's model id) streams through `stream`, unless that model cannot
    /// stream it; it goes through Converse at the same target instead, at
    /// once when that is known, or when the service refuses the stream for
    /// that reason before anything reached the handler (which is then
    /// remembered for the model). `deadline` is the stream's; Converse
    /// without one has the `Converser`'s.
    pub(super) fn stream_or_converse<H: StreamHandler + ?Sized>(
        &self,
        sent: &ConverseRequest,
        target: usize,
        deadline: Option<Instant>,
        parts: SdkParts,
        handler: &mut H,
        stream: impl FnOnce(SdkParts, &mut H) -> Result<Response, Error>,
    ) -> Result<Response, Error> {
        let learnt = &self.inner.fallback;
        let tools = sent.tool_config.is_some();
        if let Some(why) = learnt.known(&sent.model_id, tools) {
            return self.converse_driving(sent, target, deadline, parts, handler, why);
        }
        match stream(parts, handler) {
            // Only an error before anything reached the handler (no partial
            // reply) can be the refusal of a stream; a stream that broke
            // later is an ordinary error, never answered again.
            Err(e) if e.partial_response().is_none() => {
                match learnt.learn(&sent.model_id, tools, &e) {
                    Some(why) => {
                        let parts = sent.to_sdk()?;
                        self.converse_driving(sent, target, deadline, parts, handler, why)
                    }
                    None => Err(e),
                }
            }
            done => done,
        }
    }

    /// Calls Converse at `target` and drives `handler` with the whole reply.
    fn converse_driving<H: StreamHandler + ?Sized>(
        &self,
        sent: &ConverseRequest,
        target: usize,
        deadline: Option<Instant>,
        parts: SdkParts,
        handler: &mut H,
        why: StreamFallback,
    ) -> Result<Response, Error> {
        self.inner.fallback.log_once(&sent.model_id, why);
        let deadline = deadline.unwrap_or_else(|| {
            Instant::now() + self.inner.timeout.unwrap_or(DEFAULT_CONVERSE_TIMEOUT)
        });
        // Unchecked: the streaming caller checks the structured reply once.
        let mut response = self.converse_inner(sent, parts, target, deadline)?;
        response.stream_fallback = Some(why);
        for event in events(&response) {
            if handler.on_event(&event) == ControlFlow::Break(()) {
                return Err(Error::Stopped {
                    partial: Box::new(response),
                });
            }
        }
        Ok(response)
    }
}
