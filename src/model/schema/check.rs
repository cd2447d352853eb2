//! The reply's side: a value checked against the original schema, with
//! everything [`fit`](super::fit) moved into descriptions, by the
//! [`jsonschema`] crate.

use serde_json::Value;

use crate::error::Error;
use crate::model::{ConverseRequest, Response, Tool};

/// At most this many breaches are named in one message.
const MAX_NAMED: usize = 5;

/// A schema compiled for checking values: JSON Schema draft 2020-12, with
/// `format`s asserted (an unknown format is ignored).
///
/// ```
/// use bedrock_converse::model::schema::SchemaCheck;
/// use serde_json::json;
///
/// let check = SchemaCheck::new(&json!({"type": "object",
///     "properties": {"rating": {"type": "integer", "maximum": 10}}}))?;
/// assert_eq!(check.check(&json!({"rating": 7})), Ok(()));
/// assert_eq!(check.check(&json!({"rating": 12})).unwrap_err(),
///     "/rating: 12 is greater than the maximum of 10");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug)]
pub struct SchemaCheck {
    validator: jsonschema::Validator,
}

impl SchemaCheck {
    /// Compiles `schema`.
    ///
    /// # Errors
    ///
    /// What the validator says when `schema` is not a valid JSON Schema.
    pub fn new(schema: &Value) -> Result<SchemaCheck, String> {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(schema)
            .map(|validator| SchemaCheck { validator })
            .map_err(|e| format!("the schema is not valid JSON Schema: {e}"))
    }

    /// Checks `value`.
    ///
    /// # Errors
    ///
    /// Each breach (up to five, `; `-separated) as the JSON Pointer of the
    /// value at fault, what is wrong, and the keyword when the message does
    /// not say it: `/rating: 12 is greater than the maximum of 10`,
    /// `/name: "" is shorter than 1 character (minLength)`; `(root)` is the
    /// whole value.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        let breaches: Vec<String> = self
            .validator
            .iter_errors(value)
            .take(MAX_NAMED)
            .map(|e| {
                let at = e.instance_path().to_string();
                let at = if at.is_empty() { "(root)".into() } else { at };
                let keyword = e.kind().keyword().to_owned();
                let message = e.to_string();
                if message.contains(&keyword) {
                    format!("{at}: {message}")
                } else {
                    format!("{at}: {message} ({keyword})")
                }
            })
            .collect();
        if breaches.is_empty() {
            Ok(())
        } else {
            Err(breaches.join("; "))
        }
    }
}

impl Tool {
    /// Checks a call's input against this tool's input schema as written
    /// (bounds and all, not the [fitted](super::fit) one sent for a strict
    /// tool). [`validate_input`](Tool::validate_input) has the client do it
    /// for every call of this tool.
    ///
    /// ```
    /// use bedrock_converse::model::Tool;
    /// use serde_json::json;
    ///
    /// let tool = Tool::new("rate", "Rates.", json!({"type": "object",
    ///     "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}}}));
    /// assert!(tool.check_input(&json!({"stars": 3})).is_ok());
    /// assert_eq!(tool.check_input(&json!({"stars": 0})).unwrap_err(),
    ///     "/stars: 0 is less than the minimum of 1");
    /// ```
    ///
    /// # Errors
    ///
    /// The breaches, as [`SchemaCheck::check`] names them (or why the
    /// schema cannot be compiled).
    pub fn check_input(&self, input: &Value) -> Result<(), String> {
        SchemaCheck::new(&self.input_schema)?.check(input)
    }
}

impl ConverseRequest {
    /// Checks each tool call in `response` to a tool of this request that
    /// asked for it ([`Tool::validate_input`]).
    pub(crate) fn check_tool_inputs(&self, response: Response) -> Result<Response, Error> {
        let Some(config) = &self.tool_config else {
            return Ok(response);
        };
        for call in response.tool_uses() {
            let tool = config
                .tools()
                .find(|t| t.validate_input && t.name == call.name);
            if let Some(Err(reason)) = tool.map(|t| t.check_input(&call.input)) {
                return Err(Error::InvalidToolInput {
                    tool_use_id: call.id,
                    name: call.name,
                    input: call.input.to_string(),
                    reason: format!("does not match the tool's input schema: {reason}"),
                    response: Box::new(response),
                });
            }
        }
        Ok(response)
    }
}
