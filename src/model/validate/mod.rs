//! Checking a request the way the service would, before anything is sent:
//! every refusal is an [`Error::InvalidRequest`] naming its field. The
//! service's own rules (with its messages, shared with the bundled server)
//! are the table in [`rules`]; `shape` reads a request into that table's view.

mod media;
pub mod rules;
mod shape;
mod tools;

use media::check_content;
use rules::Call;

use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole};

use super::catalogue::Catalogue;
use super::request::{ConverseRequest, GuardrailConfig, InferenceConfig};
use crate::error::Error;

/// The longest model id (or ARN) the API accepts.
const MAX_MODEL_ID_LEN: usize = 2048;

impl ConverseRequest {
    /// Checks the request the way the service would, so that a bad request
    /// fails fast with [`Error::InvalidRequest`] naming the field (and, for
    /// the service's rules, quoting its message), and nothing is sent. Both
    /// `converse` and `converse_with` call this first. Per-model rules come
    /// from the [catalogue](crate::model::catalogue::Catalogue::current); a
    /// model it does not know is never refused.
    ///
    /// ```
    /// use bedrock_converse::{ConverseRequest, Error};
    /// let err = ConverseRequest::new("m").user("hi").temperature(1.5).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "temperature"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] naming the first field at fault.
    pub fn validate(&self) -> Result<(), Error> {
        let model = self.model_id.trim();
        if model.is_empty() {
            return Err(Error::invalid("model_id", "is empty"));
        }
        if self.model_id.len() > MAX_MODEL_ID_LEN {
            return Err(Error::invalid(
                "model_id",
                format!("is longer than {MAX_MODEL_ID_LEN} bytes"),
            ));
        }
        if model != self.model_id {
            return Err(Error::invalid(
                "model_id",
                "has leading or trailing whitespace",
            ));
        }
        for (i, m) in self.messages.iter().enumerate() {
            if !matches!(
                m.role,
                ConversationRole::User | ConversationRole::Assistant | ConversationRole::System
            ) {
                return Err(Error::invalid(
                    format!("messages[{i}].role"),
                    format!(
                        "is `{}`: only `user`, `assistant` and `system` are allowed",
                        m.role.as_str()
                    ),
                ));
            }
        }
        let catalogue = Catalogue::current();
        rules::check(&self.shape(), &catalogue, Call::Client)
            .map_err(|r| Error::invalid(r.field.clone(), r.reason()))?;
        let default_config = InferenceConfig::default();
        let ic = self.inference_config.as_ref().unwrap_or(&default_config);
        for (i, s) in ic.stop_sequences.iter().enumerate() {
            if s.is_empty() {
                return Err(Error::invalid(format!("stop_sequences[{i}]"), "is empty"));
            }
        }
        if let Some(fields) = &self.additional_model_request_fields {
            if !fields.is_object() {
                return Err(Error::invalid(
                    "additional_model_request_fields",
                    "must be a JSON object",
                ));
            }
        }
        check_content(&self.messages, &self.content_limits)?;
        self.validate_tools()?;
        if let Some(g) = &self.guardrail {
            g.validate()?;
        }
        if let Some(output) = &self.output_config {
            output.validate()?;
        }
        self.check_schema_limits()?;
        for (key, value) in &self.request_metadata {
            if key.is_empty() || key.chars().count() > 256 {
                return Err(Error::invalid(
                    format!("request_metadata[{key:?}]"),
                    "has a key that is not 1 to 256 characters long",
                ));
            }
            if value.chars().count() > 256 {
                return Err(Error::invalid(
                    format!("request_metadata[{key:?}]"),
                    "has a value longer than 256 characters",
                ));
            }
        }
        for (i, path) in self
            .additional_model_response_field_paths
            .iter()
            .enumerate()
        {
            if let Some(reason) = bad_json_pointer(path) {
                return Err(Error::invalid(
                    format!("additional_model_response_field_paths[{i}]"),
                    reason,
                ));
            }
        }
        if self.prompt_variables.keys().any(String::is_empty) {
            return Err(Error::invalid("prompt_variables", "has an empty name"));
        }
        Ok(())
    }

