//! The tool checks: names, schemas, duplicates and the tool choice.

use std::collections::HashSet;

use crate::error::Error;
use crate::model::{Tool, ToolChoice, ToolConfig, ToolEntry};

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

impl Tool {
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
        self.strict_schema(field)?;
        Ok(())
    }

    /// The input schema as sent: for a strict tool, [fitted](crate::model::schema::fit)
    /// to the service's structured-output subset (objects closed, keywords
    /// the service refuses refused here, naming their JSON path); otherwise
    /// as given.
    pub(crate) fn strict_schema(&self, field: &str) -> Result<serde_json::Value, Error> {
        if self.strict != Some(true) {
            return Ok(self.input_schema.clone());
        }
        crate::model::schema::fit(self.input_schema.clone())
            .map_err(|e| Error::invalid(format!("{field}.input_schema{}", e.path), e.reason))
    }
}

impl ToolConfig {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let mut names = HashSet::new();
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
            if !names.insert(name.as_str()) {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!("repeats the tool name {name:?}"),
                ));
            }
        }
        // Every name counted is in `names` (a repeat is refused above).
        if names.is_empty() {
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

    #[test]
    fn a_strict_tools_schema_is_sent_fitted_and_any_other_as_given() {
        let schema =
            json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}});
        let loose = Tool::new("a", "A.", schema.clone());
        assert_eq!(loose.strict_schema("f").unwrap(), schema);
        let off = Tool::new("a", "A.", schema.clone()).strict(false);
        assert_eq!(off.strict_schema("f").unwrap(), schema);
        let strict = Tool::new("a", "A.", schema.clone()).strict(true);
        let sent = strict.strict_schema("f").unwrap();
        assert_eq!(sent, crate::model::schema::fit(schema).unwrap());
        assert_eq!(sent["additionalProperties"], false);
        // A keyword the service refuses in a strict schema is refused here,
        // naming its path; a tool that is not strict sends it as written.
        let refused = json!({"type": "object", "if": {"type": "object"}});
        let config = ToolConfig::new().tool(Tool::new("a", "A.", refused.clone()).strict(true));
        assert_eq!(field(&config), "tool_config.tools[0].input_schema/if");
        assert!(ToolConfig::new()
            .tool(Tool::new("a", "A.", refused))
            .validate()
            .is_ok());
    }

    #[test]
    fn system_tools_are_named_and_counted_like_tools() {
        let schema = json!({"type": "object"});
        assert!(ToolConfig::new()
            .system_tool("nova_grounding")
            .validate()
            .is_ok());
        assert_eq!(
            field(&ToolConfig::new().system_tool("bad name")),
            "tool_config.tools[0].name"
        );
        let both = ToolConfig::new()
            .tool(Tool::new("a", "A.", schema))
            .system_tool("a");
        assert_eq!(field(&both), "tool_config.tools[1].name");
        let chosen = ToolConfig::new()
            .system_tool("nova_grounding")
            .choice(ToolChoice::tool("nova_grounding"));
        assert!(chosen.validate().is_ok());
    }
}
