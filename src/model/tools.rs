//! Tools: what the model may call ([`Tool`], [`ToolConfig`], [`ToolChoice`]),
//! its calls ([`ToolUse`]) and your answers ([`ToolResult`]).

use aws_sdk_bedrockruntime::types::{ToolResultContentBlock, ToolResultStatus};
use serde_json::Value;

use super::av::Video;
use super::cache::CachePoint;
use super::media::{Document, Image};
use super::search::SearchResult;
use crate::sdk::json::json_to_document;

/// A tool the model may ask you to run: a name, a description that tells the
/// model when to use it, and a JSON schema for its input.
///
/// ```
/// use bedrock_converse::model::Tool;
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
#[must_use]
pub struct Tool {
    /// The tool's name: 1 to 64 letters, digits, `_` or `-`.
    pub name: String,
    /// What the tool does, for the model.
    pub description: Option<String>,
    /// The JSON schema of the tool's input (a JSON object).
    pub input_schema: Value,
    /// Ask the model to follow the schema strictly (for models that support it).
    pub strict: Option<bool>,
    /// Check every call's input against `input_schema` as written
    /// ([`Tool::validate_input`]).
    #[cfg(feature = "schema")]
    pub validate_input: bool,
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
            #[cfg(feature = "schema")]
            validate_input: false,
        }
    }

    /// Sets the `strict` flag (structured output enforcement for the input,
    /// for models that support it). A strict tool's schema must stay within
    /// the service's structured-output subset: it is sent
    /// [fitted](crate::model::schema::fit) (every object closed with
    /// `"additionalProperties": false`, bounds the grammar cannot hold moved
    /// into descriptions), and what cannot fit fails
    /// [`validate`](crate::ConverseRequest::validate) with its path instead
    /// of a remote 400, as do more than
    /// [`MAX_STRICT_TOOLS`](crate::model::schema::MAX_STRICT_TOOLS) strict
    /// tools in one request. The moved bounds are not enforced by the
    /// service: ask for them to be checked with `validate_input` (`schema`
    /// feature).
    ///
    /// ```
    /// use bedrock_converse::{ConverseRequest, Error};
    /// use bedrock_converse::model::Tool;
    /// use serde_json::json;
    ///
    /// let schema = json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}});
    /// let tool = Tool::new("pick", "Picks a number.", schema).strict(true);
    /// assert!(ConverseRequest::new("m").user("hi").tool(tool).validate().is_ok());
    ///
    /// let map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    /// let tool = Tool::new("tag", "Tags.", map).strict(true);
    /// let request = ConverseRequest::new("m").user("hi").tool(tool);
    /// let Err(Error::InvalidRequest { field, .. }) = request.validate() else { panic!() };
    /// assert_eq!(field, "tool_config.tools[0].input_schema/additionalProperties");
    /// ```
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = Some(strict);
        self
    }

    /// Whether the client checks each call of this tool against
    /// `input_schema` as written ([`check_input`](Tool::check_input)),
    /// bounds included, before the reply is returned (default `false`). A
    /// breach is an [`Error::InvalidToolInput`](crate::Error::InvalidToolInput)
    /// naming the JSON Pointer and the keyword, so that a tool loop gets a
    /// typed error rather than input it cannot use. Checked by
    /// [`converse`](crate::Converser::converse),
    /// [`converse_with`](crate::Converser::converse_with) and
    /// [`converse_with_on_runtime`](crate::Converser::converse_with_on_runtime), and so
    /// by [`Conversation`](crate::Conversation)'s tool loop.
    ///
    /// ```
    /// use bedrock_converse::model::Tool;
    /// use serde_json::json;
    ///
    /// let schema = json!({"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}});
    /// let tool = Tool::new("pick", "Picks a digit.", schema).strict(true).validate_input(true);
    /// assert!(tool.validate_input);
    /// ```
    #[cfg(feature = "schema")]
    pub fn validate_input(mut self, validate: bool) -> Self {
        self.validate_input = validate;
        self
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
/// use bedrock_converse::ConverseRequest;
/// use bedrock_converse::model::{Tool, ToolChoice, ToolConfig};
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
#[must_use]
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
/// use bedrock_converse::Message;
/// use bedrock_converse::model::ToolResult;
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
#[must_use]
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
            .push(ToolResultContentBlock::Image(image.into_sdk()));
        self
    }

    /// Appends a document.
    pub fn with_document(mut self, document: Document) -> Self {
        self.content
            .push(ToolResultContentBlock::Document(document.into_sdk()));
        self
    }

    /// Appends a video.
    pub fn with_video(mut self, video: Video) -> Self {
        self.content.push(ToolResultContentBlock::from(video));
        self
    }

    /// Appends a search result (a search tool's answer the model can cite).
    ///
    /// ```
    /// use bedrock_converse::model::{SearchResult, ToolResult};
    /// let r = ToolResult::new("tu-1")
    ///     .with_search_result(SearchResult::new("https://example.com", "Example").passage("Hello"));
    /// assert!(r.content[0].is_search_result());
    /// ```
    pub fn with_search_result(mut self, result: SearchResult) -> Self {
        self.content.push(ToolResultContentBlock::from(result));
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
