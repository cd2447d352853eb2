//! [`Converser::count_tokens`]: the CountTokens operation, blocking.

use std::time::Instant;

use aws_sdk_bedrockruntime::Client;

use super::{Converser, DEFAULT_CONVERSE_TIMEOUT};
use crate::engine;
use crate::error::Error;
use crate::model::ConverseRequest;

impl Converser {
    /// How many input tokens `request` would use, from the CountTokens
    /// operation (`POST /model/{modelId}/count-tokens`), which runs no model
    /// and is not billed. Its messages, system prompts, tools and
    /// additional model fields are counted; inference and output settings do
    /// not change the count and are not sent. The request is
    /// [validated](ConverseRequest::validate) first, and the client's
    /// [`timeout`](crate::ConverserBuilder::timeout) (else
    /// [`DEFAULT_CONVERSE_TIMEOUT`]) and the request's
    /// [`CancelToken`](crate::CancelToken) apply. It does not go through the
    /// [quota limiter](crate::ConverserBuilder::quota).
    ///
    /// Not every model supports counting: others answer with
    /// [`Error::Service`] (a `ValidationException`).
    ///
    /// ```
    /// # use bedrock_converse_mock::MockServer;
    /// # let server = MockServer::start()?;
    /// # let converser = server.converser()?;
    /// use bedrock_converse::ConverseRequest;
    /// let request = ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
    ///     .user("Create a list of 3 pop songs.");
    /// let tokens = converser.count_tokens(&request)?;
    /// assert!(tokens > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] (nothing is sent), [`Error::Service`] (e.g.
    /// a model that cannot count), [`Error::Connect`], [`Error::Timeout`],
    /// [`Error::Cancelled`], [`Error::WouldDeadlock`] (called on the runtime
    /// thread) or [`Error::Shutdown`].
    pub fn count_tokens(&self, request: &ConverseRequest) -> Result<u32, Error> {
        let parts = self.prepare("count_tokens", request)?;
        let deadline = Instant::now() + self.inner.timeout.unwrap_or(DEFAULT_CONVERSE_TIMEOUT);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (_listening, interrupt) = self.interrupt(request, Some(deadline));
        self.inner
            .runtime
            .submit(Box::new(move |clients: &[Client]| {
                let send = Box::pin(crate::sdk::count_tokens(&clients[0], parts));
                engine::reply_task(send, tx, interrupt)
            }))?;
        // The task alone ends the call (a cancel, the deadline): this thread
        // only waits for its outcome.
        rx.recv().unwrap_or(Err(Error::Shutdown { partial: None }))
    }
}
