//! [`Converser::spawn`] and [`Converser::spawn_with_waker`]: a call in the
//! background, run wholly on the runtime thread, its attempts routed by
//! `attempts`.

#[cfg(doc)]
use super::ConverserBuilder;
use super::{CallHandle, Converser};
use crate::cancel::CancelToken;
use crate::engine;
use crate::error::Error;
use crate::model::ConverseRequest;
use aws_sdk_bedrockruntime::Client;

impl Converser {
    /// Starts a streaming call in the background and returns at once with a
    /// [`CallHandle`] to poll, wait for, or cancel: the building block for GUI
    /// and worker-thread programs. The total
    /// [`timeout`](ConverserBuilder::timeout) and
    /// [`idle_timeout`](ConverserBuilder::idle_timeout) apply as for
    /// [`converse_with`](Converser::converse_with), and so does the request's
    /// [`CancelToken`]. The handle keeps the runtime running: the call goes
    /// on even if this `Converser` is dropped.
    ///
    /// ```no_run
    /// # use bedrock_converse::{Converser, ConverseRequest};
    /// let call = Converser::from_env()?.spawn(&ConverseRequest::new("amazon.nova-lite-v1:0").user("Hi"))?;
    /// println!("{}", call.wait()?.text());
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] (nothing is sent) or [`Error::Shutdown`]
    /// here; the call's own errors come from [`CallHandle::wait`], as
    /// [`converse_with`](Converser::converse_with) returns them (a tool call
    /// whose input breaks the schema of a tool that asked for a check, among
    /// them, is [`Error::InvalidToolInput`]).
    pub fn spawn(&self, request: &ConverseRequest) -> Result<CallHandle, Error> {
        self.spawn_inner(request, None)
    }

    /// Like [`spawn`](Converser::spawn), and calls `waker` after new events
    /// arrive and once more when the call ends, so a GUI can ask for a
    /// repaint (egui's `Context::request_repaint`) instead of polling. The
    /// waker runs on the `Converser`'s runtime thread, so it must be quick and
    /// must not block; it is never called after [`CallHandle::wait`] (or a
    /// `try_wait` that returned `Some`) has returned, nor after the handle is
    /// dropped.
    ///
    /// ```no_run
    /// # use bedrock_converse::{Converser, ConverseRequest};
    /// # let converser = Converser::from_env()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let call = converser.spawn_with_waker(
    ///     &ConverseRequest::new("amazon.nova-lite-v1:0").user("Hi"),
    ///     move || { let _ = tx.send(()); }, // e.g. ctx.request_repaint()
    /// )?;
    /// rx.recv().ok(); // woken: drain call.events()
    /// # drop(call);
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`spawn`](Converser::spawn).
    pub fn spawn_with_waker(
        &self,
        request: &ConverseRequest,
        waker: impl FnMut() + Send + 'static,
    ) -> Result<CallHandle, Error> {
        self.spawn_inner(request, Some(Box::new(waker)))
    }

    fn spawn_inner(
        &self,
        request: &ConverseRequest,
        waker: Option<engine::spawned::Waker>,
    ) -> Result<CallHandle, Error> {
        let parts = request.to_sdk()?;
        #[cfg_attr(not(feature = "schema"), allow(unused_mut))]
        let (attempts, mut on_end) = self.spawn_attempts(request, parts);
        // Tool inputs that asked for a check are checked as the blocking
        // paths check them, before the handle sees the result.
        #[cfg(feature = "schema")]
        let checks = request.tool_config.as_ref();
        #[cfg(feature = "schema")]
        if checks.is_some_and(|c| c.tools().any(|t| t.validate_input)) {
            let request = request.clone();
            let settle = on_end;
            on_end = Box::new(move |result| {
                settle(result);
                let done = std::mem::replace(result, Err(Error::Shutdown { partial: None }));
                *result = request.checked_reply(done);
            });
        }
        let (receivers, sink) = engine::spawned::spawned(waker, Some(on_end));
        let cancel = CancelToken::new();
        let interrupt = engine::interrupt(
            [Some(cancel.clone()), request.cancel_token.clone()],
            self.stream_deadline(),
            // Dropping the handle cancels its token: that is its hold.
            None,
        );
        let fallback = self.inner.fallback.for_spawn(request);
        let idle = Some(self.inner.idle_timeout);
        self.inner
            .runtime
            .submit(Box::new(move |clients: &[Client]| {
                engine::spawned::spawned_task(clients, sink, idle, interrupt, attempts, fallback)
            }))?;
        Ok(CallHandle::new(receivers, cancel, self.inner.clone()))
    }
}
