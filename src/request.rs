//! What to send: [`ConverseRequest`] and [`Message`].

use aws_sdk_bedrockruntime::types::{
    self, ContentBlock, ConversationRole, InferenceConfiguration, SystemContentBlock,
};
use aws_smithy_types::Document;
use serde_json::Value;

use crate::cancel::CancelToken;
use crate::document::json_to_document;
use crate::error::Error;

/// The longest model id (or ARN) the API accepts.
const MAX_MODEL_ID_LEN: usize = 2048;

/// One turn of a conversation: a role and its content blocks.
///
/// Content blocks are the SDK's own [`ContentBlock`](crate::types::ContentBlock),
/// so anything the Converse API accepts (images, documents, tool results, …) can
/// be put in a message.
///
/// ```
/// use bedrock_converse::{Message, Role};
///
/// let m = Message::user("Create a list of 3 pop songs.");
/// assert_eq!(m.role, Role::User);
/// assert_eq!(m.text(), "Create a list of 3 pop songs.");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who is speaking.
    pub role: ConversationRole,
    /// What they said, in order.
    pub content: Vec<ContentBlock>,
}

impl Message {
    /// A message with the given role and content blocks.
    pub fn new(role: ConversationRole, content: Vec<ContentBlock>) -> Self {
        Message { role, content }
    }

    /// A user turn holding one text block.
    pub fn user(text: impl Into<String>) -> Self {
        Message::new(
            ConversationRole::User,
            vec![ContentBlock::Text(text.into())],
        )
    }

    /// An assistant turn holding one text block (for replaying history).
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::new(
            ConversationRole::Assistant,
            vec![ContentBlock::Text(text.into())],
        )
    }

    /// Appends a content block and returns the message.
    ///
    /// ```
    /// use bedrock_converse::{Message, types::ContentBlock};
    /// let m = Message::user("first").with(ContentBlock::Text("second".into()));
    /// assert_eq!(m.content.len(), 2);
    /// assert_eq!(m.text(), "firstsecond");
    /// ```
    pub fn with(mut self, block: ContentBlock) -> Self {
        self.content.push(block);
        self
    }

    /// All text blocks of the message, concatenated in order.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn to_sdk(&self, index: usize) -> Result<types::Message, Error> {
        types::Message::builder()
            .role(self.role.clone())
            .set_content(Some(self.content.clone()))
            .build()
            .map_err(|e| Error::invalid(format!("messages[{index}]"), e.to_string()))
    }
}

impl From<types::Message> for Message {
    fn from(m: types::Message) -> Self {
        Message {
            role: m.role,
            content: m.content,
        }
    }
}

impl Default for Message {
    /// An assistant message with no content (the start of a reply).
    fn default() -> Self {
        Message::new(ConversationRole::Assistant, Vec::new())
    }
}

/// Sampling settings: the Converse API's `inferenceConfig`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct InferenceConfig {
    /// The most tokens the model may generate (must be at least 1).
    pub max_tokens: Option<u32>,
    /// Randomness, from 0.0 to 1.0.
    pub temperature: Option<f32>,
    /// Nucleus sampling mass, from 0.0 to 1.0.
    pub top_p: Option<f32>,
    /// Strings that stop generation when produced.
    pub stop_sequences: Vec<String>,
}

impl InferenceConfig {
    fn is_empty(&self) -> bool {
        *self == InferenceConfig::default()
    }

    fn to_sdk(&self) -> Option<InferenceConfiguration> {
        if self.is_empty() {
            return None;
        }
        Some(
            InferenceConfiguration::builder()
                .set_max_tokens(self.max_tokens.map(|m| m.min(i32::MAX as u32) as i32))
                .set_temperature(self.temperature)
                .set_top_p(self.top_p)
                .set_stop_sequences(if self.stop_sequences.is_empty() {
                    None
                } else {
                    Some(self.stop_sequences.clone())
                })
                .build(),
        )
    }
}

/// A request to the Converse or ConverseStream API.
///
/// Build it with [`ConverseRequest::new`] and the chained setters; it is checked
/// by [`validate`](ConverseRequest::validate) before anything is sent, and the
/// same request works for [`Converser::converse`](crate::Converser::converse)
/// and [`Converser::converse_with`](crate::Converser::converse_with).
///
/// ```
/// use bedrock_converse::{ConverseRequest, Message};
/// use serde_json::json;
///
/// let request = ConverseRequest::new("anthropic.claude-3-sonnet-20240229-v1:0")
///     .system("You are an app that creates playlists for a radio station that plays rock and pop music. Only return song names and the artist.")
///     .message(Message::user("Create a list of 3 pop songs."))
///     .temperature(0.5)
///     .additional_model_request_fields(json!({"top_k": 200}));
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConverseRequest {
    /// The model id, inference profile id or ARN.
    pub model_id: String,
    /// The conversation so far; it must start with a user turn.
    pub messages: Vec<Message>,
    /// System prompts.
    pub system: Vec<SystemContentBlock>,
    /// Sampling settings.
    pub inference_config: InferenceConfig,
    /// Model-specific parameters the Converse API does not model (a JSON object),
    /// e.g. `{"top_k": 200}` for Anthropic models.
    pub additional_model_request_fields: Option<Value>,
    /// Cancels the call from another thread when cancelled (not sent to the
    /// service).
    pub cancel_token: Option<CancelToken>,
}

