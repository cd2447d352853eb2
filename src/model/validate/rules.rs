//! The service's rules for a Converse request, as one table ([`RULES`]),
//! with the service's own status, error type and message for each, and one
//! check ([`check`]) over a neutral view of a request ([`Shape`]).
//!
//! The client checks a request with it before sending
//! ([`ConverseRequest::validate`](crate::ConverseRequest::validate)), and
//! the bundled server (`bedrock-local`) answers with it as the service does,
//! so the two cannot drift apart. Per-model rules come from the
//! [catalogue](crate::model::catalogue): where a model family's behaviour is
//! not known, nothing is refused.
//!
//! ```
//! use bedrock_converse::model::catalogue::Catalogue;
//! use bedrock_converse::model::rules::{check, Block, Call, Rule, Shape, Turn};
//!
//! let mut shape = Shape::new("us.anthropic.claude-haiku-4-5-20251001-v1:0");
//! shape.turns.push(Turn::new("user", vec![Block::Text("Hi")]));
//! shape.turns.push(Turn::new("user", vec![Block::Text("Still there?")]));
//! let refusal = check(&shape, &Catalogue::bundled(), Call::Client).unwrap_err();
//! assert_eq!(refusal.rule, Rule::Alternation);
//! assert_eq!(refusal.field, "messages[1].role");
//! assert!(refusal.message.starts_with("A conversation must alternate between user and assistant roles."));
//! ```

use super::super::catalogue::{Capability, Catalogue, Status};

/// The error type of the service's validation errors, as it sends it in
/// `x-amzn-ErrorType` (the recordings in `model_ids__*.json` show the suffix).
pub const VALIDATION: &str =
    "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/";
/// The error type of a retired model's refusal, as recorded.
pub const NOT_FOUND: &str =
    "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.bedrock/";

/// One rule of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The model id names no model (server side only: the client never
    /// refuses a model it does not know).
    UnknownModel,
    /// The model has reached its end of life (server side only).
    EndOfLife,
    /// The model is called on demand by its bare id, but is served only
    /// through an inference profile (server side only).
    ProfileOnly,
    /// No messages.
    NoMessages,
    /// The first turn is not the user's.
    FirstTurnNotUser,
    /// Two consecutive turns of one role, for a family that refuses them.
    Alternation,
    /// A message without content blocks.
    EmptyContent,
    /// An empty text block.
    BlankText,
    /// A whitespace-only text block (Anthropic models' own wording).
    WhitespaceText,
    /// An empty system text.
    EmptySystemText,
    /// Tool blocks in the messages without a `toolConfig`.
    ToolConfigMissing,
    /// A tool result with status `error` and no content.
    ErrorResultEmpty,
    /// `temperature` outside 0–1.
    Temperature,
    /// `topP` outside 0–1.
    TopP,
    /// `maxTokens` below 1.
    MaxTokens,
    /// ConverseStream on a model that cannot stream (server side; the
    /// client calls Converse instead).
    NoStreaming,
    /// ConverseStream with tools on a model that takes tools only through
    /// Converse (server side; the client calls Converse instead).
    NoStreamingToolUse,
}

/// A row of [`RULES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleInfo {
    /// The rule.
    pub rule: Rule,
    /// The HTTP status the service answers with.
    pub status: u16,
    /// The `x-amzn-ErrorType` it sends.
    pub error_type: &'static str,
    /// Its message; `{N}`, `{M}` (indexes), `{ID}` (the model id) and `{V}`
    /// (the value) are filled in.
    pub message: &'static str,
    /// What the client says of the field (before quoting the service).
    pub reason: &'static str,
    /// Where the message comes from.
    pub source: &'static str,
}

/// The form of the service's constraint errors (AWS JSON protocol); not
/// recorded for these fields, so the wording is the standard one.
const CONSTRAINT: &str = "the API reference's constraint, in the form of AWS's constraint errors";

