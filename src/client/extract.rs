//! Typed extraction: [`Converser::extract`] and [`Converser::extract_with`]
//! ask for a reply that is JSON for a Rust type, and read it back.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Converser;
use crate::error::Error;
use crate::model::schema::schema_for;
use crate::model::{ConverseRequest, JsonSchemaFormat, Message, Response, Tool, ToolChoice};
use crate::stream::StreamHandler;

/// The tool's name in [`ExtractMode::Tool`] unless [`Extract::name`] says otherwise.
pub const DEFAULT_TOOL_NAME: &str = "respond";

/// How [`Converser::extract`] asks the model for structured output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractMode {
    /// `outputConfig.textFormat`: the reply's text is constrained to the
    /// schema. For models with native structured output (Claude Haiku 4.5,
    /// Sonnet 4.5+, Opus 4.5+, and the open-weight families listed in
    /// [`model::schema`](crate::model::schema)).
    #[default]
    Native,
    /// One tool whose input schema is the type's, and `toolChoice` naming
    /// it; the value is that tool call's input. For models with tool use but
    /// no native structured output (Claude 3.x/4/4.1, Nova, …).
    Tool,
}

/// What to extract and how: the request, the [`ExtractMode`], and how many
/// times to re-ask after an unreadable reply. A `&ConverseRequest` converts
/// to one with the defaults (native mode, no re-ask).
///
/// ```
/// use bedrock_converse::client::{Extract, ExtractMode};
/// use bedrock_converse::ConverseRequest;
///
/// let request = ConverseRequest::new("anthropic.claude-3-haiku-20240307-v1:0").user("…");
/// let extract = Extract::new(&request).mode(ExtractMode::Tool).retries(1);
/// # let _ = extract;
/// ```
#[derive(Debug, Clone)]
#[must_use = "an Extract does nothing until passed to Converser::extract"]
pub struct Extract<'a> {
    request: &'a ConverseRequest,
    mode: ExtractMode,
    retries: u32,
    name: Option<String>,
    description: Option<String>,
    strict: bool,
}

impl<'a> From<&'a ConverseRequest> for Extract<'a> {
    fn from(request: &'a ConverseRequest) -> Self {
        Extract::new(request)
    }
}

impl<'a> Extract<'a> {
    /// Extraction from `request` in native mode, with no re-ask.
    pub fn new(request: &'a ConverseRequest) -> Self {
        Extract {
            request,
            mode: ExtractMode::Native,
            retries: 0,
            name: None,
            description: None,
            strict: true,
        }
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: ExtractMode) -> Self {
        self.mode = mode;
        self
    }

    /// Re-asks up to `n` times when a reply is not valid JSON for the type:
    /// the bad reply and a user turn quoting the error are appended (in tool
    /// mode, an error tool result), and the model tries again. The returned
    /// usage is the sum over every attempt.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The schema's name (native mode) or the tool's name (tool mode,
    /// default [`DEFAULT_TOOL_NAME`]).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// What the output is, for the model: the schema's or the tool's description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Whether the tool of [`ExtractMode::Tool`] is `strict` (default
    /// `true`); turn off for models that reject strict tools.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    fn tool_name(&self) -> &str {
        self.name.as_deref().unwrap_or(DEFAULT_TOOL_NAME)
    }

    /// Where the schema goes in the request, for naming a refused keyword.
    fn schema_field(&self) -> String {
        match self.mode {
            ExtractMode::Native => "output_config.text_format.schema".into(),
            ExtractMode::Tool => {
                let i = self
                    .request
                    .tool_config
                    .as_ref()
                    .map_or(0, |c| c.entries.len());
                format!("tool_config.tools[{i}].input_schema")
            }
        }
    }

    /// The request to send: the caller's, with `schema` as the output
    /// format or as a forced tool.
    fn shape(&self, schema: Value) -> ConverseRequest {
        let request = self.request.clone();
        match self.mode {
            ExtractMode::Native => {
                let mut format = JsonSchemaFormat::new(schema);
                format.name = self.name.clone();
                format.description = self.description.clone();
                let mut config = request.output_config.clone().unwrap_or_default();
                config.text_format = Some(format);
                request.output_config(config)
            }
            ExtractMode::Tool => {
                let description = self.description.clone().unwrap_or_else(|| {
                    "Give your answer as this tool's input; only its input is read.".into()
                });
                let tool = Tool::new(self.tool_name(), description, schema).strict(self.strict);
                request
                    .tool(tool)
                    .tool_choice(ToolChoice::tool(self.tool_name()))
            }
        }
    }

    /// Reads the value out of a reply, or says why not (raw text, reason).
    fn read<T: DeserializeOwned>(&self, response: &Response) -> Result<T, (String, String)> {
        let parsed = match self.mode {
            ExtractMode::Native => {
                let raw = response.text();
                serde_json::from_str(&raw).map_err(|e| (raw, e.to_string()))
            }
            ExtractMode::Tool => {
                let uses = response.tool_uses();
                match uses.into_iter().find(|u| u.name == self.tool_name()) {
                    Some(u) => serde_json::from_value(u.input.clone())
                        .map_err(|e| (u.input.to_string(), e.to_string())),
                    None => Err((
                        response.text(),
                        format!("the model did not call the `{}` tool", self.tool_name()),
                    )),
                }
            }
        };
        // The service's own verdict: readable or not, it is not output.
        let parsed = match parsed {
            Ok(_) if response.is_malformed() => Err((
                response.text(),
                "the service found the model's output malformed".to_owned(),
            )),
            other => other,
        };
        parsed.map_err(|(raw, reason)| (raw, with_stop_reason(response, reason)))
    }

    /// `request` with the bad reply and the complaint appended.
    fn reask(
        &self,
        mut request: ConverseRequest,
        response: &Response,
        raw: &str,
        reason: &str,
    ) -> ConverseRequest {
        let complaint = format!(
            "That reply could not be read ({reason}). Answer again, following the schema exactly."
        );
        if self.mode == ExtractMode::Tool {
            let call = response
                .tool_uses()
                .into_iter()
                .find(|u| u.name == self.tool_name() && u.input.is_object());
            if let Some(call) = call {
                request.messages.push(response.message.clone());
                request
                    .messages
                    .push(Message::tool_results([call.error_result(complaint)]));
                return request;
            }
        }
        let said = if raw.is_empty() { "(no reply)" } else { raw };
        request.messages.push(Message::assistant(said));
        request.messages.push(Message::user(complaint));
        request
    }
}

