//! Keeping a conversation's history one the model accepts: consecutive turns
//! of one role merged where the model needs alternation, no blank text in a
//! stored reply, an error tool result always with text, and the tool
//! configuration kept while the history holds tool blocks (the service's
//! rules, [`crate::model::rules`]).

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ToolResultContentBlock, ToolResultStatus,
};

use super::Conversation;
use crate::model::catalogue::Catalogue;
use crate::model::Message;

/// The text an error tool result gets when it has none: the service refuses
/// an error result without content.
pub(super) const NO_ERROR_TEXT: &str = "The tool failed and gave no message.";

/// Gives every error tool result in `message` some text.
pub(super) fn fill_error_results(message: &mut Message) {
    for block in &mut message.content {
        if let ContentBlock::ToolResult(r) = block {
            if r.status == Some(ToolResultStatus::Error) && r.content.is_empty() {
                r.content
                    .push(ToolResultContentBlock::Text(NO_ERROR_TEXT.into()));
            }
        }
    }
}

/// A reply's content as it can be sent back: without blank text blocks,
/// which the service refuses in a request.
pub(super) fn storable(content: &[ContentBlock]) -> Vec<ContentBlock> {
    content
        .iter()
        .filter(|b| !matches!(b, ContentBlock::Text(t) if t.trim().is_empty()))
        .cloned()
        .collect()
}

fn has_tool_blocks(messages: &[Message]) -> bool {
    messages
        .iter()
        .flat_map(|m| &m.content)
        .any(|b| matches!(b, ContentBlock::ToolUse(_) | ContentBlock::ToolResult(_)))
}

impl Conversation {
    /// Repairs the history before it is sent (see the module documentation).
    pub(super) fn repair(&mut self) {
        let messages = &mut self.request.messages;
        messages.iter_mut().for_each(fill_error_results);
        // Merging is what every model accepts; only a family known to take
        // consecutive turns of one role keeps them apart.
        let merge = Catalogue::current().needs_alternation(&self.request.model_id) != Some(false);
        if merge {
            let mut merged: Vec<Message> = Vec::with_capacity(messages.len());
            for m in messages.drain(..) {
                match merged.last_mut() {
                    Some(last) if last.role == m.role && m.role != ConversationRole::System => {
                        last.content.extend(m.content)
                    }
                    _ => merged.push(m),
                }
            }
            *messages = merged;
        }
        match &self.request.tool_config {
            Some(config) => self.kept_tool_config = Some(config.clone()),
            None if has_tool_blocks(&self.request.messages) => {
                self.request.tool_config = self.kept_tool_config.clone();
            }
            None => {}
        }
    }
}