impl ConverseRequest {
    /// A request for the given model with no messages yet.
    pub fn new(model_id: impl Into<String>) -> Self {
        ConverseRequest {
            model_id: model_id.into(),
            ..Default::default()
        }
    }

    /// Appends a message.
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// Appends several messages.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Self {
        self.messages.extend(messages);
        self
    }

    /// Appends a user turn with one text block.
    pub fn user(self, text: impl Into<String>) -> Self {
        self.message(Message::user(text))
    }

    /// Appends an assistant turn with one text block.
    pub fn assistant(self, text: impl Into<String>) -> Self {
        self.message(Message::assistant(text))
    }

    /// Appends a text system prompt.
    pub fn system(self, text: impl Into<String>) -> Self {
        self.system_block(SystemContentBlock::Text(text.into()))
    }

    /// Appends any system content block (for instance a cache point).
    pub fn system_block(mut self, block: SystemContentBlock) -> Self {
        self.system.push(block);
        self
    }

    /// Sets all sampling settings at once.
    pub fn inference_config(mut self, config: InferenceConfig) -> Self {
        self.inference_config = config;
        self
    }

    /// The most tokens to generate (at least 1).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.inference_config.max_tokens = Some(max_tokens);
        self
    }

    /// Sampling temperature, 0.0 to 1.0.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.inference_config.temperature = Some(temperature);
        self
    }

    /// Nucleus sampling mass, 0.0 to 1.0.
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.inference_config.top_p = Some(top_p);
        self
    }

    /// Adds a stop sequence.
    pub fn stop_sequence(mut self, stop: impl Into<String>) -> Self {
        self.inference_config.stop_sequences.push(stop.into());
        self
    }

    /// Model-specific parameters as a JSON object, sent as
    /// `additionalModelRequestFields` exactly (integers stay integers).
    pub fn additional_model_request_fields(mut self, fields: Value) -> Self {
        self.additional_model_request_fields = Some(fields);
        self
    }

    /// Lets another thread cancel calls made with this request (a GUI's Cancel
    /// button): the call returns [`Error::Cancelled`] promptly with what had
    /// arrived, and the HTTP stream is dropped.
    ///
    /// ```
    /// use bedrock_converse::{CancelToken, ConverseRequest};
    /// let token = CancelToken::new();
    /// let request = ConverseRequest::new("m").user("hi").cancel_token(token.clone());
    /// // later, from any thread: token.cancel();
    /// # let _ = request;
    /// ```
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel_token = Some(token);
        self
    }

    /// Checks the request the way the service would, so that a bad request
    /// fails fast with [`Error::InvalidRequest`] naming the field, and nothing is
    /// sent. Both `converse` and `converse_with` call this first.
    ///
    /// ```
    /// use bedrock_converse::{ConverseRequest, Error};
    /// let err = ConverseRequest::new("m").user("hi").temperature(1.5).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "temperature"));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        let model = self.model_id.trim();
        if model.is_empty() {
            return Err(Error::invalid("model_id", "is empty"));
        }
        if self.model_id.len() > MAX_MODEL_ID_LEN {
            return Err(Error::invalid(
                "model_id",
                format!("is longer than {MAX_MODEL_ID_LEN} bytes"),
            ));
        }
        if model != self.model_id {
            return Err(Error::invalid(
                "model_id",
                "has leading or trailing whitespace",
            ));
        }
        if self.messages.is_empty() {
            return Err(Error::invalid(
                "messages",
                "is empty: add at least one user message",
            ));
        }
        let mut previous: Option<&ConversationRole> = None;
        for (i, m) in self.messages.iter().enumerate() {
            match (&m.role, previous) {
                (ConversationRole::User, _) | (ConversationRole::Assistant, Some(_)) => {}
                (ConversationRole::Assistant, None) => {
                    return Err(Error::invalid(
                        "messages[0].role",
                        "must be `user`: a conversation starts with a user turn",
                    ))
                }
                (other, _) => {
                    return Err(Error::invalid(
                        format!("messages[{i}].role"),
                        format!(
                            "is `{}`: only `user` and `assistant` are allowed",
                            other.as_str()
                        ),
                    ))
                }
            }
            if previous == Some(&m.role) {
                return Err(Error::invalid(
                    format!("messages[{i}].role"),
                    format!(
                        "repeats `{}`: user and assistant turns must alternate",
                        m.role.as_str()
                    ),
                ));
            }
            if m.content.is_empty() {
                return Err(Error::invalid(format!("messages[{i}].content"), "is empty"));
            }
            previous = Some(&m.role);
        }
        for (i, block) in self.system.iter().enumerate() {
            if let SystemContentBlock::Text(t) = block {
                if t.is_empty() {
                    return Err(Error::invalid(format!("system[{i}]"), "is an empty text"));
                }
            }
        }
        let ic = &self.inference_config;
        if ic.max_tokens == Some(0) {
            return Err(Error::invalid("max_tokens", "must be at least 1"));
        }
        if let Some(t) = ic.temperature {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::invalid(
                    "temperature",
                    format!("is {t}: it must be between 0.0 and 1.0"),
                ));
            }
        }
        if let Some(p) = ic.top_p {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid(
                    "top_p",
                    format!("is {p}: it must be between 0.0 and 1.0"),
                ));
            }
        }
        for (i, s) in ic.stop_sequences.iter().enumerate() {
            if s.is_empty() {
                return Err(Error::invalid(format!("stop_sequences[{i}]"), "is empty"));
            }
        }
        if let Some(fields) = &self.additional_model_request_fields {
            if !fields.is_object() {
                return Err(Error::invalid(
                    "additional_model_request_fields",
                    "must be a JSON object",
                ));
            }
        }
        Ok(())
    }

    /// Validates, then converts to the SDK's input pieces.
    pub(crate) fn to_sdk(&self) -> Result<SdkParts, Error> {
        self.validate()?;
        let messages = self
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| m.to_sdk(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SdkParts {
            model_id: self.model_id.clone(),
            messages,
            system: if self.system.is_empty() {
                None
            } else {
                Some(self.system.clone())
            },
            inference_config: self.inference_config.to_sdk(),
            additional_model_request_fields: self
                .additional_model_request_fields
                .as_ref()
                .map(json_to_document),
        })
    }
}

