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

/// A Converse call: its result goes to `reply`, unless `interrupt`
/// resolves first, which drops the request and sends the interrupt's error.
pub(crate) fn converse_task(
    client: &Client,
    parts: SdkParts,
    reply: crossbeam_channel::Sender<Result<ConverseOutput, Error>>,
    interrupt: impl Future<Output = Interrupt> + Send + 'static,
) -> Task {
    // Boxed at once, as in `stream_task`: moving it is then a pointer copy.
    let send = Box::pin(fill!(client.converse(), parts).send());
    reply_task(
        async move { send.await.map_err(Error::from_sdk) },
        reply,
        interrupt,
    )
}

/// A call with one reply (Converse, CountTokens): `send`'s result goes to
/// `reply`, unless `interrupt` resolves first, which drops `send` (and its
/// request) and sends the interrupt's error instead.
pub(crate) fn reply_task<T: Send + 'static>(
    send: impl Future<Output = Result<T, Error>> + Send + 'static,
    reply: crossbeam_channel::Sender<Result<T, Error>>,
    interrupt: impl Future<Output = Interrupt> + Send + 'static,
) -> Task {
    Box::pin(async move {
        let result = tokio::select! {
            biased;
            why = interrupt => Err(why.into_error(None)),
            result = send => result,
        };
        let _ = reply.send(result);
    })
}

/// Something a call waits for before it is sent (room under a quota).
pub(crate) type Gate = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A ConverseStream call: what it receives goes to `sink`, until `interrupt`
/// resolves (which drops the HTTP stream). With `idle`, a silence that long
/// ends the call with a timeout. With a `gate`, the request is sent once the
/// gate opens; the interrupt covers that wait too, the idle timeout does not.
///
/// An error that is the stream's very first frame (before any event) and
/// that the SDK would have retried as an HTTP error (throttling, a 5xx) is
/// retried here, under the client's retry policy: nothing reached the sink,
/// so nothing is repeated. An error after the first event never is.
pub(crate) fn stream_task<S: Sink>(
    client: &Client,
    parts: SdkParts,
    mut sink: S,
    idle: Option<Duration>,
    interrupt: impl Future<Output = Interrupt> + Send + 'static,
    gate: Option<Gate>,
) -> Task {
    let builder = fill!(client.converse_stream(), parts);
    let retry = FirstFrameRetry::of(client);
    Box::pin(async move {
        let interrupted = {
            let work = async {
                if let Some(gate) = gate {
                    gate.await;
                }
                pump(builder, retry, &mut sink, idle).await
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

/// How often, and after what back-off, a stream whose first frame is a
/// retryable error is sent again: the client's retry policy (attempts, and
/// the SDK's exponential back-off with full jitter from its initial
/// back-off, capped at its maximum).
#[derive(Debug, Clone, Copy)]
pub(super) struct FirstFrameRetry {
    max_attempts: u32,
    initial: Duration,
    max: Duration,
}

impl FirstFrameRetry {
    pub(super) fn of(client: &Client) -> Self {
        let config = client.config().retry_config();
        FirstFrameRetry {
            max_attempts: config.map_or(1, |c| c.max_attempts()),
            initial: config.map_or(Duration::from_secs(1), |c| c.initial_backoff()),
            max: config.map_or(Duration::from_secs(20), |c| c.max_backoff()),
        }
    }

    /// The wait before attempt `attempt + 1`: a random part of
    /// `initial × 2^(attempt - 1)`, at most `max`.
    fn backoff(&self, attempt: u32) -> Duration {
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let unit = (random >> 11) as f64 / (1u64 << 53) as f64;
        let full = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max);
        full.mul_f64(unit)
    }
}

/// Whether an error that is a stream's first frame is retried: the kinds
/// the SDK retries when they come as an HTTP status.
fn retried_as_first_frame(error: &Error) -> bool {
    use crate::error::ServiceErrorKind::{InternalServer, ServiceUnavailable, Throttling};
    matches!(
        error.service_kind(),
        Some(Throttling | ServiceUnavailable | InternalServer)
    )
}

type StreamSend =
    aws_sdk_bedrockruntime::operation::converse_stream::builders::ConverseStreamFluentBuilder;

/// Sends the request, then moves every stream event into `sink`; re-sends
/// it while its first frame is a retryable error and attempts are left.
pub(super) async fn pump<S: Sink>(
    builder: StreamSend,
    retry: FirstFrameRetry,
    sink: &mut S,
    idle: Option<Duration>,
) {
    let idle_timeout = || {
        Msg::Failed(Error::Timeout {
            kind: TimeoutKind::Idle,
            partial: None,
        })
    };
    let mut builder = Some(builder);
    let mut attempt = 1;
    let (request_id, mut stream, first) = loop {
        let last = attempt >= retry.max_attempts;
        // Kept for another attempt unless this is the last one.
        let this = match (last, &builder) {
            (false, Some(b)) => b.clone(),
            _ => builder.take().expect("a builder for every attempt"),
        };
        // Boxed at once: the SDK's future is kilobytes, and every move of it
        // (into `pump`, into a timeout) was a memcpy.
        let send = Box::pin(this.send());
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
        let mut stream = output.stream;
        let received = match idle {
            Some(idle) => tokio::time::timeout(idle, stream.recv()).await,
            None => Ok(stream.recv().await),
        };
        let first = match received {
            Ok(Ok(Some(event))) => Msg::Event(event),
            Ok(Ok(None)) => Msg::End,
            Ok(Err(e)) => {
                let error = Error::from_stream_sdk(e);
                if !last && retried_as_first_frame(&error) {
                    log::debug!("stream attempt {attempt} began with {error}; retrying");
                    drop(stream);
                    tokio::time::sleep(retry.backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Msg::Failed(error)
            }
            Err(_) => idle_timeout(),
        };
        break (request_id, stream, first);
    };
    if !sink.deliver(Msg::Started(request_id)) {
        return;
    }
    let mut msg = first;
    // One idle timer for the whole stream, moved on lazily: an event only
    // notes when it came, and the timer, when it fires, re-arms itself from
    // the last event. A timeout around each receive registered and removed a
    // timer per event, about 5% of `converse_with`'s throughput.
    let mut last_event = tokio::time::Instant::now();
    let idle_timer = tokio::time::sleep(idle.unwrap_or(Duration::MAX / 4));
    tokio::pin!(idle_timer);
    loop {
        let last = !matches!(msg, Msg::Event(_));
        if !sink.deliver(msg) || last {
            return;
        }
        let received = match idle {
            Some(idle) => {
                let recv = stream.recv();
                tokio::pin!(recv);
                loop {
                    tokio::select! {
                        biased;
                        received = &mut recv => break Ok(received),
                        () = &mut idle_timer => {
                            let due = last_event + idle;
                            if tokio::time::Instant::now() >= due {
                                break Err(());
                            }
                            idle_timer.as_mut().reset(due);
                        }
                    }
                }
            }
            None => Ok(stream.recv().await),
        };
        last_event = tokio::time::Instant::now();
        msg = match received {
            Ok(Ok(Some(event))) => Msg::Event(event),
            Ok(Ok(None)) => Msg::End,
            Ok(Err(e)) => Msg::Failed(Error::from_stream_sdk(e)),
            Err(_) => idle_timeout(),
        };
    }
}
