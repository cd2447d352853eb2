//! Tools: what the model may call ([`Tool`], [`ToolConfig`], [`ToolChoice`]),
//! its calls ([`ToolUse`]) and your answers ([`ToolResult`]).

use std::collections::HashSet;

use aws_sdk_bedrockruntime::types::{
    self, AnyToolChoice, AutoToolChoice, ContentBlock, SpecificToolChoice, SystemTool,
    ToolInputSchema, ToolResultBlock, ToolResultContentBlock, ToolResultStatus, ToolSpecification,
};
use serde_json::Value;

use crate::document::json_to_document;
use crate::error::Error;
use crate::media::{Document, Image};
use crate::request::CachePoint;

/// The longest tool name the API accepts.
const MAX_TOOL_NAME_LEN: usize = 64;

/// Whether `name` is a valid tool name: 1 to 64 of `[a-zA-Z0-9_-]`.
pub(crate) fn valid_tool_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOOL_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Refuses an invalid tool name, naming `{field}.name`.
fn check_tool_name(name: &str, field: &str) -> Result<(), Error> {
    if valid_tool_name(name) {
        return Ok(());
    }
    Err(Error::invalid(
        format!("{field}.name"),
        format!("is {name:?}: a tool name is 1 to {MAX_TOOL_NAME_LEN} letters, digits, `_` or `-`"),
    ))
}

/// A tool the model may ask you to run: a name, a description that tells the
/// model when to use it, and a JSON schema for its input.
///
/// ```
/// use bedrock_converse::Tool;
/// use serde_json::json;
///
/// let weather = Tool::new(
///     "get_weather",
///     "The current weather in a city.",
///     json!({
///         "type": "object",
///         "properties": { "city": { "type": "string" } },
///         "required": ["city"]
///     }),
/// );
/// assert_eq!(weather.name, "get_weather");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Tool {
    /// The tool's name: 1 to 64 letters, digits, `_` or `-`.
    pub name: String,
    /// What the tool does, for the model.
    pub description: Option<String>,
    /// The JSON schema of the tool's input (a JSON object).
    pub input_schema: Value,
    /// Ask the model to follow the schema strictly (for models that support it).
    pub strict: Option<bool>,
}

impl Tool {
    /// A tool with a name, a description and an input schema.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Tool {
            name: name.into(),
            description: Some(description.into()),
            input_schema,
            strict: None,
        }
    }

    /// Sets the `strict` flag (structured output enforcement for the input).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = Some(strict);
        self
    }

    fn validate(&self, field: &str) -> Result<(), Error> {
        check_tool_name(&self.name, field)?;
        if self.description.as_deref() == Some("") {
            return Err(Error::invalid(
                format!("{field}.description"),
                "is empty (leave it out instead)",
            ));
        }
        if !self.input_schema.is_object() {
            return Err(Error::invalid(
                format!("{field}.input_schema"),
                "must be a JSON object (a JSON schema)",
            ));
        }
        Ok(())
    }

    fn to_sdk(&self) -> Result<types::Tool, Error> {
        ToolSpecification::builder()
            .name(&self.name)
            .set_description(self.description.clone())
            .input_schema(ToolInputSchema::Json(json_to_document(&self.input_schema)))
            .set_strict(self.strict)
            .build()
            .map(types::Tool::ToolSpec)
            .map_err(|e| Error::invalid("tool_config", e.to_string()))
    }
}

/// Which tool the model must use, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolChoice {
    /// The model decides whether to call a tool (the default).
    Auto,
    /// The model must call at least one tool.
    Any,
    /// The model must call the named tool.
    Tool(String),
}

impl ToolChoice {
    /// The model must call the named tool.
    pub fn tool(name: impl Into<String>) -> Self {
        ToolChoice::Tool(name.into())
    }

    fn to_sdk(&self) -> Result<types::ToolChoice, Error> {
        Ok(match self {
            ToolChoice::Auto => types::ToolChoice::Auto(AutoToolChoice::builder().build()),
            ToolChoice::Any => types::ToolChoice::Any(AnyToolChoice::builder().build()),
            ToolChoice::Tool(name) => types::ToolChoice::Tool(
                SpecificToolChoice::builder()
                    .name(name)
                    .build()
                    .map_err(|e| Error::invalid("tool_config.choice", e.to_string()))?,
            ),
        })
    }
}

/// One entry of a [`ToolConfig`]'s list, in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolEntry {
    /// A tool you run.
    Tool(Tool),
    /// A prompt cache point: the tool definitions before it are cached.
    CachePoint(CachePoint),
    /// A tool the service provides and runs itself, by name (for models
    /// that offer such tools).
    SystemTool(String),
}

