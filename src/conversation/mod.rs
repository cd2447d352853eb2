//! Multi-turn conversations ([`Conversation`]) and tool loops
//! ([`Conversation::run_tools`]).

use aws_sdk_bedrockruntime::types::ConversationRole;

use crate::cancel::CancelToken;
use crate::client::Converser;
use crate::error::Error;
use crate::model::{ConverseRequest, InferenceConfig, Message, Response, Tool, ToolConfig};
use crate::stream::StreamHandler;

#[cfg(feature = "schema")]
mod extract;
mod repair;
mod spend;
mod tools;

/// The default for [`Conversation::max_tool_rounds`].
pub const DEFAULT_MAX_TOOL_ROUNDS: u32 = 10;

/// What a [`Conversation`] does with its history when a call fails.
///
/// Either way the history stays valid: user and assistant turns alternate,
/// and every tool call in it is answered or about to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnFailure {
    /// Undo the failed exchange: the history is exactly what it was before
    /// the call (the default).
    #[default]
    RollBack,
    /// Keep what was sent: the history ends with the user turn that got no
    /// reply, and the conversation is [pending](Conversation::is_pending).
    /// [`retry`](Conversation::retry) sends it again as it is; a new
    /// [`send`](Conversation::send) adds its text to that same user turn.
    ///
    /// A request refused before sending ([`Error::InvalidRequest`]) is always
    /// rolled back, since sending it again cannot succeed.
    Keep,
}

/// Where the history stood before an exchange, to undo it.
#[derive(Debug, Clone, Copy)]
struct Checkpoint {
    messages: usize,
    /// The length of the last message's content, if it was a pending user turn.
    pending_content: Option<usize>,
}

/// A conversation: the model, system prompts, inference settings, tools (and
/// any other request setting) plus the history of turns, sent again with
/// each new turn.
///
/// [`send`](Conversation::send) (whole replies) and
/// [`send_with`](Conversation::send_with) (streamed) append the user turn and
/// the assistant's reply. What happens to the history when a call fails is an
/// explicit choice, [`OnFailure`]; by default the failed turn is rolled back.
///
/// ```no_run
/// use bedrock_converse::{Conversation, Converser};
/// use bedrock_converse::stream::NoopHandler;
///
/// let converser = Converser::from_env()?;
/// let mut chat = Conversation::new("us.anthropic.claude-haiku-4-5-20251001-v1:0")
///     .system("You are a terse assistant.")
///     .max_tokens(512);
/// let reply = chat.send(&converser, "Name a prime number.")?;
/// println!("{}", reply.text());
/// let reply = chat.send_with(&converser, "And the next one?", &mut NoopHandler)?;
/// println!("{}", reply.text());
/// assert_eq!(chat.history().len(), 4);
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Conversation {
    /// The settings, and in `messages` the history.
    request: ConverseRequest,
    on_failure: OnFailure,
    max_tool_rounds: u32,
    /// The last tool configuration sent, kept while the history holds tool
    /// blocks (the service refuses them without one).
    kept_tool_config: Option<ToolConfig>,
    /// How [`extract`](Conversation::extract) asks, and how often it re-asks.
    #[cfg(feature = "schema")]
    extract: crate::client::ExtractOptions,
    /// Usage and cost of the replies so far.
    spend: spend::Spend,
}

impl Conversation {
    /// A conversation with the given model and no history.
    pub fn new(model_id: impl Into<String>) -> Self {
        Conversation::from_request(ConverseRequest::new(model_id))
    }

    /// A conversation with every setting of `request` (tools, guardrail,
    /// caching, …); its messages, if any, become the history.
    pub fn from_request(request: ConverseRequest) -> Self {
        Conversation {
            request,
            on_failure: OnFailure::default(),
            max_tool_rounds: DEFAULT_MAX_TOOL_ROUNDS,
            kept_tool_config: None,
            #[cfg(feature = "schema")]
            extract: Default::default(),
            spend: spend::Spend::default(),
        }
    }

