//! A validated [`ConverseRequest`] as the SDK's input: [`SdkParts`], and
//! [`fill!`](crate::sdk::fill) to put them on either operation's builder.

use std::collections::BTreeMap;

use aws_sdk_bedrockruntime::types::{
    self, AnyToolChoice, AutoToolChoice, GuardrailConfiguration, GuardrailStreamConfiguration,
    InferenceConfiguration, JsonSchemaDefinition, OutputFormat, OutputFormatStructure,
    OutputFormatType, PerformanceConfiguration, PromptVariableValues, ServiceTier,
    SpecificToolChoice, SystemContentBlock, SystemTool, ToolConfiguration, ToolInputSchema,
    ToolSpecification,
};
use aws_smithy_types::Document;

use super::json::json_to_document;
use crate::error::Error;
use crate::model::{
    ConverseRequest, GuardrailConfig, InferenceConfig, OutputConfig, Tool, ToolChoice, ToolConfig,
    ToolEntry,
};

/// A validated request in the SDK's types, ready for either operation's builder.
#[derive(Clone)]
pub(crate) struct SdkParts {
    pub(crate) model_id: String,
    pub(crate) messages: Vec<types::Message>,
    pub(crate) system: Option<Vec<SystemContentBlock>>,
    pub(crate) inference_config: Option<InferenceConfiguration>,
    pub(crate) additional_model_request_fields: Option<Document>,
    pub(crate) tool_config: Option<ToolConfiguration>,
    /// The guardrail for Converse.
    pub(crate) guardrail: Option<GuardrailConfiguration>,
    /// The same guardrail for ConverseStream, which takes a different type.
    pub(crate) guardrail_stream: Option<GuardrailStreamConfiguration>,
    pub(crate) request_metadata: Option<std::collections::HashMap<String, String>>,
    pub(crate) performance_config: Option<PerformanceConfiguration>,
    pub(crate) service_tier: Option<ServiceTier>,
    pub(crate) additional_model_response_field_paths: Option<Vec<String>>,
    pub(crate) prompt_variables: Option<std::collections::HashMap<String, PromptVariableValues>>,
    pub(crate) output_config: Option<types::OutputConfig>,
}

impl ConverseRequest {
    /// Validates, then converts to the SDK's input pieces.
    pub(crate) fn to_sdk(&self) -> Result<SdkParts, Error> {
        self.validate()?;
        let messages = self
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| m.to_sdk(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SdkParts {
            model_id: self.model_id.clone(),
            messages,
            system: if self.system.is_empty() {
                None
            } else {
                Some(self.system.clone())
            },
            inference_config: self.inference_config.as_ref().map(InferenceConfig::to_sdk),
            additional_model_request_fields: self
                .additional_model_request_fields
                .as_ref()
                .map(json_to_document),
            tool_config: self
                .tool_config
                .as_ref()
                .map(ToolConfig::to_sdk)
                .transpose()?,
            guardrail: self.guardrail.as_ref().map(GuardrailConfig::to_sdk),
            guardrail_stream: self.guardrail.as_ref().map(GuardrailConfig::to_sdk_stream),
            request_metadata: non_empty(&self.request_metadata)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            performance_config: self.performance_latency.as_ref().map(|l| {
                PerformanceConfiguration::builder()
                    .latency(l.clone())
                    .build()
            }),
            service_tier: self
                .service_tier
                .as_ref()
                .map(|t| {
                    ServiceTier::builder()
                        .r#type(t.clone())
                        .build()
                        .map_err(|e| Error::invalid("service_tier", e.to_string()))
                })
                .transpose()?,
            additional_model_response_field_paths: if self
                .additional_model_response_field_paths
                .is_empty()
            {
                None
            } else {
                Some(self.additional_model_response_field_paths.clone())
            },
            prompt_variables: non_empty(&self.prompt_variables).map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), PromptVariableValues::Text(v.clone())))
                    .collect()
            }),
            output_config: self
                .output_config
                .as_ref()
                .map(OutputConfig::to_sdk)
                .transpose()?,
        })
    }
}

impl OutputConfig {
    /// `outputConfig`, the schema [fitted](crate::model::schema::fit) and
    /// serialized to the JSON string the API takes.
    fn to_sdk(&self) -> Result<types::OutputConfig, Error> {
        let text_format = self
            .text_format
            .as_ref()
            .map(|f| {
                let field = "output_config.text_format";
                let schema = f
                    .fitted()
                    .map_err(|e| Error::invalid(format!("{field}.schema{}", e.path), e.reason))?;
                let definition = JsonSchemaDefinition::builder()
                    .schema(schema.to_string())
                    .set_name(f.name.clone())
                    .set_description(f.description.clone())
                    .build()
                    .map_err(|e| Error::invalid(field, e.to_string()))?;
                OutputFormat::builder()
                    .r#type(OutputFormatType::JsonSchema)
                    .structure(OutputFormatStructure::JsonSchema(definition))
                    .build()
                    .map_err(|e| Error::invalid(field, e.to_string()))
            })
            .transpose()?;
        Ok(types::OutputConfig::builder()
            .set_text_format(text_format)
            .set_effort(self.effort.map(|e| e.as_str().to_owned()))
            .build())
    }
}