/// Says what the stop reason implies when it is not a normal end.
fn with_stop_reason(response: &Response, reason: String) -> String {
    match response.stop_reason.as_ref().map(|r| r.as_str()) {
        None | Some("end_turn" | "tool_use" | "stop_sequence") => reason,
        Some(stop) => format!("the reply stopped with `{stop}`: {reason}"),
    }
}

/// A value extracted from a reply, with the reply itself (stop reason,
/// usage summed over every attempt).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Extracted<T> {
    /// The value.
    pub value: T,
    /// The last reply; its usage is the sum over every attempt.
    pub response: Response,
}

impl Converser {
    /// Asks for a reply that is JSON for `T` (its schema from schemars,
    /// made to fit the service's subset) and reads it back, with the
    /// Converse API. Takes a `&ConverseRequest` (native mode, no re-ask) or
    /// an [`Extract`] for the mode and re-asks.
    ///
    /// ```
    /// # use bedrock_converse_mock::{MockServer, Reply};
    /// # let server = MockServer::start()?;
    /// # server.push(Reply::text(r#"{"city": "Paris", "country": "France"}"#));
    /// # let converser = server.converser()?;
    /// use bedrock_converse::ConverseRequest;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema, Debug)]
    /// struct Capital { city: String, country: String }
    ///
    /// let request = ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
    ///     .user("The capital of France?");
    /// let capital = converser.extract::<Capital>(&request)?.value;
    /// assert_eq!(capital.city, "Paris");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when `T`'s schema has a keyword the service
    /// rejects (the field names its JSON Pointer) or is not an object;
    /// [`Error::InvalidOutput`] when the reply (the last one, after any
    /// re-asks) is not valid JSON for `T`; otherwise as
    /// [`converse`](Converser::converse).
    pub fn extract<'a, T: DeserializeOwned + JsonSchema>(
        &self,
        extract: impl Into<Extract<'a>>,
    ) -> Result<Extracted<T>, Error> {
        run(&extract.into(), |request| self.converse(request))
    }

    /// [`extract`](Converser::extract) with the ConverseStream API: the
    /// handler sees every event as it arrives (the JSON's text deltas in
    /// native mode, the tool input's deltas in tool mode).
    ///
    /// # Errors
    ///
    /// As [`extract`](Converser::extract) and
    /// [`converse_with`](Converser::converse_with); a streamed tool input
    /// that is not JSON is an [`Error::InvalidOutput`] here.
    pub fn extract_with<'a, T: DeserializeOwned + JsonSchema, H: StreamHandler + ?Sized>(
        &self,
        extract: impl Into<Extract<'a>>,
        handler: &mut H,
    ) -> Result<Extracted<T>, Error> {
        run(&extract.into(), |request| {
            self.converse_with(request, handler)
        })
    }
}

/// The attempts: shape the request, call, read, re-ask while allowed.
pub(crate) fn run<T: DeserializeOwned + JsonSchema>(
    extract: &Extract<'_>,
    mut call: impl FnMut(&ConverseRequest) -> Result<Response, Error>,
) -> Result<Extracted<T>, Error> {
    let field = extract.schema_field();
    let schema = schema_for::<T>().map_err(|e| {
        Error::invalid(
            format!("{field}{}", e.path),
            format!("`{}`: {}", e.keyword, e.reason),
        )
    })?;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(Error::invalid(
            field,
            "must describe a JSON object: wrap the type in a struct",
        ));
    }
    let mut request = extract.shape(schema);
    let mut usage = None;
    let mut attempt = 0;
    loop {
        let (mut response, failure) = match call(&request) {
            Ok(response) => match extract.read::<T>(&response) {
                Ok(value) => (response, Ok(value)),
                Err(failure) => (response, Err(failure)),
            },
            Err(Error::InvalidToolInput {
                input,
                reason,
                response,
                ..
            }) => {
                let reason =
                    with_stop_reason(&response, format!("the tool input is not JSON: {reason}"));
                (*response, Err((input, reason)))
            }
            Err(e) => return Err(e),
        };
        usage = match (usage, response.usage) {
            (Some(sum), Some(this)) => Some(sum + this),
            (sum, this) => sum.or(this),
        };
        response.usage = usage;
        match failure {
            Ok(value) => return Ok(Extracted { value, response }),
            Err((raw, reason)) if attempt >= extract.retries => {
                return Err(Error::InvalidOutput {
                    raw,
                    reason,
                    response: Box::new(response),
                })
            }
            Err((raw, reason)) => {
                attempt += 1;
                request = extract.reask(request, &response, &raw, &reason);
            }
        }
    }
}