/// The tools a request offers the model, and whether it must use one:
/// the Converse API's `toolConfig`.
///
/// ```
/// use bedrock_converse::{ConverseRequest, Tool, ToolChoice, ToolConfig};
/// use serde_json::json;
///
/// let tools = ToolConfig::new()
///     .tool(Tool::new("add", "Adds two numbers.", json!({
///         "type": "object",
///         "properties": { "a": { "type": "number" }, "b": { "type": "number" } },
///         "required": ["a", "b"]
///     })))
///     .cache_point()
///     .choice(ToolChoice::tool("add"));
/// let request = ConverseRequest::new("model").user("What is 2 + 2?").tool_config(tools);
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ToolConfig {
    /// The tools (and cache points), in the order they are sent.
    pub entries: Vec<ToolEntry>,
    /// Which tool the model must use (`None`: the model's default, auto).
    pub choice: Option<ToolChoice>,
}

impl ToolConfig {
    /// An empty configuration; add tools with [`tool`](ToolConfig::tool).
    pub fn new() -> Self {
        ToolConfig::default()
    }

    /// Appends a tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.entries.push(ToolEntry::Tool(tool));
        self
    }

    /// Appends a service-provided tool, by name.
    pub fn system_tool(mut self, name: impl Into<String>) -> Self {
        self.entries.push(ToolEntry::SystemTool(name.into()));
        self
    }

    /// Appends a prompt cache point after the tools so far.
    pub fn cache_point(mut self) -> Self {
        self.entries.push(ToolEntry::CachePoint(CachePoint::new()));
        self
    }

    /// Sets the tool choice.
    pub fn choice(mut self, choice: ToolChoice) -> Self {
        self.choice = Some(choice);
        self
    }

    /// The tools you run, in order (cache points and system tools left out).
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.entries.iter().filter_map(|e| match e {
            ToolEntry::Tool(t) => Some(t),
            _ => None,
        })
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let mut names = HashSet::new();
        let mut count = 0;
        for (i, entry) in self.entries.iter().enumerate() {
            let field = format!("tool_config.tools[{i}]");
            let name = match entry {
                ToolEntry::Tool(t) => {
                    t.validate(&field)?;
                    &t.name
                }
                ToolEntry::SystemTool(name) => {
                    check_tool_name(name, &field)?;
                    name
                }
                ToolEntry::CachePoint(_) => continue,
            };
            count += 1;
            if !names.insert(name.as_str()) {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!("repeats the tool name {name:?}"),
                ));
            }
        }
        if count == 0 {
            return Err(Error::invalid(
                "tool_config.tools",
                "holds no tool: add at least one, or leave tool_config out",
            ));
        }
        if let Some(ToolChoice::Tool(name)) = &self.choice {
            if !names.contains(name.as_str()) {
                return Err(Error::invalid(
                    "tool_config.choice",
                    format!("names the tool {name:?}, which is not in tool_config.tools"),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn to_sdk(&self) -> Result<types::ToolConfiguration, Error> {
        let tools = self
            .entries
            .iter()
            .map(|e| match e {
                ToolEntry::Tool(t) => t.to_sdk(),
                ToolEntry::CachePoint(c) => Ok(types::Tool::CachePoint(c.to_sdk())),
                ToolEntry::SystemTool(name) => SystemTool::builder()
                    .name(name)
                    .build()
                    .map(types::Tool::SystemTool)
                    .map_err(|e| Error::invalid("tool_config", e.to_string())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        types::ToolConfiguration::builder()
            .set_tools(Some(tools))
            .set_tool_choice(self.choice.as_ref().map(ToolChoice::to_sdk).transpose()?)
            .build()
            .map_err(|e| Error::invalid("tool_config", e.to_string()))
    }
}

/// A call to one of your tools, taken from a reply
/// ([`Response::tool_uses`](crate::Response::tool_uses)).
///
/// Answer it with a [`ToolResult`], most simply through
/// [`text_result`](ToolUse::text_result), [`json_result`](ToolUse::json_result)
/// or [`error_result`](ToolUse::error_result), which quote its id.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolUse {
    /// The id to quote in the result.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The input the model gave, as JSON.
    pub input: Value,
}

impl ToolUse {
    /// A tool use with the given id, name and input.
    pub fn new(id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        ToolUse {
            id: id.into(),
            name: name.into(),
            input,
        }
    }

    /// A successful result holding text.
    pub fn text_result(&self, text: impl Into<String>) -> ToolResult {
        ToolResult::text(&self.id, text)
    }

    /// A successful result holding a JSON value.
    pub fn json_result(&self, value: Value) -> ToolResult {
        ToolResult::json(&self.id, value)
    }

    /// A failed result: the message tells the model what went wrong.
    pub fn error_result(&self, message: impl Into<String>) -> ToolResult {
        ToolResult::error(&self.id, message)
    }
}

/// Your answer to a [`ToolUse`]: content for the model, and whether the tool
/// failed. It becomes a `toolResult` content block of a user turn.
///
/// ```
/// use bedrock_converse::{Message, ToolResult};
/// use serde_json::json;
///
/// let turn = Message::tool_results([
///     ToolResult::json("tooluse_1", json!({"temperature_c": 21})),
///     ToolResult::error("tooluse_2", "no such city"),
/// ]);
/// assert_eq!(turn.content.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolResult {
    /// The id of the tool use this answers.
    pub tool_use_id: String,
    /// What the tool produced.
    pub content: Vec<ToolResultContentBlock>,
    /// `Some(Error)` when the tool failed; `None` lets the model assume success.
    pub status: Option<ToolResultStatus>,
}

impl ToolResult {
    /// A result with no content yet.
    pub fn new(tool_use_id: impl Into<String>) -> Self {
        ToolResult {
            tool_use_id: tool_use_id.into(),
            content: Vec::new(),
            status: None,
        }
    }

    /// A successful result holding text.
    pub fn text(tool_use_id: impl Into<String>, text: impl Into<String>) -> Self {
        ToolResult::new(tool_use_id).with_text(text)
    }

    /// A successful result holding a JSON value (sent exactly, integers as
    /// integers).
    pub fn json(tool_use_id: impl Into<String>, value: Value) -> Self {
        ToolResult::new(tool_use_id).with_json(value)
    }

    /// A failed result (status `error`) whose text tells the model why.
    pub fn error(tool_use_id: impl Into<String>, message: impl Into<String>) -> Self {
        ToolResult::text(tool_use_id, message).status(ToolResultStatus::Error)
    }

    /// Appends text content.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.content.push(ToolResultContentBlock::Text(text.into()));
        self
    }

    /// Appends JSON content.
    pub fn with_json(mut self, value: Value) -> Self {
        self.content
            .push(ToolResultContentBlock::Json(json_to_document(&value)));
        self
    }

    /// Appends an image.
    pub fn with_image(mut self, image: Image) -> Self {
        self.content
            .push(ToolResultContentBlock::Image(image.to_sdk()));
        self
    }

    /// Appends a document.
    pub fn with_document(mut self, document: Document) -> Self {
        self.content
            .push(ToolResultContentBlock::Document(document.to_sdk()));
        self
    }

    /// Sets the status.
    pub fn status(mut self, status: ToolResultStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Whether this result reports a failure.
    pub fn is_error(&self) -> bool {
        self.status == Some(ToolResultStatus::Error)
    }
}

impl From<ToolResult> for ContentBlock {
    fn from(r: ToolResult) -> Self {
        let block = ToolResultBlock::builder()
            .tool_use_id(r.tool_use_id)
            .set_content(Some(r.content))
            .set_status(r.status)
            .build()
            // Both required members are set just above.
            .expect("tool_use_id and content are set");
        ContentBlock::ToolResult(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(c: &ToolConfig) -> String {
        match c.validate() {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn tool_names_follow_the_api_pattern() {
        assert!(valid_tool_name("get_weather-2"));
        assert!(!valid_tool_name(""));
        assert!(!valid_tool_name("has space"));
        assert!(!valid_tool_name("dotted.name"));
        assert!(valid_tool_name(&"a".repeat(64)));
        assert!(!valid_tool_name(&"a".repeat(65)));
    }

    #[test]
    fn each_tool_rule_names_its_field() {
        let schema = json!({"type": "object"});
        let ok = ToolConfig::new().tool(Tool::new("a", "A.", schema.clone()));
        assert!(ok.validate().is_ok());
        assert_eq!(field(&ToolConfig::new()), "tool_config.tools");
        assert_eq!(field(&ToolConfig::new().cache_point()), "tool_config.tools");
        assert_eq!(
            field(&ToolConfig::new().tool(Tool::new("a b", "A.", schema.clone()))),
            "tool_config.tools[0].name"
        );
        assert_eq!(
            field(&ToolConfig::new().tool(Tool::new("a", "", schema.clone()))),
            "tool_config.tools[0].description"
        );
        assert_eq!(
            field(&ToolConfig::new().tool(Tool::new("a", "A.", json!("string")))),
            "tool_config.tools[0].input_schema"
        );
        assert_eq!(
            field(
                &ok.clone()
                    .cache_point()
                    .tool(Tool::new("a", "Again.", schema))
            ),
            "tool_config.tools[2].name"
        );
        assert_eq!(
            field(&ok.clone().choice(ToolChoice::tool("b"))),
            "tool_config.choice"
        );
        assert!(ok.choice(ToolChoice::tool("a")).validate().is_ok());
    }
}
