//! Tool loops: [`Conversation::run_tools`] sends a turn, runs the tools the
//! reply asks for, sends their results back, and so on.

use super::{Conversation, OnFailure};
use crate::client::Converser;
use crate::error::Error;
use crate::model::{Message, Response, ToolResult, ToolUse};
use crate::stream::StreamHandler;

impl Conversation {
    /// Sends `text`, then runs a tool loop: for every call to your tools in
    /// the reply, `run` produces a [`ToolResult`]; the results go back to the
    /// model as the next user turn, and so on until a reply asks for no tools.
    /// Returns that last reply.
    ///
    /// After [`max_tool_rounds`](Conversation::max_tool_rounds) rounds of
    /// tool results, a reply that still asks for tools ends the loop with
    /// [`Error::ToolRoundsExceeded`] (holding that reply). Under
    /// [`OnFailure::RollBack`] any failure undoes the whole exchange; under
    /// [`OnFailure::Keep`] the history keeps every turn so far and, past the
    /// limit, a pending user turn answering the open tool calls with error
    /// results, so that it stays valid.
    ///
    /// ```no_run
    /// use bedrock_converse::{Conversation, Converser};
    /// use bedrock_converse::model::Tool;
    /// use serde_json::json;
    ///
    /// let converser = Converser::from_env()?;
    /// let mut chat = Conversation::new("us.anthropic.claude-haiku-4-5-20251001-v1:0").tool(Tool::new(
    ///     "add",
    ///     "Adds two numbers.",
    ///     json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}),
    /// ));
    /// let reply = chat.run_tools(&converser, "What is 2 + 40?", |call| match call.name.as_str() {
    ///     "add" => {
    ///         let sum = call.input["a"].as_f64().unwrap_or(0.0) + call.input["b"].as_f64().unwrap_or(0.0);
    ///         call.json_result(json!({ "sum": sum }))
    ///     }
    ///     other => call.error_result(format!("no tool named {other}")),
    /// })?;
    /// println!("{}", reply.text());
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ToolRoundsExceeded`] past [`max_tool_rounds`](Conversation::max_tool_rounds); otherwise as [`Converser::converse`] for any round.
    pub fn run_tools<F>(
        &mut self,
        converser: &Converser,
        text: impl Into<String>,
        run: F,
    ) -> Result<Response, Error>
    where
        F: FnMut(&ToolUse) -> ToolResult,
    {
        self.tool_loop(converser, Message::user(text), None, run)
    }

    /// Like [`run_tools`](Conversation::run_tools), with every reply streamed
    /// to `handler`.
    ///
    /// # Errors
    ///
    /// [`Error::ToolRoundsExceeded`] past [`max_tool_rounds`](Conversation::max_tool_rounds); otherwise as [`Converser::converse_with`] for any round.
    pub fn run_tools_with<H, F>(
        &mut self,
        converser: &Converser,
        text: impl Into<String>,
        handler: &mut H,
        run: F,
    ) -> Result<Response, Error>
    where
        H: StreamHandler + ?Sized,
        F: FnMut(&ToolUse) -> ToolResult,
    {
        let mut handler = handler; // `&mut H` is a sized handler, even for an unsized `H`
        self.tool_loop(converser, Message::user(text), Some(&mut handler), run)
    }

    fn tool_loop<F>(
        &mut self,
        converser: &Converser,
        first: Message,
        mut handler: Option<&mut dyn StreamHandler>,
        mut run: F,
    ) -> Result<Response, Error>
    where
        F: FnMut(&ToolUse) -> ToolResult,
    {
        let start = self.checkpoint();
        let mut next = first;
        let mut rounds = 0u32;
        loop {
            let result = match handler.as_mut() {
                Some(h) => self.exchange(converser, next, Some(&mut **h)),
                None => self.exchange(converser, next, None),
            };
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    if self.on_failure == OnFailure::RollBack || e.is_invalid_request() {
                        self.restore(start);
                    }
                    return Err(e);
                }
            };
            let uses = response.tool_uses();
            if uses.is_empty() {
                return Ok(response);
            }
            if rounds >= self.max_tool_rounds {
                match self.on_failure {
                    OnFailure::RollBack => self.restore(start),
                    OnFailure::Keep => {
                        let unanswered = Message::tool_results(uses.iter().map(|u| {
                            u.error_result(format!(
                                "not run: the tool loop stopped after {} rounds",
                                self.max_tool_rounds
                            ))
                        }));
                        self.push_user(unanswered);
                    }
                }
                return Err(Error::ToolRoundsExceeded {
                    max_rounds: self.max_tool_rounds,
                    response: Box::new(response),
                });
            }
            rounds += 1;
            next = Message::tool_results(uses.iter().map(&mut run));
        }
    }
}