fn non_empty<K, V>(map: &BTreeMap<K, V>) -> Option<&BTreeMap<K, V>> {
    (!map.is_empty()).then_some(map)
}

impl GuardrailConfig {
    fn to_sdk(&self) -> GuardrailConfiguration {
        GuardrailConfiguration::builder()
            .guardrail_identifier(&self.identifier)
            .guardrail_version(&self.version)
            .set_trace(self.trace.clone())
            .build()
    }

    fn to_sdk_stream(&self) -> GuardrailStreamConfiguration {
        GuardrailStreamConfiguration::builder()
            .guardrail_identifier(&self.identifier)
            .guardrail_version(&self.version)
            .set_trace(self.trace.clone())
            .set_stream_processing_mode(self.stream_processing_mode.clone())
            .build()
    }
}

impl InferenceConfig {
    fn to_sdk(&self) -> InferenceConfiguration {
        InferenceConfiguration::builder()
            .set_max_tokens(self.max_tokens.map(|m| m.min(i32::MAX as u32) as i32))
            .set_temperature(self.temperature)
            .set_top_p(self.top_p)
            .set_stop_sequences(if self.stop_sequences.is_empty() {
                None
            } else {
                Some(self.stop_sequences.clone())
            })
            .build()
    }
}

impl Tool {
    /// The tool spec; a strict tool's schema is sent fitted to the
    /// structured-output subset (see [`Tool::strict_schema`]).
    fn to_sdk(&self, index: usize) -> Result<types::Tool, Error> {
        let schema = self.strict_schema(&format!("tool_config.tools[{index}]"))?;
        ToolSpecification::builder()
            .name(&self.name)
            .set_description(self.description.clone())
            .input_schema(ToolInputSchema::Json(json_to_document(&schema)))
            .set_strict(self.strict)
            .build()
            .map(types::Tool::ToolSpec)
            .map_err(|e| Error::invalid("tool_config", e.to_string()))
    }
}

impl ToolChoice {
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

impl ToolConfig {
    pub(crate) fn to_sdk(&self) -> Result<types::ToolConfiguration, Error> {
        let tools = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| match e {
                ToolEntry::Tool(t) => t.to_sdk(i),
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

/// Sets the guardrail on either operation's fluent builder: the two
/// operations take different guardrail types, so each builder picks its own
/// from the [`SdkParts`].
pub(crate) trait SetGuardrail: Sized {
    fn set_guardrail_from(self, parts: &mut SdkParts) -> Self;
}

impl SetGuardrail for aws_sdk_bedrockruntime::operation::converse::builders::ConverseFluentBuilder {
    fn set_guardrail_from(self, parts: &mut SdkParts) -> Self {
        self.set_guardrail_config(parts.guardrail.take())
    }
}

impl SetGuardrail
    for aws_sdk_bedrockruntime::operation::converse_stream::builders::ConverseStreamFluentBuilder
{
    fn set_guardrail_from(self, parts: &mut SdkParts) -> Self {
        self.set_guardrail_config(parts.guardrail_stream.take())
    }
}

/// Fills either operation's fluent builder from validated [`SdkParts`] (the
/// two builders have the same setters but different types; the guardrail,
/// whose type differs per operation, is set through [`SetGuardrail`]).
macro_rules! fill {
    ($builder:expr, $parts:expr) => {{
        use $crate::sdk::SetGuardrail as _;
        let mut p: $crate::sdk::SdkParts = $parts;
        $builder
            .set_guardrail_from(&mut p)
            .model_id(p.model_id)
            .set_messages(Some(p.messages))
            .set_system(p.system)
            .set_inference_config(p.inference_config)
            .set_additional_model_request_fields(p.additional_model_request_fields)
            .set_tool_config(p.tool_config)
            .set_request_metadata(p.request_metadata)
            .set_performance_config(p.performance_config)
            .set_service_tier(p.service_tier)
            .set_additional_model_response_field_paths(p.additional_model_response_field_paths)
            .set_prompt_variables(p.prompt_variables)
            .set_output_config(p.output_config)
    }};
}
pub(crate) use fill;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_parts_omit_empty_sections() {
        let p = ConverseRequest::new("m").user("hi").to_sdk().unwrap();
        assert!(p.system.is_none());
        assert!(p.inference_config.is_none());
        assert!(p.additional_model_request_fields.is_none());
        assert_eq!(p.messages.len(), 1);
    }
}
