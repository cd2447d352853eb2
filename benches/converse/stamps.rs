//! Timestamps of the moment the SDK receives each event's bytes, taken
//! without touching the library: an SDK interceptor wraps the response body of
//! streaming calls, and the wrapped body notes the time at which it hands the
//! SDK's event-stream receiver the chunk that completes each frame. Both the
//! raw SDK client and the wrapper are built with this interceptor, so the
//! delay from "the SDK has the event's bytes" to "the caller sees the event"
//! is measured the same way for both; the difference is what the wrapper adds
//! (its channel hop to the calling thread and the assembly of the reply).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use aws_sdk_bedrockruntime::config::interceptors::BeforeDeserializationInterceptorContextMut;
use aws_sdk_bedrockruntime::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use hyper::body::{Body, Frame};

use crate::common::FrameCounter;

/// Times at which each frame's last byte reached the SDK, in order.
#[derive(Debug, Clone, Default)]
pub struct FrameStamps(Arc<Mutex<Vec<Instant>>>);

impl FrameStamps {
    /// Takes the stamps noted so far, leaving the list empty.
    pub fn take(&self) -> Vec<Instant> {
        std::mem::take(&mut *self.0.lock().expect("stamps"))
    }
}

/// The interceptor: wraps event-stream response bodies.
#[derive(Debug, Clone)]
pub struct StampInterceptor(pub FrameStamps);

impl Intercept for StampInterceptor {
    fn name(&self) -> &'static str {
        "bench-frame-stamps"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response_mut();
        let streaming = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.starts_with("application/vnd.amazon.eventstream"));
        if streaming {
            let inner = std::mem::replace(response.body_mut(), SdkBody::taken());
            *response.body_mut() = SdkBody::from_body_1_x(Stamped {
                inner,
                counter: FrameCounter::default(),
                stamps: self.0.clone(),
            });
        }
        Ok(())
    }
}

struct Stamped {
    inner: SdkBody,
    counter: FrameCounter,
    stamps: FrameStamps,
}

impl Body for Stamped {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let now = Instant::now();
                let completed = self.counter.feed(data);
                if completed > 0 {
                    let mut stamps = self.stamps.0.lock().expect("stamps");
                    stamps.extend(std::iter::repeat_n(now, completed));
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
