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

    /// The reason a request is refused for, with its field.
    fn refusal(r: &ConverseRequest) -> (String, String) {
        match r.validate() {
            Err(Error::InvalidRequest { field, reason }) => (field, reason),
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn a_model_id_is_up_to_2048_bytes_with_no_surrounding_whitespace() {
        let at = |id: String| ConverseRequest::new(id).user("hi");
        assert!(at("m".repeat(2048)).validate().is_ok());
        let (field, reason) = refusal(&at("m".repeat(2049)));
        assert_eq!(
            (field.as_str(), reason.as_str()),
            ("model_id", "is longer than 2048 bytes")
        );
        // Bytes, not characters: 1,025 two-byte characters are 2,050 bytes.
        assert_eq!(refusal(&at("é".repeat(1025))).0, "model_id");
        assert_eq!(refusal(&at("   ".into())).1, "is empty");
        for id in [" m", "m ", "m\n"] {
            let (field, reason) = refusal(&at(id.into()));
            assert_eq!(field, "model_id");
            assert_eq!(reason, "has leading or trailing whitespace", "{id:?}");
        }
    }

    #[test]
    fn request_metadata_keys_and_values_are_counted_in_characters_up_to_256() {
        let ok = ConverseRequest::new("m").user("hi");
        let with = |k: String, v: String| ok.clone().request_metadata(k, v);
        assert!(with("k".repeat(256), "v".repeat(256)).validate().is_ok());
        assert!(with("é".repeat(256), "é".repeat(256)).validate().is_ok());
        for (k, v, why) in [
            (
                String::new(),
                "v".into(),
                "has a key that is not 1 to 256 characters long",
            ),
            (
                "k".repeat(257),
                "v".into(),
                "has a key that is not 1 to 256 characters long",
            ),
            (
                "k".into(),
                "v".repeat(257),
                "has a value longer than 256 characters",
            ),
        ] {
            let (field, reason) = refusal(&with(k.clone(), v));
            assert_eq!(field, format!("request_metadata[{k:?}]"));
            assert_eq!(reason, why);
        }
        // An empty value is allowed.
        assert!(with("k".into(), String::new()).validate().is_ok());
    }

    #[test]
    fn response_field_paths_are_json_pointers() {
        for ok in ["/", "/stop_sequence", "/a~0b/c~1d", "/a/0"] {
            assert_eq!(bad_json_pointer(ok), None, "{ok:?}");
        }
        for bad in ["", "stop_sequence", "/a~", "/a~2", "/~x/b", "~0"] {
            assert!(bad_json_pointer(bad).is_some(), "{bad:?}");
        }
        let r = ConverseRequest::new("m")
            .user("hi")
            .additional_model_response_field_path("/ok")
            .additional_model_response_field_path("no-slash");
        let (field, reason) = refusal(&r);
        assert_eq!(field, "additional_model_response_field_paths[1]");
        assert!(reason.contains("starts with `/`"), "{reason}");
    }

    #[test]
    fn a_guardrail_has_an_identifier_of_up_to_2048_bytes_and_a_number_or_draft() {
        let with = |id: String, v: &str| {
            ConverseRequest::new("m")
                .user("hi")
                .guardrail(GuardrailConfig::new(id, v))
        };
        for v in ["1", "9", "10", "12345678", "DRAFT"] {
            assert!(with("g".into(), v).validate().is_ok(), "{v:?}");
        }
        assert!(with("g".repeat(2048), "1").validate().is_ok());
        for (id, v, f) in [
            (String::new(), "1", "guardrail.identifier"),
            (" ".into(), "1", "guardrail.identifier"),
            ("g".repeat(2049), "1", "guardrail.identifier"),
            ("g".into(), "", "guardrail.version"),
            ("g".into(), "0", "guardrail.version"),
            ("g".into(), "01", "guardrail.version"),
            ("g".into(), "123456789", "guardrail.version"),
            ("g".into(), "1a", "guardrail.version"),
            ("g".into(), "-1", "guardrail.version"),
            ("g".into(), "draft", "guardrail.version"),
            ("g".into(), "DRAFT1", "guardrail.version"),
        ] {
            assert_eq!(refusal(&with(id, v)).0, f, "{v:?}");
        }
    }

    #[test]
    fn tool_uses_and_results_need_an_id_and_prompt_variables_a_name() {
        use crate::model::ToolResult;
        use crate::types::ToolUseBlock;
        let call = |id: &str| {
            let block = ToolUseBlock::builder()
                .tool_use_id(id)
                .name("t")
                .input(aws_smithy_types::Document::Object(Default::default()))
                .build()
                .unwrap();
            Message::new(
                ConversationRole::Assistant,
                vec![ContentBlock::ToolUse(block)],
            )
        };
        let answer = |id: &str| Message::tool_results([ToolResult::text(id, "ok")]);
        let tools = crate::model::ToolConfig::new().tool(crate::model::Tool::new(
            "t",
            "T.",
            json!({"type": "object"}),
        ));
        let with = |use_id: &str, result_id: &str| {
            ConverseRequest::new("m")
                .user("hi")
                .message(call(use_id))
                .message(answer(result_id))
                .tool_config(tools.clone())
        };
        assert!(with("t1", "t1").validate().is_ok());
        assert_eq!(
            refusal(&with("", "t1")).0,
            "messages[1].content[0].tool_use_id"
        );
        assert_eq!(
            refusal(&with("t1", "")).0,
            "messages[2].content[0].tool_use_id"
        );
        let ok = ConverseRequest::new("m").user("hi");
        assert!(ok.clone().prompt_variable("x", "").validate().is_ok());
        assert_eq!(refusal(&ok.prompt_variable("", "v")).0, "prompt_variables");
    }
}
