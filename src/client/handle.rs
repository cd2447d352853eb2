//! [`CallHandle`]: a streaming call running in the background, from
//! [`Converser::spawn`](crate::Converser::spawn).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::Inner;
use crate::cancel::CancelToken;
use crate::engine::spawned::{Receivers, SharedWaker};
use crate::error::Error;
use crate::model::Response;
use crate::stream::StreamEvent;

/// A streaming call running in the background, from
/// [`Converser::spawn`](crate::Converser::spawn).
///
/// Poll it from a UI loop: drain [`events`](CallHandle::events) with
/// `try_recv` once per frame, check [`try_wait`](CallHandle::try_wait), and
/// [`cancel`](CallHandle::cancel) it from a button. Dropping the handle
/// cancels the call. A live handle keeps the `Converser`'s runtime thread
/// running, as reqwest's blocking `Response` keeps its client's: the call
/// goes on even when the last [`Converser`](crate::Converser) is dropped.
///
/// ```
/// # use bedrock_converse_mock::{MockServer, Reply};
/// # let server = MockServer::start()?;
/// # server.push(Reply::text("Hello there").deltas(2));
/// # let converser = server.converser()?;
/// use bedrock_converse::ConverseRequest;
///
/// let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("Hi");
/// let mut call = converser.spawn(&request)?;
/// let mut text = String::new();
/// loop {
///     // A UI would do this once per frame.
///     while let Ok(event) = call.events().try_recv() {
///         text.push_str(event.text().unwrap_or_default());
///     }
///     if call.try_wait().is_some() {
///         break;
///     }
///     std::thread::sleep(std::time::Duration::from_millis(16));
/// }
/// while let Ok(event) = call.events().try_recv() {
///     text.push_str(event.text().unwrap_or_default());
/// }
/// assert_eq!(call.wait()?.text(), text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping a CallHandle cancels its call"]
pub struct CallHandle {
    events: Receiver<StreamEvent>,
    done: Receiver<Result<Response, Error>>,
    result: Option<Result<Response, Error>>,
    cancel: CancelToken,
    waker: SharedWaker,
    /// Keeps the runtime thread alive while the call may still run.
    _runtime: Arc<Inner>,
}

impl fmt::Debug for CallHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallHandle")
            .field("pending_events", &self.events.len())
            .field("finished", &self.is_finished())
            .field("cancelled", &self.cancel.is_cancelled())
            .finish()
    }
}

impl CallHandle {
    /// The handle of a call whose sink sends to `receivers`, cancelled by
    /// `cancel`, on `runtime`.
    pub(super) fn new(receivers: Receivers, cancel: CancelToken, runtime: Arc<Inner>) -> Self {
        CallHandle {
            events: receivers.events,
            done: receivers.done,
            result: None,
            cancel,
            waker: receivers.waker,
            _runtime: runtime,
        }
    }

    /// The call's events, in wire order: none lost, none duplicated. Use it
    /// with `try_recv` once per frame or in a `crossbeam_channel::select!`.
    /// Every event is sent before the call's result is available, so after
    /// [`try_wait`](CallHandle::try_wait) returns `Some`, draining the channel
    /// yields the rest.
    pub fn events(&self) -> &Receiver<StreamEvent> {
        &self.events
    }

    /// Cancels the call: it ends with [`Error::Cancelled`] holding what had
    /// arrived, and its HTTP stream is dropped. Callable from any thread
    /// through a shared reference.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether the call has ended (its result is ready).
    pub fn is_finished(&self) -> bool {
        self.result.is_some() || !self.done.is_empty()
    }

    fn settle(&mut self, result: Result<Response, Error>) {
        self.waker.disarm();
        self.result = Some(result);
    }

    /// The result, if the call has ended; never blocks. Keeps returning it.
    ///
    /// # Errors
    ///
    /// The call's own error, as for [`Converser::converse_with`](crate::Converser::converse_with), inside the `Some`.
    pub fn try_wait(&mut self) -> Option<&Result<Response, Error>> {
        if self.result.is_none() {
            match self.done.try_recv() {
                Ok(r) => self.settle(r),
                Err(crossbeam_channel::TryRecvError::Empty) => return None,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    self.settle(Err(Error::Shutdown { partial: None }))
                }
            }
        }
        self.result.as_ref()
    }

    /// Waits up to `timeout` for the result.
    ///
    /// # Errors
    ///
    /// As [`try_wait`](CallHandle::try_wait).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<&Result<Response, Error>> {
        if self.result.is_none() {
            match self.done.recv_timeout(timeout) {
                Ok(r) => self.settle(r),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.settle(Err(Error::Shutdown { partial: None }))
                }
            }
        }
        self.result.as_ref()
    }

    /// Blocks until the call ends and returns its [`Response`], equal to what
    /// [`converse_with`](crate::Converser::converse_with) returns for the same
    /// reply. The waker is never called after this returns.
    ///
    /// # Errors
    ///
    /// As [`Converser::converse_with`](crate::Converser::converse_with) (but [`Error::Stopped`] never, and [`Error::Shutdown`] if the runtime thread died).
    pub fn wait(mut self) -> Result<Response, Error> {
        if self.result.is_none() {
            let r = self
                .done
                .recv()
                .unwrap_or(Err(Error::Shutdown { partial: None }));
            self.settle(r);
        }
        self.result
            .take()
            .unwrap_or(Err(Error::Shutdown { partial: None }))
    }
}

impl Drop for CallHandle {
    /// Cancels the call if it is still running, and frees its resources.
    fn drop(&mut self) {
        self.cancel.cancel();
        self.waker.disarm();
    }
}