/// The rules, in the order they are checked.
pub const RULES: &[RuleInfo] = &[
    RuleInfo { rule: Rule::UnknownModel, status: 400, error_type: VALIDATION,
        message: "The provided model identifier is invalid.",
        reason: "names no model", source: "service-facts.md (model ids)" },
    RuleInfo { rule: Rule::EndOfLife, status: 404, error_type: NOT_FOUND,
        message: "This model version has reached the end of its life. Please refer to the AWS documentation for more details.",
        reason: "has reached its end of life", source: "recording model_ids__retired_model_id_preserves_provider_error.json" },
    RuleInfo { rule: Rule::ProfileOnly, status: 400, error_type: VALIDATION,
        message: "Invocation of model ID {ID} with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
        reason: "is served only through an inference profile", source: "recording model_ids__bare_profile_only_model_id_is_rejected.json" },
    RuleInfo { rule: Rule::NoMessages, status: 400, error_type: VALIDATION,
        message: "1 validation error detected: Value '[]' at 'messages' failed to satisfy constraint: Member must have length greater than or equal to 1",
        reason: "is empty: add at least one user message", source: CONSTRAINT },
    RuleInfo { rule: Rule::FirstTurnNotUser, status: 400, error_type: VALIDATION,
        message: "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
        reason: "must be `user`: a conversation starts with a user turn", source: "dify #12340" },
    RuleInfo { rule: Rule::Alternation, status: 400, error_type: VALIDATION,
        message: "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
        reason: "repeats the role of the turn before it, which this model family refuses",
        source: "langchain-aws #130, #192; semantic-kernel #10281; dify #9294" },
    RuleInfo { rule: Rule::EmptyContent, status: 400, error_type: VALIDATION,
        message: "1 validation error detected: Value '[]' at 'messages.{N1}.member.content' failed to satisfy constraint: Member must have length greater than or equal to 1",
        reason: "is empty", source: CONSTRAINT },
    RuleInfo { rule: Rule::BlankText, status: 400, error_type: VALIDATION,
        message: "The text field in the ContentBlock object at messages.{N}.content.{M} is blank. Add text to the text field, and try again.",
        reason: "is blank", source: "bedrock-agentcore-sdk-python #185; bedrock-engineer #8" },
    RuleInfo { rule: Rule::WhitespaceText, status: 400, error_type: VALIDATION,
        message: "The model returned the following errors: messages: text content blocks must contain non-whitespace text",
        reason: "is only whitespace", source: "hermes-agent #63983" },
    RuleInfo { rule: Rule::EmptySystemText, status: 400, error_type: VALIDATION,
        message: "1 validation error detected: Value '' at 'system.{N1}.member.text' failed to satisfy constraint: Member must have length greater than or equal to 1",
        reason: "is an empty text", source: CONSTRAINT },
    RuleInfo { rule: Rule::ToolConfigMissing, status: 400, error_type: VALIDATION,
        message: "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        reason: "is required: the messages hold tool use or tool result blocks", source: "dify #7328, #16421; kibana #246943" },
    RuleInfo { rule: Rule::ErrorResultEmpty, status: 400, error_type: VALIDATION,
        message: "The content field at messages.{N}.content.{M}.toolResult cannot be empty when status value is error.",
        reason: "is empty, and the result's status is `error`", source: "aws-samples multi-agent-orchestration #15" },
    RuleInfo { rule: Rule::Temperature, status: 400, error_type: VALIDATION,
        message: "1 validation error detected: Value '{V}' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value {BOUND}",
        reason: "must be between 0.0 and 1.0", source: CONSTRAINT },
    RuleInfo { rule: Rule::TopP, status: 400, error_type: VALIDATION,
        message: "1 validation error detected: Value '{V}' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value {BOUND}",
        reason: "must be between 0.0 and 1.0", source: CONSTRAINT },
    RuleInfo { rule: Rule::MaxTokens, status: 400, error_type: VALIDATION,
        message: "1 validation error detected: Value '{V}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1",
        reason: "must be at least 1", source: CONSTRAINT },
    RuleInfo { rule: Rule::NoStreaming, status: 400, error_type: VALIDATION,
        message: "The model is unsupported for streaming.",
        reason: "cannot stream", source: "amazon-bedrock-client-for-mac #112" },
    RuleInfo { rule: Rule::NoStreamingToolUse, status: 400, error_type: VALIDATION,
        message: "This model doesn't support tool use in streaming mode.",
        reason: "takes tools only through Converse", source: "pi #3739; obot #4101; langchain-aws #140; llama_index #19655" },
];

impl Rule {
    /// This rule's row of [`RULES`].
    pub fn info(self) -> &'static RuleInfo {
        // Every rule has a row (a test checks it); the first row is never
        // reached through a missing one.
        RULES.iter().find(|r| r.rule == self).unwrap_or(&RULES[0])
    }
}