    fn validate_tools(&self) -> Result<(), Error> {
        if let Some(config) = &self.tool_config {
            config.validate()?;
        }
        for (i, m) in self.messages.iter().enumerate() {
            for (j, block) in m.content.iter().enumerate() {
                let id = match block {
                    ContentBlock::ToolUse(t) => &t.tool_use_id,
                    ContentBlock::ToolResult(r) => &r.tool_use_id,
                    _ => continue,
                };
                if id.is_empty() {
                    return Err(Error::invalid(
                        format!("messages[{i}].content[{j}].tool_use_id"),
                        "is empty",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl GuardrailConfig {
    fn validate(&self) -> Result<(), Error> {
        if self.identifier.trim().is_empty() {
            return Err(Error::invalid("guardrail.identifier", "is empty"));
        }
        if self.identifier.len() > 2048 {
            return Err(Error::invalid(
                "guardrail.identifier",
                "is longer than 2048 bytes",
            ));
        }
        let v = &self.version;
        let numeric = !v.is_empty()
            && v.len() <= 8
            && v.bytes().all(|b| b.is_ascii_digit())
            && !v.starts_with('0');
        if !(numeric || v == "DRAFT") {
            return Err(Error::invalid(
                "guardrail.version",
                format!("is {v:?}: it must be a version number (1, 2, …) or \"DRAFT\""),
            ));
        }
        Ok(())
    }
}

/// Why a JSON Pointer (RFC 6901) is malformed, if it is.
fn bad_json_pointer(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("is empty: it must be a JSON Pointer such as \"/stop_sequence\"".into());
    }
    if !path.starts_with('/') {
        return Some(format!(
            "is {path:?}: a JSON Pointer starts with `/`, e.g. \"/stop_sequence\""
        ));
    }
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Some(format!(
                "is {path:?}: in a JSON Pointer `~` must be followed by 0 or 1"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Message;
    use serde_json::json;

    fn field(r: &ConverseRequest) -> String {
        match r.validate() {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        let ok = ConverseRequest::new("m").user("hi");
        assert!(ok.validate().is_ok());
        assert_eq!(field(&ConverseRequest::new("").user("hi")), "model_id");
        assert_eq!(field(&ConverseRequest::new(" m").user("hi")), "model_id");
        assert_eq!(field(&ConverseRequest::new("m")), "messages");
        assert_eq!(
            field(&ConverseRequest::new("m").assistant("hi")),
            "messages[0].role"
        );
        // Bedrock accepts consecutive turns of the same role (a recorded
        // exchange shows it), so they are not refused here.
        assert!(ConverseRequest::new("m")
            .user("a")
            .user("b")
            .validate()
            .is_ok());
        assert_eq!(
            field(&ConverseRequest::new("m").message(Message::new(ConversationRole::User, vec![]))),
            "messages[0].content"
        );
        assert_eq!(field(&ok.clone().temperature(1.01)), "temperature");
        assert_eq!(field(&ok.clone().temperature(-0.1)), "temperature");
        assert_eq!(field(&ok.clone().temperature(f32::NAN)), "temperature");
        assert_eq!(field(&ok.clone().top_p(2.0)), "top_p");
        assert_eq!(field(&ok.clone().max_tokens(0)), "max_tokens");
        assert_eq!(field(&ok.clone().stop_sequence("")), "stop_sequences[0]");
        assert_eq!(field(&ok.clone().system("")), "system[0]");
        assert_eq!(
            field(&ok.clone().additional_model_request_fields(json!([1]))),
            "additional_model_request_fields"
        );
        assert!(ok
            .clone()
            .temperature(0.0)
            .temperature(1.0)
            .validate()
            .is_ok());
    }
}
