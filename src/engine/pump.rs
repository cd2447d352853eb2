//! The tasks a call runs on the runtime thread: send the request, then move
//! the reply to a [`Sink`] until it ends or is interrupted.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::Client;

use super::protocol::{Interrupt, Msg, Sink};
use crate::error::{Error, TimeoutKind};
use crate::sdk::{fill, SdkParts};

/// A task for the runtime thread.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A Converse call: its result goes to `reply`, unless `cancelled` resolves
/// first (its sender dropped), which drops the request.
pub(crate) fn converse_task(
    client: &Client,
    parts: SdkParts,
    reply: crossbeam_channel::Sender<Result<ConverseOutput, Error>>,
    cancelled: tokio::sync::oneshot::Receiver<()>,
) -> Task {
    // Boxed at once, as in `stream_task`: moving it is then a pointer copy.
    let send = Box::pin(fill!(client.converse(), parts).send());
    Box::pin(async move {
        tokio::select! {
            biased;
            _ = cancelled => {}
            result = send => { let _ = reply.send(result.map_err(Error::from_sdk)); }
        }
    })
}

/// Something a call waits for before it is sent (room under a quota).
pub(crate) type Gate = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A ConverseStream call: what it receives goes to `sink`, until `interrupt`
/// resolves (which drops the HTTP stream). With `idle`, a silence that long
/// ends the call with a timeout. With a `gate`, the request is sent once the
/// gate opens; the interrupt covers that wait too, the idle timeout does not.
pub(crate) fn stream_task<S: Sink>(
    client: &Client,
    parts: SdkParts,
    mut sink: S,
    idle: Option<Duration>,
    interrupt: impl Future<Output = Interrupt> + Send + 'static,
    gate: Option<Gate>,
) -> Task {
    // Boxed at once: the SDK's future is kilobytes, and every move of it
    // (into this task, into `pump`, into a timeout) was a memcpy.
    let send = Box::pin(fill!(client.converse_stream(), parts).send());
    Box::pin(async move {
        let interrupted = {
            let work = async {
                if let Some(gate) = gate {
                    gate.await;
                }
                pump(send, &mut sink, idle).await
            };
            tokio::select! {
                biased;
                why = interrupt => Some(why),
                _ = work => None,
            }
        };
        if let Some(why) = interrupted {
            sink.interrupted(why);
        }
    })
}

/// Sends the request, then moves every stream event into `sink`.
async fn pump<S: Sink>(
    send: impl Future<
        Output = Result<
            aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
            aws_sdk_bedrockruntime::error::SdkError<
                aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError,
                aws_sdk_bedrockruntime::config::http::HttpResponse,
            >,
        >,
    >,
    sink: &mut S,
    idle: Option<Duration>,
) {
    let idle_timeout = || {
        Msg::Failed(Error::Timeout {
            kind: TimeoutKind::Idle,
            partial: None,
        })
    };
    let sent = match idle {
        Some(idle) => tokio::time::timeout(idle, send).await,
        None => Ok(send.await),
    };
    let output = match sent {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            sink.deliver(Msg::Failed(Error::from_sdk(e)));
            return;
        }
        Err(_) => {
            sink.deliver(idle_timeout());
            return;
        }
    };
    let request_id = output.request_id().map(str::to_owned);
    if !sink.deliver(Msg::Started(request_id)) {
        return;
    }
    let mut stream = output.stream;
    loop {
        let received = match idle {
            Some(idle) => tokio::time::timeout(idle, stream.recv()).await,
            None => Ok(stream.recv().await),
        };
        let msg = match received {
            Ok(Ok(Some(event))) => Msg::Event(event),
            Ok(Ok(None)) => Msg::End,
            Ok(Err(e)) => Msg::Failed(Error::from_stream_sdk(e)),
            Err(_) => idle_timeout(),
        };
        let last = !matches!(msg, Msg::Event(_));
        if !sink.deliver(msg) || last {
            return;
        }
    }
}
