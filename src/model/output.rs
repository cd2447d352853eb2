//! Structured output: [`OutputConfig`], the Converse API's `outputConfig`,
//! its [`JsonSchemaFormat`] and the [`Effort`] level.

use serde_json::Value;

use super::schema::{fit, SchemaError};
use crate::error::Error;

/// A JSON schema the model's text reply is constrained to: the Converse API's
/// `outputConfig.textFormat` of type `json_schema`.
///
/// The schema is kept as JSON here and sent as a JSON *string*, as the API
/// requires, after [`schema::fit`](super::schema::fit) has made it fit the
/// service's subset (bounds the grammar cannot hold are moved into
/// descriptions, and nothing checks them on the reply: use
/// [`SchemaCheck`](super::schema::SchemaCheck) or
/// [`Converser::extract`](crate::Converser::extract) for that; what cannot
/// fit is refused before sending).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[must_use]
pub struct JsonSchemaFormat {
    /// The JSON schema (an object).
    pub schema: Value,
    /// A name for the schema, for the model.
    pub name: Option<String>,
    /// What the schema describes, for the model.
    pub description: Option<String>,
}

impl JsonSchemaFormat {
    /// A format with this schema, no name and no description.
    pub fn new(schema: Value) -> Self {
        JsonSchemaFormat {
            schema,
            name: None,
            description: None,
        }
    }

    /// Sets the schema's name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the schema's description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The schema as sent: [fitted](super::schema::fit) to the service's
    /// subset. The error names the refused keyword's JSON Pointer.
    pub(crate) fn fitted(&self) -> Result<Value, SchemaError> {
        fit(self.schema.clone())
    }
}

/// How the model shapes its reply: the Converse API's `outputConfig`.
///
/// ```
/// use bedrock_converse::ConverseRequest;
/// use bedrock_converse::model::{JsonSchemaFormat, OutputConfig};
/// use serde_json::json;
///
/// let schema = json!({
///     "type": "object",
///     "properties": { "name": { "type": "string" } },
///     "required": ["name"]
/// });
/// let request = ConverseRequest::new("model")
///     .user("Name a colour.")
///     .output_config(OutputConfig::new().text_format(JsonSchemaFormat::new(schema).name("colour")));
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
#[must_use]
pub struct OutputConfig {
    /// The JSON schema the reply's text must follow.
    pub text_format: Option<JsonSchemaFormat>,
    /// How much effort the model spends (models that support it; above
    /// [`High`](Effort::High) needs extended thinking).
    pub effort: Option<Effort>,
}

impl OutputConfig {
    /// An empty configuration.
    pub fn new() -> Self {
        OutputConfig::default()
    }

    /// Sets the JSON schema format.
    pub fn text_format(mut self, format: JsonSchemaFormat) -> Self {
        self.text_format = Some(format);
        self
    }

    /// Sets the effort level.
    ///
    /// ```
    /// use bedrock_converse::model::{Effort, OutputConfig};
    /// assert_eq!(OutputConfig::new().effort(Effort::High).effort, Some(Effort::High));
    /// ```
    pub fn effort(mut self, effort: Effort) -> Self {
        self.effort = Some(effort);
        self
    }

