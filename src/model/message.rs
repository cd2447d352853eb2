//! One turn of a conversation, [`Message`], and the prompt cache marker,
//! [`CachePoint`].

use aws_sdk_bedrockruntime::types::{self, ContentBlock, ConversationRole};

use super::cache::CachePoint;

use super::tools::{ToolResult, ToolUse};
use crate::sdk::json::document_to_json;

/// One turn of a conversation: a role and its content blocks.
///
/// Content blocks are the SDK's own [`ContentBlock`](crate::types::ContentBlock),
/// so anything the Converse API accepts can be put in a message; [`Image`](crate::model::Image),
/// [`Document`](crate::model::Document), [`Audio`](crate::model::Audio),
/// [`Video`](crate::model::Video), [`SearchResult`](crate::model::SearchResult),
/// [`ToolResult`](crate::model::ToolResult) and [`CachePoint`] convert into
/// one with [`Message::with`].
///
/// ```
/// use bedrock_converse::Message;
/// use bedrock_converse::model::Role;
///
/// let m = Message::user("Create a list of 3 pop songs.");
/// assert_eq!(m.role, Role::User);
/// assert_eq!(m.text(), "Create a list of 3 pop songs.");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
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

    /// A user turn answering tool calls, one `toolResult` block per result.
    pub fn tool_results(results: impl IntoIterator<Item = ToolResult>) -> Self {
        Message::new(
            ConversationRole::User,
            results.into_iter().map(ContentBlock::from).collect(),
        )
    }

    /// Appends a content block (or anything that converts into one: an
    /// [`Image`](crate::model::Image), a [`Document`](crate::model::Document), an
    /// [`Audio`](crate::model::Audio) clip, a [`Video`](crate::model::Video), a
    /// [`SearchResult`](crate::model::SearchResult), a [`ToolResult`], a
    /// [`CachePoint`]) and returns the message.
    ///
    /// ```
    /// use bedrock_converse::{Message, types::ContentBlock};
    /// let m = Message::user("first").with(ContentBlock::Text("second".into()));
    /// assert_eq!(m.content.len(), 2);
    /// assert_eq!(m.text(), "firstsecond");
    /// ```
    pub fn with(mut self, block: impl Into<ContentBlock>) -> Self {
        self.content.push(block.into());
        self
    }

    /// Appends a prompt cache point: the conversation up to here is cached
    /// (for models that support prompt caching).
    pub fn with_cache_point(self) -> Self {
        self.with(CachePoint::new())
    }

    /// All text of the message, concatenated in order: text blocks and the
    /// text of cited ([`CitationsContent`](ContentBlock::CitationsContent)) blocks.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for b in &self.content {
            match b {
                ContentBlock::Text(t) => out.push_str(t),
                ContentBlock::CitationsContent(c) => {
                    for piece in c.content() {
                        if let types::CitationGeneratedContent::Text(t) = piece {
                            out.push_str(t);
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The calls to your tools in this message, in order. Tools the service
    /// ran itself (`type: server_tool_use`) are left out: their results are
    /// already in the reply.
    pub fn tool_uses(&self) -> Vec<ToolUse> {
        self.content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::ToolUse(t) if t.r#type.is_none() => Some(ToolUse::new(
                    &t.tool_use_id,
                    &t.name,
                    document_to_json(&t.input),
                )),
                _ => None,
            })
            .collect()
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
