//! Typed replies in a conversation: [`Conversation::extract`].

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::Conversation;
use crate::client::{Converser, Extract, ExtractMode, ExtractOptions, Extracted};
use crate::error::Error;
use crate::model::{Message, Response};
use crate::stream::StreamHandler;

impl Conversation {
    /// The options of every [`extract`](Conversation::extract): mode,
    /// re-asks, name, description, strictness, and what to do with keywords
    /// the service's grammar cannot hold (see [`ExtractOptions`]; its
    /// defaults unless set).
    ///
    /// ```
    /// use bedrock_converse::client::{ExtractMode, ExtractOptions};
    /// use bedrock_converse::model::schema::Unsupported;
    /// use bedrock_converse::Conversation;
    ///
    /// let chat = Conversation::new("us.anthropic.claude-haiku-4-5-20251001-v1:0").extract_options(
    ///     ExtractOptions::new()
    ///         .mode(ExtractMode::Tool)
    ///         .name("review")
    ///         .retries(1)
    ///         .unsupported(Unsupported::Refuse),
    /// );
    /// # let _ = chat;
    /// ```
    pub fn extract_options(mut self, options: ExtractOptions) -> Self {
        self.extract = options;
        self
    }

    /// Sends a user turn and reads the reply as `T`, as
    /// [`Converser::extract`] does. On success the history holds the user
    /// turn and the reply as JSON text (in tool mode too, so that later turns
    /// need no tool configuration); re-asks in between are not kept. A
    /// failure, [`Error::InvalidOutput`] included (a reply that breaks the
    /// type's schema after every re-ask), is handled as for
    /// [`send`](Conversation::send): rolled back by default
    /// ([`OnFailure`](crate::conversation::OnFailure)).
    ///
    /// ```
    /// # use bedrock_converse_mock::{MockServer, Reply};
    /// # let server = MockServer::start()?;
    /// # server.push(Reply::text(r#"{"answer": 7}"#));
    /// # let converser = server.converser()?;
    /// use bedrock_converse::Conversation;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Answer { answer: i64 }
    ///
    /// let mut chat = Conversation::new("anthropic.claude-haiku-4-5-20251001-v1:0");
    /// let reply = chat.extract::<Answer>(&converser, "3 + 4?")?;
    /// assert_eq!(reply.value.answer, 7);
    /// assert_eq!(chat.history()[1].text(), r#"{"answer": 7}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Converser::extract`].
    pub fn extract<T: DeserializeOwned + JsonSchema>(
        &mut self,
        converser: &Converser,
        text: impl Into<String>,
    ) -> Result<Extracted<T>, Error> {
        self.extract_inner(converser, Message::user(text), None)
    }

    /// [`extract`](Conversation::extract), streamed to `handler`.
    ///
    /// # Errors
    ///
    /// As [`Converser::extract_with`].
    pub fn extract_with<T: DeserializeOwned + JsonSchema, H: StreamHandler + ?Sized>(
        &mut self,
        converser: &Converser,
        text: impl Into<String>,
        handler: &mut H,
    ) -> Result<Extracted<T>, Error> {
        let mut handler = handler; // `&mut H` is a sized handler, even for an unsized `H`
        self.extract_inner(converser, Message::user(text), Some(&mut handler))
    }

    fn extract_inner<T: DeserializeOwned + JsonSchema>(
        &mut self,
        converser: &Converser,
        message: Message,
        handler: Option<&mut dyn StreamHandler>,
    ) -> Result<Extracted<T>, Error> {
        let checkpoint = self.checkpoint();
        self.push_user(message);
        let options = self.extract.clone();
        let extract = Extract::new(&self.request, options.clone());
        let result = match handler {
            Some(h) => converser.extract_with(extract, h),
            None => converser.extract(extract),
        };
        match result {
            Ok(extracted) => {
                // Each attempt priced at the model that answered it.
                self.spend
                    .count_priced(extracted.response.usage, extracted.cost);
                let reply = reply_turn(&options, &extracted.response);
                self.request.messages.push(reply);
                Ok(extracted)
            }
            Err(e) => Err(self.failed(e, checkpoint)),
        }
    }
}

/// The assistant turn kept for a read reply: its JSON as text.
fn reply_turn(options: &ExtractOptions, response: &Response) -> Message {
    let json = match options.mode {
        ExtractMode::Tool => response
            .tool_uses()
            .into_iter()
            .find(|u| u.name == options.tool_name())
            .map(|u| u.input.to_string()),
        _ => None,
    };
    Message::assistant(json.unwrap_or_else(|| response.text()))
}