/// A content block, as far as the rules look at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Block<'a> {
    /// A text block.
    Text(&'a str),
    /// A tool use.
    ToolUse,
    /// A tool result: whether its status is `error`, and whether it holds
    /// no content.
    ToolResult {
        /// Status `error`.
        error: bool,
        /// No content.
        empty: bool,
    },
    /// Anything else.
    Other,
}

/// A message, as far as the rules look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Turn<'a> {
    /// `"user"`, `"assistant"` or `"system"`.
    pub role: &'a str,
    /// Its blocks.
    pub blocks: Vec<Block<'a>>,
}

impl<'a> Turn<'a> {
    /// A turn.
    pub fn new(role: &'a str, blocks: Vec<Block<'a>>) -> Self {
        Turn { role, blocks }
    }
}

/// A request, as far as the rules look at it: what the client and the
/// server each build from their own form of a request.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Shape<'a> {
    /// The model id (or ARN).
    pub model_id: &'a str,
    /// The messages.
    pub turns: Vec<Turn<'a>>,
    /// The system blocks: the text of each text block, `None` for others.
    pub system: Vec<Option<&'a str>>,
    /// Whether the request has a `toolConfig`.
    pub tool_config: bool,
    /// `inferenceConfig.temperature`.
    pub temperature: Option<f64>,
    /// `inferenceConfig.topP`.
    pub top_p: Option<f64>,
    /// `inferenceConfig.maxTokens`.
    pub max_tokens: Option<i64>,
}

impl<'a> Shape<'a> {
    /// An empty request for a model.
    pub fn new(model_id: &'a str) -> Self {
        Shape {
            model_id,
            ..Shape::default()
        }
    }
}

/// Which side checks, and for which operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Call {
    /// The client before sending: no model-id rules (the catalogue may be
    /// stale: the service decides), no streaming capabilities (the client
    /// calls Converse instead).
    Client,
    /// The service, answering Converse.
    Converse,
    /// The service, answering ConverseStream.
    ConverseStream,
}

/// A refused request: the rule, where, and the service's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The rule.
    pub rule: Rule,
    /// The field in the client's spelling (`messages[1].content[0].text`).
    pub field: String,
    /// The service's message, indexes filled in.
    pub message: String,
    /// The HTTP status.
    pub status: u16,
    /// The `x-amzn-ErrorType`.
    pub error_type: &'static str,
}

impl Refusal {
    fn new(rule: Rule, field: impl Into<String>, fill: &[(&str, String)]) -> Refusal {
        let info = rule.info();
        let mut message = info.message.to_owned();
        for (key, value) in fill {
            message = message.replace(key, value);
        }
        Refusal {
            rule,
            field: field.into(),
            message,
            status: info.status,
            error_type: info.error_type,
        }
    }

    /// What the client says: the rule's reason, then the service's message.
    pub fn reason(&self) -> String {
        format!(
            "{}; Bedrock answers: \"{}\"",
            self.rule.info().reason,
            self.message
        )
    }
}

/// A number as the service prints it (`5.0`, `1.5`).
fn shown(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 {
        format!("{v:.1}")
    } else {
        v.to_string()
    }
}

fn range(rule: Rule, field: &str, v: Option<f64>) -> Result<(), Refusal> {
    let Some(v) = v else { return Ok(()) };
    if (0.0..=1.0).contains(&v) {
        return Ok(());
    }
    let bound = if v < 0.0 {
        "greater than or equal to 0"
    } else {
        "less than or equal to 1"
    };
    Err(Refusal::new(
        rule,
        field,
        &[("{V}", shown(v)), ("{BOUND}", bound.to_owned())],
    ))
}

fn model_rules(shape: &Shape<'_>, catalogue: &Catalogue) -> Result<(), Refusal> {
    let id = shape.model_id;
    let Some(found) = catalogue.resolve(id) else {
        // An ARN of a custom model, a provisioned throughput or a prompt
        // cannot be known here: only plain ids are refused.
        if id.starts_with("arn:") {
            return Ok(());
        }
        return Err(Refusal::new(Rule::UnknownModel, "model_id", &[]));
    };
    if found
        .model
        .lifecycle
        .as_ref()
        .is_some_and(|l| l.status == Status::EndOfLife)
    {
        return Err(Refusal::new(Rule::EndOfLife, "model_id", &[]));
    }
    let profile_only = found.model.on_demand.as_ref().is_some_and(|f| !f.value);
    if profile_only && !found.via_profile {
        return Err(Refusal::new(
            Rule::ProfileOnly,
            "model_id",
            &[("{ID}", id.to_owned())],
        ));
    }
    Ok(())
}

