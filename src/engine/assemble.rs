//! The one place a streamed call ends: [`Assembler`] turns the task's
//! messages into handler callbacks and the assembled [`Response`], and every
//! way a call can end (the stream's end, a failure, a stop, an interrupt, a
//! shutdown) into its result, with what had arrived kept in the error.

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use std::ops::ControlFlow;

use super::protocol::{Interrupt, Msg};
use crate::error::Error;
use crate::model::Response;
use crate::sdk::{stream_event, Blocks, Problem};
use crate::stream::{StreamEvent, StreamHandler};

/// What one message from the streaming task means for the call
/// ([`Assembler::take`]).
// An event is moved, not boxed, as in `Msg`.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step {
    /// Recorded; nothing for the handler.
    Recorded,
    /// An event, for [`Assembler::handle`].
    Event(ConverseStreamOutput),
    /// The call is over, with this result.
    Ended(Result<Response, Error>),
}

/// Collects a streamed reply. Pure: no runtime, no I/O.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    response: Response,
    blocks: Blocks,
    /// Whether the reply's headers arrived: only then is there a partial
    /// response worth reporting.
    started: bool,
}

impl Assembler {
    /// The reply's headers arrived, with this request id.
    fn start(&mut self, request_id: Option<String>) {
        *self = Assembler {
            started: true,
            ..Assembler::default()
        };
        self.response.request_id = request_id;
    }

    /// Passes one event to the handler, then records it.
    pub(crate) fn handle<H: StreamHandler + ?Sized>(
        &mut self,
        event: ConverseStreamOutput,
        handler: &mut H,
    ) -> ControlFlow<()> {
        let Some(event) = stream_event(event) else {
            return ControlFlow::Continue(());
        };
        let flow = handler.on_event(&event);
        self.record(event);
        flow
    }

    fn record(&mut self, event: StreamEvent) {
        let r = &mut self.response;
        match event {
            StreamEvent::MessageStart { role } => r.message.role = role,
            StreamEvent::BlockStart { index, start } => self.blocks.start(index, start),
            StreamEvent::Delta { index, delta } => self.blocks.push(index, delta),
            StreamEvent::BlockStop { .. } => {}
            StreamEvent::Stop(stop) => {
                r.stop_reason = Some(stop.reason);
                r.additional_model_response_fields = stop.additional_model_response_fields;
            }
            StreamEvent::Metadata(m) => {
                r.usage = m.usage;
                r.metrics = m.metrics;
                r.trace = m.trace;
                r.performance_config = m.performance_config;
                r.service_tier = m.service_tier;
            }
        }
    }

    /// What has arrived so far, for an error. Tool input that is not (yet)
    /// valid JSON is kept as a JSON string.
    fn partial(&self) -> Response {
        let mut r = self.response.clone();
        r.message.content = self
            .blocks
            .clone()
            .into_content()
            .into_iter()
            .map(|(block, _)| block)
            .collect();
        r
    }

    /// Takes one message from the streaming task: records the reply's start,
    /// hands back an event for [`handle`](Assembler::handle), and turns the
    /// stream's end or failure into the call's result.
    pub(crate) fn take(&mut self, msg: Msg) -> Step {
        match msg {
            Msg::Started(request_id) => {
                self.start(request_id);
                Step::Recorded
            }
            Msg::Event(event) => Step::Event(event),
            Msg::End => Step::Ended(std::mem::take(self).finish()),
            Msg::Failed(e) => Step::Ended(Err(self.attach(e))),
        }
    }

    /// The error for a call whose handler returned [`ControlFlow::Break`].
    pub(crate) fn stopped(&self) -> Error {
        Error::Stopped {
            partial: Box::new(self.partial()),
        }
    }

    /// The error for a call stopped from outside (cancel, deadline).
    pub(crate) fn interrupted(&self, why: Interrupt) -> Error {
        why.into_error(self.partial_if_started())
    }

    /// The error for a call whose runtime went away before it ended.
    pub(crate) fn shut_down(&self) -> Error {
        Error::Shutdown {
            partial: self.partial_if_started(),
        }
    }

    /// What has arrived so far, if the reply had started, for an error.
    pub(crate) fn partial_if_started(&self) -> Option<Box<Response>> {
        self.started.then(|| Box::new(self.partial()))
    }

    /// Attaches what has arrived so far (if anything) to an error.
    fn attach(&self, e: Error) -> Error {
        match self.partial_if_started() {
            Some(p) => e.with_partial(*p),
            None => e,
        }
    }

    /// The complete reply, once the stream has ended. A stream that ended
    /// before `messageStop` is a protocol error carrying what arrived. A tool
    /// call whose joined input is not valid JSON is an
    /// [`Error::InvalidToolInput`] that names it and still carries the whole
    /// reply.
    fn finish(self) -> Result<Response, Error> {
        if self.response.stop_reason.is_none() {
            return Err(Error::Protocol {
                message: "the stream ended before `messageStop`".into(),
                partial: Some(Box::new(self.partial())),
            });
        }
        let Assembler {
            response: mut r,
            blocks,
            ..
        } = self;
        let mut first_error = None;
        r.message.content = blocks
            .into_content()
            .into_iter()
            .map(|(block, problem)| {
                if let Some(p) = problem {
                    first_error.get_or_insert(p);
                }
                block
            })
            .collect();
        match first_error {
            None => Ok(r),
            Some(Problem::ToolInput {
                tool_use_id,
                name,
                input,
                reason,
            }) => Err(Error::InvalidToolInput {
                tool_use_id,
                name,
                input,
                reason,
                response: Box::new(r),
            }),
            Some(Problem::Build(message)) => Err(Error::Protocol {
                message,
                partial: Some(Box::new(r)),
            }),
        }
    }
}
