//! The Converse request body (the service model's `ConverseRequest` shape,
//! without the `modelId` of the URI) to and from a [`ConverseRequest`].
//!
//! Written from the request's SDK input ([`SdkParts`]), so the JSON is what
//! the SDK sends; read into a [`ConverseRequest`], so nothing a body can say
//! is lost on the way to a call.

use aws_sdk_bedrockruntime::types::{
    self, GuardrailConfiguration, InferenceConfiguration, OutputFormatStructure,
    PromptVariableValues, ToolChoice as SdkToolChoice, ToolConfiguration, ToolInputSchema,
};
use serde_json::{Map, Value};

use super::content::{
    read_cache_point, read_message, read_system, write_block, write_cache_point, write_system,
};
use super::document::document_to_json;
use super::read::{
    boolean, enumeration, float, int, list, member, object, s, string, string_map, strings, union,
    unknown_member, write_float, Obj,
};
use super::JsonError;
use crate::model::{
    CachePoint, ConverseRequest, Effort, GuardrailConfig, InferenceConfig, JsonSchemaFormat,
    Message, OutputConfig, Tool, ToolChoice, ToolConfig, ToolEntry,
};
use crate::sdk::SdkParts;

/// Reads a request body for `model_id`.
pub(crate) fn read_request(model_id: &str, value: &Value) -> Result<ConverseRequest, JsonError> {
    let mut o = Obj::new(value, "")?;
    let mut r = ConverseRequest::new(model_id);
    r.messages = o
        .req_with("messages", |v, p| list(v, p, read_message))?
        .into_iter()
        .map(Message::from)
        .collect();
    r.system = o
        .opt_with("system", |v, p| list(v, p, read_system))?
        .unwrap_or_default();
    r.inference_config = o.opt_with("inferenceConfig", read_inference)?;
    r.tool_config = o.opt_with("toolConfig", read_tool_config)?;
    r.guardrail = o.opt_with("guardrailConfig", read_guardrail)?;
    r.additional_model_request_fields = o
        .opt("additionalModelRequestFields")
        .map(|(v, _)| v.clone());
    r.prompt_variables = o
        .opt_with("promptVariables", |v, p| {
            let Value::Object(map) = v else {
                return Err(JsonError::new(p, "must be an object"));
            };
            map.iter()
                .map(|(name, value)| {
                    let path = format!("{p}.{name}");
                    let (key, v, path) = union(value, &path)?;
                    match key {
                        "text" => Ok((name.clone(), string(v, &path)?)),
                        _ => Err(unknown_member(&path)),
                    }
                })
                .collect()
        })?
        .unwrap_or_default();
    r.additional_model_response_field_paths = o
        .opt_with("additionalModelResponseFieldPaths", strings)?
        .unwrap_or_default();
    r.request_metadata = o
        .opt_with("requestMetadata", string_map)?
        .map(|pairs| pairs.into_iter().collect())
        .unwrap_or_default();
    r.performance_latency = o.opt_with("performanceConfig", |v, p| {
        let mut o = Obj::new(v, p)?;
        let latency = o.req_with("latency", enumeration)?;
        o.finish()?;
        Ok(latency)
    })?;
    r.service_tier = o.opt_with("serviceTier", |v, p| {
        let mut o = Obj::new(v, p)?;
        let tier = o.req_with("type", enumeration)?;
        o.finish()?;
        Ok(tier)
    })?;
    r.output_config = o.opt_with("outputConfig", read_output_config)?;
    o.finish()?;
    Ok(r)
}

fn read_inference(value: &Value, path: &str) -> Result<InferenceConfig, JsonError> {
    let mut o = Obj::new(value, path)?;
    let max_tokens = o.opt_with("maxTokens", |v, p| {
        u32::try_from(int(v, p)?).map_err(|_| JsonError::new(p, "must not be negative"))
    })?;
    let config = InferenceConfig {
        max_tokens,
        temperature: o.opt_with("temperature", float)?,
        top_p: o.opt_with("topP", float)?,
        stop_sequences: o.opt_with("stopSequences", strings)?.unwrap_or_default(),
    };
    o.finish()?;
    Ok(config)
}

fn read_tool_config(value: &Value, path: &str) -> Result<ToolConfig, JsonError> {
    let mut o = Obj::new(value, path)?;
    let entries = o.req_with("tools", |v, p| list(v, p, read_tool))?;
    let choice = o.opt_with("toolChoice", |v, p| {
        let (key, v, p) = union(v, p)?;
        let mut inner = Obj::new(v, &p)?;
        let choice = match key {
            "auto" => ToolChoice::Auto,
            "any" => ToolChoice::Any,
            "tool" => ToolChoice::Tool(inner.req_str("name")?),
            _ => return Err(unknown_member(&p)),
        };
        inner.finish()?;
        Ok(choice)
    })?;
    o.finish()?;
    Ok(ToolConfig { entries, choice })
}

