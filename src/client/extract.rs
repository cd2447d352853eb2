//! Typed extraction: [`Converser::extract`] and [`Converser::extract_with`]
//! ask for a reply that is JSON for a Rust type, check it against the
//! type's schema, and read it back.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Converser;
use crate::error::Error;
use crate::model::schema::{fit_with, original_schema_for, SchemaCheck, Unsupported};
use crate::model::{ConverseRequest, Cost, JsonSchemaFormat, Message, Response, Tool, ToolChoice};
use crate::stream::StreamHandler;

/// The tool's name in [`ExtractMode::Tool`] unless [`ExtractOptions::name`] says otherwise.
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

/// How to extract, apart from the request: the [`ExtractMode`], re-asks,
/// the schema's (or tool's) name and description, strictness, and what to
/// do with keywords the service's grammar cannot hold. The one type for
/// these settings: [`Extract`] pairs one with a request for
/// [`Converser::extract`]; [`Conversation::extract_options`](crate::Conversation::extract_options)
/// keeps one for every extraction of a conversation.
///
/// ```
/// use bedrock_converse::client::{ExtractMode, ExtractOptions};
/// use bedrock_converse::model::schema::Unsupported;
///
/// let options = ExtractOptions::new()
///     .mode(ExtractMode::Tool)
///     .retries(2)
///     .name("review")
///     .unsupported(Unsupported::Refuse);
/// assert_eq!(options.tool_name(), "review");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ExtractOptions {
    pub(crate) mode: ExtractMode,
    pub(crate) retries: u32,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) strict: bool,
    pub(crate) unsupported: Unsupported,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions::new()
    }
}

impl ExtractOptions {
    /// Native mode, no re-ask, no name or description, a strict tool in
    /// tool mode, and bounds [described](Unsupported::Describe).
    pub fn new() -> Self {
        ExtractOptions {
            mode: ExtractMode::Native,
            retries: 0,
            name: None,
            description: None,
            strict: true,
            unsupported: Unsupported::Describe,
        }
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: ExtractMode) -> Self {
        self.mode = mode;
        self
    }

    /// Re-asks up to `n` times when a reply is not valid JSON for the type,
    /// or breaks the type's schema (a bound the service's grammar could not
    /// hold): the bad reply and a user turn quoting the error are appended
    /// (in tool mode, an error tool result), and the model tries again. The
    /// returned usage is the sum over every attempt.
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

    /// What to do with keywords in the type's schema that the service's
    /// grammar cannot hold, such as a `#[schemars(range(min = 1, max = 10))]`
    /// bound ([`model::schema`](crate::model::schema) lists them). By
    /// default ([`Unsupported::Describe`]) they are moved into the
    /// property's description, and the reply is checked against the type's
    /// own schema on the client; [`Unsupported::Refuse`] refuses such a type
    /// with [`Error::InvalidRequest`] before anything is sent, so that the
    /// grammar guarantees every rule of the schema.
    pub fn unsupported(mut self, unsupported: Unsupported) -> Self {
        self.unsupported = unsupported;
        self
    }

    /// The tool's name in tool mode: the [name](ExtractOptions::name), or
    /// [`DEFAULT_TOOL_NAME`].
    pub fn tool_name(&self) -> &str {
        self.name.as_deref().unwrap_or(DEFAULT_TOOL_NAME)
    }
}

/// What to extract and how: the request and its [`ExtractOptions`], the
/// argument of [`Converser::extract`] and [`Converser::extract_with`]. A
/// `&ConverseRequest` converts to one with the default options (native
/// mode, no re-ask), so the options are given only when they differ.
///
/// ```
/// use bedrock_converse::client::{Extract, ExtractMode, ExtractOptions};
/// use bedrock_converse::ConverseRequest;
///
/// let request = ConverseRequest::new("us.anthropic.claude-haiku-4-5-20251001-v1:0").user("…");
/// let options = ExtractOptions::new().mode(ExtractMode::Tool).retries(1);
/// let extract = Extract::new(&request, options);
/// # let _ = extract;
/// ```
#[derive(Debug, Clone)]
#[must_use = "an Extract does nothing until passed to Converser::extract"]
pub struct Extract<'a> {
    request: &'a ConverseRequest,
    options: ExtractOptions,
}

impl<'a> From<&'a ConverseRequest> for Extract<'a> {
    fn from(request: &'a ConverseRequest) -> Self {
        Extract::new(request, ExtractOptions::new())
    }
}

impl<'a> Extract<'a> {
    /// Extraction from `request` with these options.
    pub fn new(request: &'a ConverseRequest, options: ExtractOptions) -> Self {
        Extract { request, options }
    }

    fn tool_name(&self) -> &str {
        self.options.tool_name()
    }