    /// Checks the configuration as the service would; the schema must fit
    /// its subset.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if let Some(format) = &self.text_format {
            if !format.schema.is_object() {
                return Err(Error::invalid(
                    "output_config.text_format.schema",
                    "must be a JSON object (a JSON schema)",
                ));
            }
            if let Err(e) = format.fitted() {
                return Err(Error::invalid(
                    format!("output_config.text_format.schema{}", e.path),
                    format!("`{}`: {}", e.keyword, e.reason),
                ));
            }
            for (field, value) in [("name", &format.name), ("description", &format.description)] {
                if value.as_deref() == Some("") {
                    return Err(Error::invalid(
                        format!("output_config.text_format.{field}"),
                        "is empty (leave it out instead)",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// How much effort the model spends on a reply: the Converse API's
/// `outputConfig.effort`, sent as `low`, `medium`, `high`, `xhigh` or `max`
/// (the values the SDK's model documents). With extended thinking off the
/// service caps it at [`High`](Effort::High).
///
/// ```
/// use bedrock_converse::model::Effort;
/// use bedrock_converse::ConverseRequest;
///
/// let request = ConverseRequest::new("model").user("Think hard.").effort(Effort::XHigh);
/// assert_eq!(request.output_config.unwrap().effort, Some(Effort::XHigh));
/// assert_eq!(Effort::XHigh.as_str(), "xhigh");
/// assert_eq!("max".parse::<Effort>()?, Effort::Max);
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Effort {
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`: the most without extended thinking.
    High,
    /// `xhigh` (needs extended thinking).
    XHigh,
    /// `max` (needs extended thinking).
    Max,
}

impl Effort {
    /// Every level, lowest first.
    const ALL: [Effort; 5] = [
        Effort::Low,
        Effort::Medium,
        Effort::High,
        Effort::XHigh,
        Effort::Max,
    ];

    /// The value sent on the wire.
    ///
    /// ```
    /// # use bedrock_converse::model::Effort;
    /// assert_eq!(Effort::Medium.as_str(), "medium");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::XHigh => "xhigh",
            Effort::Max => "max",
        }
    }
}

impl std::fmt::Display for Effort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads the wire value (`low`, `medium`, `high`, `xhigh`, `max`; exactly,
/// as the service does).
///
/// # Errors
///
/// [`Error::InvalidRequest`] (field `effort`) for any other text.
impl std::str::FromStr for Effort {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Effort::ALL
            .into_iter()
            .find(|e| e.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(
                    "effort",
                    format!("is {text:?}: one of low, medium, high, xhigh or max"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refused_keyword_is_named_by_its_path() {
        let schema = json!({
            "type": "object",
            "properties": { "tags": { "type": "object", "additionalProperties": true } }
        });
        let config = OutputConfig::new().text_format(JsonSchemaFormat::new(schema));
        match config.validate() {
            Err(Error::InvalidRequest { field, .. }) => assert_eq!(
                field,
                "output_config.text_format.schema/properties/tags/additionalProperties"
            ),
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn a_bound_is_sent_as_a_description() {
        let schema = json!({
            "type": "object",
            "properties": { "age": { "type": "integer", "minimum": 0 } }
        });
        let format = JsonSchemaFormat::new(schema);
        let sent = format.fitted().unwrap();
        assert_eq!(
            sent["properties"]["age"],
            json!({"type": "integer", "description": "Must be at least 0."})
        );
        assert!(OutputConfig::new().text_format(format).validate().is_ok());
    }

    #[test]
    fn a_fitting_schema_is_closed_when_sent() {
        let format = JsonSchemaFormat::new(json!({"type": "object", "properties": {}}));
        assert_eq!(format.fitted().unwrap()["additionalProperties"], false);
        assert!(OutputConfig::new().text_format(format).validate().is_ok());
    }

    #[test]
    fn every_effort_reads_back_from_its_wire_value_and_nothing_else_does() {
        let wire = ["low", "medium", "high", "xhigh", "max"];
        for (effort, text) in Effort::ALL.into_iter().zip(wire) {
            assert_eq!(effort.as_str(), text);
            assert_eq!(effort.to_string(), text);
            assert_eq!(text.parse::<Effort>().unwrap(), effort);
        }
        for text in ["", "High", "x-high", "maximum", " low"] {
            match text.parse::<Effort>() {
                Err(Error::InvalidRequest { field, reason }) => {
                    assert_eq!(field, "effort");
                    assert!(reason.contains(&format!("{text:?}")), "{reason}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_effort_setter_sets_only_the_effort() {
        let format = JsonSchemaFormat::new(json!({"type": "object", "properties": {}}));
        let config = OutputConfig::new()
            .text_format(format.clone())
            .effort(Effort::Max);
        assert_eq!(config.effort, Some(Effort::Max));
        assert_eq!(config.text_format, Some(format));
        assert_eq!(config.effort(Effort::Low).effort, Some(Effort::Low));
    }
}