fn turn_rules(shape: &Shape<'_>, catalogue: &Catalogue) -> Result<(), Refusal> {
    if shape.turns.is_empty() {
        return Err(Refusal::new(Rule::NoMessages, "messages", &[]));
    }
    let alternate = catalogue.needs_alternation(shape.model_id) == Some(true);
    let anthropic = catalogue
        .family(shape.model_id)
        .is_some_and(|f| f.prefix.starts_with("anthropic."));
    let mut previous: Option<&str> = None;
    for (n, turn) in shape.turns.iter().enumerate() {
        // Messages with the `system` role (2026) take no part in the order.
        if turn.role != "system" {
            match previous {
                None if turn.role != "user" => {
                    return Err(Refusal::new(
                        Rule::FirstTurnNotUser,
                        format!("messages[{n}].role"),
                        &[],
                    ))
                }
                Some(p) if alternate && p == turn.role => {
                    return Err(Refusal::new(
                        Rule::Alternation,
                        format!("messages[{n}].role"),
                        &[],
                    ))
                }
                _ => previous = Some(turn.role),
            }
        }
        if turn.blocks.is_empty() {
            let fill = [("{N1}", (n + 1).to_string())];
            return Err(Refusal::new(
                Rule::EmptyContent,
                format!("messages[{n}].content"),
                &fill,
            ));
        }
        for (m, block) in turn.blocks.iter().enumerate() {
            let fill = [("{N}", n.to_string()), ("{M}", m.to_string())];
            match *block {
                Block::Text(t) if t.is_empty() || (!anthropic && t.trim().is_empty()) => {
                    let field = format!("messages[{n}].content[{m}].text");
                    return Err(Refusal::new(Rule::BlankText, field, &fill));
                }
                Block::Text(t) if t.trim().is_empty() => {
                    let field = format!("messages[{n}].content[{m}].text");
                    return Err(Refusal::new(Rule::WhitespaceText, field, &fill));
                }
                Block::ToolResult {
                    error: true,
                    empty: true,
                } => {
                    let field = format!("messages[{n}].content[{m}].tool_result.content");
                    return Err(Refusal::new(Rule::ErrorResultEmpty, field, &fill));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Checks a request against [`RULES`], in order, for one side and
/// operation; the first rule broken is the answer.
///
/// # Errors
///
/// The [`Refusal`] of the first rule the request breaks.
pub fn check(shape: &Shape<'_>, catalogue: &Catalogue, call: Call) -> Result<(), Refusal> {
    if call != Call::Client {
        model_rules(shape, catalogue)?;
    }
    turn_rules(shape, catalogue)?;
    for (i, text) in shape.system.iter().enumerate() {
        if *text == Some("") {
            let fill = [("{N1}", (i + 1).to_string())];
            return Err(Refusal::new(
                Rule::EmptySystemText,
                format!("system[{i}]"),
                &fill,
            ));
        }
    }
    let tool_blocks = shape
        .turns
        .iter()
        .flat_map(|t| &t.blocks)
        .any(|b| matches!(b, Block::ToolUse | Block::ToolResult { .. }));
    if tool_blocks && !shape.tool_config {
        return Err(Refusal::new(Rule::ToolConfigMissing, "tool_config", &[]));
    }
    range(Rule::Temperature, "temperature", shape.temperature)?;
    range(Rule::TopP, "top_p", shape.top_p)?;
    if let Some(n) = shape.max_tokens.filter(|n| *n < 1) {
        return Err(Refusal::new(
            Rule::MaxTokens,
            "max_tokens",
            &[("{V}", n.to_string())],
        ));
    }
    if call == Call::ConverseStream {
        let id = shape.model_id;
        if catalogue.supports(id, Capability::Streaming) == Some(false) {
            return Err(Refusal::new(Rule::NoStreaming, "model_id", &[]));
        }
        if shape.tool_config && catalogue.supports(id, Capability::ToolUseStreaming) == Some(false)
        {
            return Err(Refusal::new(Rule::NoStreamingToolUse, "tool_config", &[]));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