/// A validated request in the SDK's types, ready for either operation's builder.
pub(crate) struct SdkParts {
    pub(crate) model_id: String,
    pub(crate) messages: Vec<types::Message>,
    pub(crate) system: Option<Vec<SystemContentBlock>>,
    pub(crate) inference_config: Option<InferenceConfiguration>,
    pub(crate) additional_model_request_fields: Option<Document>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(r: &ConverseRequest) -> String {
        match r.validate() {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        let ok = ConverseRequest::new("m").user("hi");
        assert!(ok.validate().is_ok());
        assert_eq!(field(&ConverseRequest::new("").user("hi")), "model_id");
        assert_eq!(field(&ConverseRequest::new(" m").user("hi")), "model_id");
        assert_eq!(field(&ConverseRequest::new("m")), "messages");
        assert_eq!(
            field(&ConverseRequest::new("m").assistant("hi")),
            "messages[0].role"
        );
        assert_eq!(
            field(&ConverseRequest::new("m").user("a").user("b")),
            "messages[1].role"
        );
        assert_eq!(
            field(&ConverseRequest::new("m").message(Message::new(ConversationRole::User, vec![]))),
            "messages[0].content"
        );
        assert_eq!(field(&ok.clone().temperature(1.01)), "temperature");
        assert_eq!(field(&ok.clone().temperature(-0.1)), "temperature");
        assert_eq!(field(&ok.clone().temperature(f32::NAN)), "temperature");
        assert_eq!(field(&ok.clone().top_p(2.0)), "top_p");
        assert_eq!(field(&ok.clone().max_tokens(0)), "max_tokens");
        assert_eq!(field(&ok.clone().stop_sequence("")), "stop_sequences[0]");
        assert_eq!(field(&ok.clone().system("")), "system[0]");
        assert_eq!(
            field(&ok.clone().additional_model_request_fields(json!([1]))),
            "additional_model_request_fields"
        );
        assert!(ok
            .clone()
            .temperature(0.0)
            .temperature(1.0)
            .validate()
            .is_ok());
    }

    #[test]
    fn sdk_parts_omit_empty_sections() {
        let p = ConverseRequest::new("m").user("hi").to_sdk().unwrap();
        assert!(p.system.is_none());
        assert!(p.inference_config.is_none());
        assert!(p.additional_model_request_fields.is_none());
        assert_eq!(p.messages.len(), 1);
    }
}