    /// Appends a text system prompt.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.request = self.request.system(text);
        self
    }

    /// Sets the sampling settings.
    pub fn inference_config(mut self, config: InferenceConfig) -> Self {
        self.request = self.request.inference_config(config);
        self
    }

    /// The most tokens to generate per reply.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.request = self.request.max_tokens(max_tokens);
        self
    }

    /// Sampling temperature, 0.0 to 1.0.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.request = self.request.temperature(temperature);
        self
    }

    /// Adds a tool the model may call.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.request = self.request.tool(tool);
        self
    }

    /// Sets the tool configuration.
    pub fn tool_config(mut self, config: ToolConfig) -> Self {
        self.request = self.request.tool_config(config);
        self
    }

    /// What to do with the history when a call fails (default: roll back).
    pub fn on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// The most tool rounds [`run_tools`](Conversation::run_tools) runs
    /// before it gives up (default [`DEFAULT_MAX_TOOL_ROUNDS`]).
    pub fn max_tool_rounds(mut self, rounds: u32) -> Self {
        self.max_tool_rounds = rounds;
        self
    }

    /// The turns so far.
    pub fn history(&self) -> &[Message] {
        &self.request.messages
    }

    /// The request the next call starts from: every setting, and the history
    /// as its messages.
    pub fn request(&self) -> &ConverseRequest {
        &self.request
    }

    /// The request, to change a setting (or the history) between turns.
    pub fn request_mut(&mut self) -> &mut ConverseRequest {
        &mut self.request
    }

    /// Forgets the history; the settings stay.
    pub fn reset(&mut self) {
        self.request.messages.clear();
    }

    /// Cancels the conversation's turns with `token` (as
    /// [`ConverseRequest::cancel_token`]): hand a clone to a Cancel button. A
    /// cancelled turn ends with [`Error::Cancelled`], and since a token stays
    /// cancelled the conversation then takes a fresh one, so the turn after
    /// runs normally: [`turn_cancel_token`](Conversation::turn_cancel_token)
    /// returns it.
    ///
    /// ```
    /// use bedrock_converse::{CancelToken, Conversation};
    ///
    /// let token = CancelToken::new();
    /// let mut chat = Conversation::new("amazon.nova-lite-v1:0").cancel_token(token.clone());
    /// assert_eq!(chat.turn_cancel_token(), token);
    /// ```
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.request.cancel_token = Some(token);
        self
    }

    /// The token that cancels the next (or the running) turn, from any
    /// thread: the one set with [`cancel_token`](Conversation::cancel_token),
    /// or one made now and kept. After a cancelled turn it is a fresh one:
    /// take a new clone for each turn.
    ///
    /// ```
    /// use bedrock_converse::Conversation;
    ///
    /// let mut chat = Conversation::new("amazon.nova-lite-v1:0");
    /// let token = chat.turn_cancel_token();
    /// assert_eq!(chat.turn_cancel_token(), token); // the same until a turn is cancelled
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn turn_cancel_token(&mut self) -> CancelToken {
        self.request
            .cancel_token
            .get_or_insert_with(CancelToken::new)
            .clone()
    }

    /// Whether the history ends with a user turn that has no reply yet (after
    /// a failure under [`OnFailure::Keep`], or a reply with no content).
    pub fn is_pending(&self) -> bool {
        self.request
            .messages
            .last()
            .is_some_and(|m| m.role == ConversationRole::User)
    }

    /// Sends a user turn and waits for the whole reply
    /// ([`Converser::converse`]); on success both turns are in the history.
    ///
    /// # Errors
    ///
    /// As [`Converser::converse`]; also [`Error::InvalidRequest`] if the turn cannot be added. On failure the turn is rolled back (or kept, under [`OnFailure::Keep`]).
    pub fn send(
        &mut self,
        converser: &Converser,
        text: impl Into<String>,
    ) -> Result<Response, Error> {
        self.send_message(converser, Message::user(text))
    }

    /// Sends a user turn and streams the reply to `handler`
    /// ([`Converser::converse_with`]); on success both turns are in the history.
    ///
    /// # Errors
    ///
    /// As [`Converser::converse_with`]; on failure the turn is rolled back (or kept, under [`OnFailure::Keep`]).
    pub fn send_with<H: StreamHandler + ?Sized>(
        &mut self,
        converser: &Converser,
        text: impl Into<String>,
        handler: &mut H,
    ) -> Result<Response, Error> {
        self.send_message_with(converser, Message::user(text), handler)
    }

    /// Sends a user turn with any content (images, documents, tool results, …).
    /// Its role must be `user`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] if `message` is not a user turn; otherwise as [`Converser::converse`].
    pub fn send_message(
        &mut self,
        converser: &Converser,
        message: Message,
    ) -> Result<Response, Error> {
        self.exchange(converser, message, None)
    }

    /// Streams the reply to a user turn with any content.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] if `message` is not a user turn; otherwise as [`Converser::converse_with`].
    pub fn send_message_with<H: StreamHandler + ?Sized>(
        &mut self,
        converser: &Converser,
        message: Message,
        handler: &mut H,
    ) -> Result<Response, Error> {
        let mut handler = handler; // `&mut H` is a sized handler, even for an unsized `H`
        self.exchange(converser, message, Some(&mut handler))
    }

    /// Sends the history as it is, for a pending conversation (see
    /// [`OnFailure::Keep`]); fails with [`Error::InvalidRequest`] if the last
    /// turn is not a user turn.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] if the last turn is not a user turn; otherwise as [`Converser::converse`].
    pub fn retry(&mut self, converser: &Converser) -> Result<Response, Error> {
        self.retry_inner(converser, None)
    }

    /// Like [`retry`](Conversation::retry), streamed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] if the last turn is not a user turn; otherwise as [`Converser::converse_with`].
    pub fn retry_with<H: StreamHandler + ?Sized>(
        &mut self,
        converser: &Converser,
        handler: &mut H,
    ) -> Result<Response, Error> {
        let mut handler = handler; // `&mut H` is a sized handler, even for an unsized `H`
        self.retry_inner(converser, Some(&mut handler))
    }

    fn retry_inner(
        &mut self,
        converser: &Converser,
        handler: Option<&mut dyn StreamHandler>,
    ) -> Result<Response, Error> {
        if !self.is_pending() {
            return Err(Error::invalid(
                "messages",
                "do not end with a user turn: there is nothing to retry",
            ));
        }
        self.repair();
        let checkpoint = self.checkpoint();
        self.call(converser, handler, checkpoint)
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            messages: self.request.messages.len(),
            pending_content: self
                .request
                .messages
                .last()
                .filter(|m| m.role == ConversationRole::User)
                .map(|m| m.content.len()),
        }
    }

    fn restore(&mut self, at: Checkpoint) {
        self.request.messages.truncate(at.messages);
        if let (Some(len), Some(last)) = (at.pending_content, self.request.messages.last_mut()) {
            last.content.truncate(len);
        }
    }

    /// Appends a user turn, merged into a pending one so turns alternate;
    /// an error tool result without content gets text.
    fn push_user(&mut self, mut message: Message) {
        repair::fill_error_results(&mut message);
        match self.request.messages.last_mut() {
            Some(last) if last.role == ConversationRole::User => {
                last.content.extend(message.content)
            }
            _ => self.request.messages.push(message),
        }
    }

    fn exchange(
        &mut self,
        converser: &Converser,
        message: Message,
        handler: Option<&mut dyn StreamHandler>,
    ) -> Result<Response, Error> {
        if message.role != ConversationRole::User {
            return Err(Error::invalid(
                "message.role",
                format!(
                    "is `{}`: a conversation sends user turns",
                    message.role.as_str()
                ),
            ));
        }
        self.repair();
        let checkpoint = self.checkpoint();
        self.push_user(message);
        self.call(converser, handler, checkpoint)
    }

    /// Sends the history; appends the reply, or handles the failure.
    fn call(
        &mut self,
        converser: &Converser,
        handler: Option<&mut dyn StreamHandler>,
        checkpoint: Checkpoint,
    ) -> Result<Response, Error> {
        let result = match handler {
            Some(h) => converser.converse_with(&self.request, h),
            None => converser.converse(&self.request),
        };
        match result {
            Ok(response) => {
                self.spend.count(&self.request.model_id, &response);
                // A reply with no content (blank text aside) cannot be sent
                // back as a turn; the user turn then stays pending.
                let content = repair::storable(&response.message.content);
                if !content.is_empty() {
                    self.request
                        .messages
                        .push(Message::new(ConversationRole::Assistant, content));
                }
                Ok(response)
            }
            Err(e) => Err(self.failed(e, checkpoint)),
        }
    }

    /// Handles a failed exchange: rolls back as [`OnFailure`] says, and
    /// renews a cancelled token.
    fn failed(&mut self, e: Error, checkpoint: Checkpoint) -> Error {
        if self.on_failure == OnFailure::RollBack || e.is_invalid_request() {
            self.restore(checkpoint);
        }
        // A cancel ends the turn it was meant for, not the
        // conversation: the next turn gets a fresh token.
        if self
            .request
            .cancel_token
            .as_ref()
            .is_some_and(CancelToken::is_cancelled)
        {
            self.request.cancel_token = Some(CancelToken::new());
        }
        e
    }
}

impl From<ConverseRequest> for Conversation {
    fn from(request: ConverseRequest) -> Self {
        Conversation::from_request(request)
    }
}
