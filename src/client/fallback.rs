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
use std::sync::{Arc, Mutex};

use super::Converser;
use crate::engine::spawned::Fallback;
use crate::engine::whole::events;
use crate::error::Error;
use crate::model::catalogue::{Capability, Catalogue};
use crate::model::{ConverseRequest, Response, StreamFallback};
use crate::stream::{Flow, StreamHandler};

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
    /// Whether `request` must go through Converse: the catalogue or an
    /// earlier refusal says so.
    fn known(&self, request: &ConverseRequest) -> Option<StreamFallback> {
        let id = request.model_id.as_str();
        let tools = request.tool_config.is_some();
        let catalogue = Catalogue::current();
        let learnt = self.models.lock().unwrap_or_else(|p| p.into_inner());
        let has = |why| learnt.get(id).is_some_and(|set| set.contains(&why));
        if has(StreamFallback::ModelCannotStream)
            || catalogue.supports(id, Capability::Streaming) == Some(false)
        {
            return Some(StreamFallback::ModelCannotStream);
        }
        let no_tools = has(StreamFallback::ModelCannotStreamToolUse)
            || catalogue.supports(id, Capability::ToolUseStreaming) == Some(false);
        (tools && no_tools).then_some(StreamFallback::ModelCannotStreamToolUse)
    }

    /// Learns from a failed stream: the service's refusal of a stream for
    /// this model is remembered, and answered with what to do instead.
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

    /// How a spawned call of `request` falls back: at once if the model is
    /// known not to stream it, else after the service refuses the stream
    /// (which is then remembered and logged).
    pub(super) fn for_spawn(self: &Arc<Self>, request: &ConverseRequest) -> Fallback {
        let known = self.known(request);
        if let Some(why) = known {
            self.log_once(&request.model_id, why);
        }
        let (learnt, model_id) = (self.clone(), request.model_id.clone());
        let tools = request.tool_config.is_some();
        Fallback {
            known,
            learn: Box::new(move |error: &Error| {
                let why = learnt.learn(&model_id, tools, error)?;
                learnt.log_once(&model_id, why);
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
    /// Runs a streaming call (`stream`) unless the model cannot stream this
    /// request, and falls back to Converse when the service refuses the
    /// stream for that reason before anything reached the handler.
    pub(super) fn stream_or_converse<H: StreamHandler + ?Sized>(
        &self,
        request: &ConverseRequest,
        handler: &mut H,
        stream: impl FnOnce(&mut H) -> Result<Response, Error>,
    ) -> Result<Response, Error> {
        let learnt = &self.inner.fallback;
        if let Some(why) = learnt.known(request) {
            return self.converse_driving(request, handler, why);
        }
        match stream(handler) {
            // Only an error before anything reached the handler (no partial
            // reply) can be the refusal of a stream; a stream that broke
            // later is an ordinary error, never answered again.
            Err(e) if e.partial_response().is_none() => {
                match learnt.learn(&request.model_id, request.tool_config.is_some(), &e) {
                    Some(why) => self.converse_driving(request, handler, why),
                    None => Err(e),
                }
            }
            done => done,
        }
    }

    /// Calls Converse and drives `handler` with the whole reply.
    fn converse_driving<H: StreamHandler + ?Sized>(
        &self,
        request: &ConverseRequest,
        handler: &mut H,
        why: StreamFallback,
    ) -> Result<Response, Error> {
        self.inner.fallback.log_once(&request.model_id, why);
        // Unchecked: the streaming caller checks the structured reply once.
        let mut response = self.converse_unchecked(request)?;
        response.stream_fallback = Some(why);
        for event in events(&response) {
            if handler.on_event(&event) == Flow::Stop {
                return Err(Error::Stopped {
                    partial: Box::new(response),
                });
            }
        }
        Ok(response)
    }
}
