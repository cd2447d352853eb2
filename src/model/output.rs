//! Structured output: [`OutputConfig`], the Converse API's `outputConfig`,
//! and its [`JsonSchemaFormat`].

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
pub struct OutputConfig {
    /// The JSON schema the reply's text must follow.
    pub text_format: Option<JsonSchemaFormat>,
    /// How much effort the model spends: `low`, `medium`, `high`, `xhigh`
    /// or `max` (models that support it; above `high` needs extended
    /// thinking).
    pub effort: Option<String>,
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
    pub fn effort(mut self, effort: impl Into<String>) -> Self {
        self.effort = Some(effort.into());
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
        if self.effort.as_deref() == Some("") {
            return Err(Error::invalid("output_config.effort", "is empty"));
        }
        Ok(())
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
}