fn read_tool(value: &Value, path: &str) -> Result<ToolEntry, JsonError> {
    let (key, v, path) = union(value, path)?;
    match key {
        "toolSpec" => {
            let mut o = Obj::new(v, &path)?;
            let name = o.req_str("name")?;
            let description = o.opt_str("description")?;
            let input_schema = o.req_with("inputSchema", |v, p| {
                let (key, v, p) = union(v, p)?;
                match key {
                    "json" => Ok(v.clone()),
                    _ => Err(unknown_member(&p)),
                }
            })?;
            let strict = o.opt_with("strict", boolean)?;
            o.finish()?;
            Ok(ToolEntry::Tool(Tool {
                name,
                description,
                input_schema,
                strict,
                // A client-side setting, not part of the wire body.
                #[cfg(feature = "schema")]
                validate_input: false,
            }))
        }
        "cachePoint" => {
            let block = read_cache_point(v, &path)?;
            Ok(ToolEntry::CachePoint(CachePoint { ttl: block.ttl }))
        }
        "systemTool" => {
            let mut o = Obj::new(v, &path)?;
            let name = o.req_str("name")?;
            o.finish()?;
            Ok(ToolEntry::SystemTool(name))
        }
        _ => Err(unknown_member(&path)),
    }
}

fn read_guardrail(value: &Value, path: &str) -> Result<GuardrailConfig, JsonError> {
    let mut o = Obj::new(value, path)?;
    let mut g = GuardrailConfig::new(
        o.req_str("guardrailIdentifier")?,
        o.req_str("guardrailVersion")?,
    );
    g.trace = o.opt_with("trace", enumeration)?;
    o.finish()?;
    Ok(g)
}

fn read_output_config(value: &Value, path: &str) -> Result<OutputConfig, JsonError> {
    let mut o = Obj::new(value, path)?;
    let text_format = o.opt_with("textFormat", |v, p| {
        let mut o = Obj::new(v, p)?;
        let kind = o.req_str("type")?;
        if kind != "json_schema" {
            return Err(JsonError::new(
                &o.at("type"),
                format!("unknown output format {kind:?}"),
            ));
        }
        let format = o.req_with("structure", |v, p| {
            let (key, v, p) = union(v, p)?;
            if key != "jsonSchema" {
                return Err(unknown_member(&p));
            }
            let mut o = Obj::new(v, &p)?;
            let schema_path = o.at("schema");
            let schema = o.req_str("schema")?;
            let schema = serde_json::from_str(&schema)
                .map_err(|e| JsonError::new(&schema_path, format!("is not JSON: {e}")))?;
            let mut format = JsonSchemaFormat::new(schema);
            format.name = o.opt_str("name")?;
            format.description = o.opt_str("description")?;
            o.finish()?;
            Ok(format)
        })?;
        o.finish()?;
        Ok(format)
    })?;
    let effort = o.opt_with("effort", |v, p| {
        let text = string(v, p)?;
        text.parse::<Effort>().map_err(|_| {
            JsonError::new(
                p,
                format!("is {text:?}: one of low, medium, high, xhigh or max"),
            )
        })
    })?;
    o.finish()?;
    Ok(OutputConfig {
        text_format,
        effort,
    })
}