    /// Where the schema goes in the request, for naming a refused keyword.
    fn schema_field(&self) -> String {
        match self.options.mode {
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
        match self.options.mode {
            ExtractMode::Native => {
                let mut format = JsonSchemaFormat::new(schema);
                format.name = self.options.name.clone();
                format.description = self.options.description.clone();
                let mut config = request.output_config.clone().unwrap_or_default();
                config.text_format = Some(format);
                request.output_config(config)
            }
            ExtractMode::Tool => {
                let description = self.options.description.clone().unwrap_or_else(|| {
                    "Give your answer as this tool's input; only its input is read.".into()
                });
                let tool =
                    Tool::new(self.tool_name(), description, schema).strict(self.options.strict);
                request
                    .tool(tool)
                    .tool_choice(ToolChoice::tool(self.tool_name()))
            }
        }
    }

    /// Reads the value out of a reply, checked against `check`, or says why
    /// not (raw text, reason).
    fn read<T: DeserializeOwned>(
        &self,
        response: &Response,
        check: &SchemaCheck,
    ) -> Result<T, (String, String)> {
        let parsed = match self.options.mode {
            ExtractMode::Native => {
                let raw = response.text();
                match serde_json::from_str::<Value>(&raw) {
                    Ok(value) => Ok((raw, value)),
                    Err(e) => Err((raw, e.to_string())),
                }
            }
            ExtractMode::Tool => {
                let uses = response.tool_uses();
                match uses.into_iter().find(|u| u.name == self.tool_name()) {
                    Some(u) => Ok((u.input.to_string(), u.input)),
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
        parsed
            .and_then(|(raw, value)| match check.check(&value) {
                Ok(()) => serde_json::from_value(value).map_err(|e| (raw, e.to_string())),
                Err(breach) => Err((raw, breach)),
            })
            .map_err(|(raw, reason)| (raw, with_stop_reason(response, reason)))
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
            "That reply could not be used ({reason}). Answer again, following the schema and its descriptions exactly."
        );
        if self.options.mode == ExtractMode::Tool {
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
    /// What every attempt cost, each priced at the model that answered it
    /// (attempts of one extraction may go to different
    /// [targets](crate::ConverserBuilder::fallback)); `None` when one of
    /// them could not be priced (see [`Response::cost`]).
    pub cost: Option<Cost>,
}

impl Converser {
    /// Asks for a reply that is JSON for `T` (its schema from schemars,
    /// made to [fit](crate::model::schema::fit) the service's subset) and
    /// reads it back, with the Converse API. Takes a `&ConverseRequest`
    /// (the default [`ExtractOptions`]: native mode, no re-ask) or an
    /// [`Extract`] (the request and its options).
    ///
    /// What `T` becomes on the wire: objects closed (`"additionalProperties":
    /// false`); `Option<T>` fields required and nullable (the model writes
    /// `null`), or, past the service's limit of 16 union-typed parameters,
    /// left optional instead; bounds the grammar cannot hold (`range`,
    /// `length`, …) moved into the field's description. The reply is then
    /// parsed, checked against `T`'s own schema (bounds included), and
    /// deserialized: a reply that breaks a bound is [`Error::InvalidOutput`]
    /// naming the JSON Pointer and keyword, and is re-asked like any
    /// unreadable reply.
    ///
    /// ```
    /// # use bedrock_converse_mock::{MockServer, Reply};
    /// # let server = MockServer::start()?;
    /// # server.push(Reply::text(r#"{"city": "Paris", "country": "France", "rating": 9}"#));
    /// # let converser = server.converser()?;
    /// use bedrock_converse::ConverseRequest;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema, Debug)]
    /// struct Capital {
    ///     city: String,
    ///     country: String,
    ///     #[schemars(range(min = 1, max = 10))]
    ///     rating: u8,
    /// }
    ///
    /// let request = ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
    ///     .user("The capital of France, rated out of 10?");
    /// let capital = converser.extract::<Capital>(&request)?.value;
    /// assert_eq!((capital.city.as_str(), capital.rating), ("Paris", 9));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] when `T`'s schema has a keyword the service
    /// rejects and that cannot be described (any, with
    /// [`Unsupported::Refuse`]; the field names its JSON Pointer), is not an
    /// object, or passes the service's complexity limits (the reason names
    /// the limit and the count); nothing is sent then.
    /// [`Error::InvalidOutput`] when the reply (the last one, after any
    /// re-asks) is not JSON, breaks `T`'s schema, or does not deserialize
    /// as `T`; otherwise as [`converse`](Converser::converse).
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
    let original = original_schema_for::<T>();
    let schema = fit_with(original.clone(), extract.options.unsupported).map_err(|e| {
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
    let check = SchemaCheck::new(&original).map_err(|e| Error::invalid(field, e))?;
    let mut request = extract.shape(schema);
    let mut usage = None;
    let mut cost = Some(Cost::default());
    let mut attempt = 0;
    loop {
        let (mut response, failure) = match call(&request) {
            Ok(response) => match extract.read::<T>(&response, &check) {
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
        cost = cost
            .zip(response.cost(&request.model_id))
            .map(|(sum, this)| sum + this);
        usage = match (usage, response.usage) {
            (Some(sum), Some(this)) => Some(sum + this),
            (sum, this) => sum.or(this),
        };
        response.usage = usage;
        match failure {
            Ok(value) => {
                return Ok(Extracted {
                    value,
                    response,
                    cost,
                })
            }
            Err((raw, reason)) if attempt >= extract.options.retries => {
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

#[cfg(test)]
mod tests;