/// Writes the body the SDK sends for these parts.
pub(crate) fn write_request(p: &SdkParts) -> Result<Value, JsonError> {
    let messages = p
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let content = m
                .content
                .iter()
                .enumerate()
                .map(|(j, b)| {
                    write_block(b).map_err(|e| e.under(&format!("messages[{i}].content[{j}]")))
                })
                .collect::<Result<_, _>>()?;
            Ok(object([
                ("role", s(m.role.as_str())),
                ("content", Some(content)),
            ]))
        })
        .collect::<Result<_, JsonError>>()?;
    let system = p
        .system
        .as_ref()
        .map(|blocks| blocks.iter().map(write_system).collect::<Result<_, _>>())
        .transpose()?;
    let tool_config = p.tool_config.as_ref().map(write_tool_config).transpose()?;
    let output_config = p
        .output_config
        .as_ref()
        .map(write_output_config)
        .transpose()?;
    let map = |m: &std::collections::HashMap<String, String>| {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect(),
        )
    };
    let prompt_variables = p
        .prompt_variables
        .as_ref()
        .map(|vars| {
            vars.iter()
                .map(|(k, v)| match v {
                    PromptVariableValues::Text(t) => {
                        Ok((k.clone(), member("text", Value::from(t.as_str()))))
                    }
                    other => Err(JsonError::new(
                        &format!("promptVariables.{k}"),
                        format!("has no JSON form: {other:?}"),
                    )),
                })
                .collect::<Result<Map<_, _>, _>>()
                .map(Value::Object)
        })
        .transpose()?;
    Ok(object([
        ("messages", Some(messages)),
        ("system", system),
        (
            "inferenceConfig",
            p.inference_config.as_ref().map(write_inference),
        ),
        ("toolConfig", tool_config),
        ("guardrailConfig", p.guardrail.as_ref().map(write_guardrail)),
        (
            "additionalModelRequestFields",
            p.additional_model_request_fields
                .as_ref()
                .map(document_to_json),
        ),
        ("promptVariables", prompt_variables),
        (
            "additionalModelResponseFieldPaths",
            p.additional_model_response_field_paths
                .as_ref()
                .map(|paths| paths.iter().map(|x| Value::from(x.as_str())).collect()),
        ),
        ("requestMetadata", p.request_metadata.as_ref().map(map)),
        (
            "performanceConfig",
            p.performance_config
                .as_ref()
                .map(|c| object([("latency", s(c.latency.as_str()))])),
        ),
        (
            "serviceTier",
            p.service_tier
                .as_ref()
                .map(|t| object([("type", s(t.r#type.as_str()))])),
        ),
        ("outputConfig", output_config),
    ]))
}

fn write_inference(c: &InferenceConfiguration) -> Value {
    object([
        ("maxTokens", c.max_tokens.map(Value::from)),
        ("temperature", c.temperature.map(write_float)),
        ("topP", c.top_p.map(write_float)),
        (
            "stopSequences",
            c.stop_sequences
                .as_ref()
                .map(|v| v.iter().map(|x| Value::from(x.as_str())).collect()),
        ),
    ])
}

fn write_guardrail(g: &GuardrailConfiguration) -> Value {
    object([
        ("guardrailIdentifier", s(&g.guardrail_identifier)),
        ("guardrailVersion", s(&g.guardrail_version)),
        ("trace", s(g.trace.as_str())),
    ])
}

fn write_tool_config(c: &ToolConfiguration) -> Result<Value, JsonError> {
    let tools = c
        .tools
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Ok(match t {
                types::Tool::ToolSpec(spec) => {
                    let schema = match &spec.input_schema {
                        Some(ToolInputSchema::Json(d)) => Some(member("json", document_to_json(d))),
                        None => None,
                        Some(other) => {
                            return Err(JsonError::new(
                                &format!("toolConfig.tools[{i}].toolSpec.inputSchema"),
                                format!("has no JSON form: {other:?}"),
                            ))
                        }
                    };
                    member(
                        "toolSpec",
                        object([
                            ("name", s(&spec.name)),
                            ("description", spec.description.as_deref().and_then(s)),
                            ("inputSchema", schema),
                            ("strict", spec.strict.map(Value::Bool)),
                        ]),
                    )
                }
                types::Tool::CachePoint(c) => member("cachePoint", write_cache_point(c)),
                types::Tool::SystemTool(t) => member("systemTool", object([("name", s(&t.name))])),
                other => {
                    return Err(JsonError::new(
                        &format!("toolConfig.tools[{i}]"),
                        format!("has no JSON form: {other:?}"),
                    ))
                }
            })
        })
        .collect::<Result<_, _>>()?;
    let choice = c
        .tool_choice
        .as_ref()
        .map(|choice| match choice {
            SdkToolChoice::Auto(_) => Ok(member("auto", object([]))),
            SdkToolChoice::Any(_) => Ok(member("any", object([]))),
            SdkToolChoice::Tool(t) => Ok(member("tool", object([("name", s(&t.name))]))),
            other => Err(JsonError::new(
                "toolConfig.toolChoice",
                format!("has no JSON form: {other:?}"),
            )),
        })
        .transpose()?;
    Ok(object([("tools", Some(tools)), ("toolChoice", choice)]))
}

fn write_output_config(c: &types::OutputConfig) -> Result<Value, JsonError> {
    let format = c
        .text_format
        .as_ref()
        .map(|f| {
            let structure = match &f.structure {
                Some(OutputFormatStructure::JsonSchema(d)) => Some(member(
                    "jsonSchema",
                    object([
                        ("schema", s(&d.schema)),
                        ("name", d.name.as_deref().and_then(s)),
                        ("description", d.description.as_deref().and_then(s)),
                    ]),
                )),
                None => None,
                Some(other) => {
                    return Err(JsonError::new(
                        "outputConfig.textFormat.structure",
                        format!("has no JSON form: {other:?}"),
                    ))
                }
            };
            Ok(object([
                ("type", s(f.r#type.as_str())),
                ("structure", structure),
            ]))
        })
        .transpose()?;
    Ok(object([
        ("textFormat", format),
        ("effort", c.effort.as_deref().and_then(s)),
    ]))
}
