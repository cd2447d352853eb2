//! The Converse response body (the service model's `ConverseResponse`
//! shape) to and from a [`Response`].

use aws_sdk_bedrockruntime::types::{
    self, CacheDetail, CacheTtl, ConverseTrace, PerformanceConfiguration, PromptRouterTrace,
    ServiceTier, TokenUsage,
};
use serde_json::Value;

use super::content::{read_message, write_block};
use super::read::{built, enumeration, int, list, long, object, s, Obj};
use super::trace::read_guardrail_trace;
use super::trace_write::write_guardrail_trace;
use super::JsonError;
use crate::model::{Message, Metrics, Response, Trace, Usage};

/// Reads a response body.
pub(crate) fn read_response(value: &Value) -> Result<Response, JsonError> {
    let mut o = Obj::new(value, "")?;
    let message = o.req_with("output", |v, p| {
        let mut o = Obj::new(v, p)?;
        let m = o.req_with("message", read_message)?;
        o.finish()?;
        Ok(Message::from(m))
    })?;
    let response = Response {
        message,
        stop_reason: o.opt_with("stopReason", enumeration)?,
        usage: o.opt_with("usage", read_usage)?,
        metrics: o.opt_with("metrics", |v, p| {
            let mut o = Obj::new(v, p)?;
            let latency = o.req_with("latencyMs", long)?;
            o.finish()?;
            Ok(Metrics::new(latency.max(0) as u64))
        })?,
        additional_model_response_fields: o
            .opt("additionalModelResponseFields")
            .map(|(v, _)| v.clone()),
        request_id: None,
        // How the client got the reply, not part of the body.
        stream_fallback: None,
        answered_by: None,
        trace: o.opt_with("trace", read_trace)?,
        performance_config: o.opt_with("performanceConfig", |v, p| {
            let mut o = Obj::new(v, p)?;
            let latency = o.req_with("latency", enumeration)?;
            o.finish()?;
            Ok(PerformanceConfiguration::builder().latency(latency).build())
        })?,
        service_tier: o.opt_with("serviceTier", |v, p| {
            let mut o = Obj::new(v, p)?;
            let tier = o.req_with("type", enumeration)?;
            o.finish()?;
            built(ServiceTier::builder().r#type(tier).build(), p)
        })?,
    };
    o.finish()?;
    Ok(response)
}

fn read_usage(value: &Value, path: &str) -> Result<Usage, JsonError> {
    let mut o = Obj::new(value, path)?;
    let usage = TokenUsage::builder()
        .input_tokens(o.req_with("inputTokens", int)?)
        .output_tokens(o.req_with("outputTokens", int)?)
        .total_tokens(o.req_with("totalTokens", int)?)
        .set_cache_read_input_tokens(o.opt_with("cacheReadInputTokens", int)?)
        .set_cache_write_input_tokens(o.opt_with("cacheWriteInputTokens", int)?)
        .set_cache_details(o.opt_with("cacheDetails", |v, p| {
            list(v, p, |v, p| {
                let mut o = Obj::new(v, p)?;
                let ttl: CacheTtl = o.req_with("ttl", enumeration)?;
                let tokens = o.req_with("inputTokens", int)?;
                o.finish()?;
                if !matches!(ttl, CacheTtl::FiveMinutes | CacheTtl::OneHour) {
                    // `Usage` counts unknown TTLs together, and could not
                    // write this one back.
                    return Err(JsonError::new(
                        &format!("{p}.ttl"),
                        format!("unknown time to live {:?}", ttl.as_str()),
                    ));
                }
                built(
                    CacheDetail::builder().ttl(ttl).input_tokens(tokens).build(),
                    p,
                )
            })
        })?)
        .build();
    o.finish()?;
    Ok(Usage::from(&built(usage, path)?))
}

fn read_trace(value: &Value, path: &str) -> Result<Trace, JsonError> {
    let mut o = Obj::new(value, path)?;
    let guardrail = o.opt_with("guardrail", read_guardrail_trace)?;
    let prompt_router = o.opt_with("promptRouter", |v, p| {
        let mut o = Obj::new(v, p)?;
        let id = o.opt_str("invokedModelId")?;
        o.finish()?;
        Ok(PromptRouterTrace::builder()
            .set_invoked_model_id(id)
            .build())
    })?;
    o.finish()?;
    Ok(Trace::from(
        ConverseTrace::builder()
            .set_guardrail(guardrail)
            .set_prompt_router(prompt_router)
            .build(),
    ))
}

/// Writes a response body as the service sends it (the request id, a
/// header, is not part of it).
pub(crate) fn write_response(r: &Response) -> Result<Value, JsonError> {
    let content = r
        .message
        .content
        .iter()
        .enumerate()
        .map(|(i, b)| write_block(b).map_err(|e| e.under(&format!("output.message.content[{i}]"))))
        .collect::<Result<_, _>>()?;
    let trace = r
        .trace
        .as_ref()
        .map(|t| {
            Ok::<_, JsonError>(object([
                (
                    "guardrail",
                    t.guardrail
                        .as_ref()
                        .map(write_guardrail_trace)
                        .transpose()?,
                ),
                (
                    "promptRouter",
                    t.prompt_router.as_ref().map(|p| {
                        object([("invokedModelId", p.invoked_model_id.as_deref().and_then(s))])
                    }),
                ),
            ]))
        })
        .transpose()?;
    Ok(object([
        (
            "output",
            Some(object([(
                "message",
                Some(object([
                    ("role", s(r.message.role.as_str())),
                    ("content", Some(content)),
                ])),
            )])),
        ),
        (
            "stopReason",
            r.stop_reason.as_ref().and_then(|x| s(x.as_str())),
        ),
        ("usage", r.usage.as_ref().map(write_usage)),
        (
            "metrics",
            r.metrics
                .as_ref()
                .map(|m| object([("latencyMs", Some(Value::from(m.latency_ms)))])),
        ),
        (
            "additionalModelResponseFields",
            r.additional_model_response_fields.clone(),
        ),
        ("trace", trace),
        (
            "performanceConfig",
            r.performance_config
                .as_ref()
                .map(|c| object([("latency", s(c.latency.as_str()))])),
        ),
        (
            "serviceTier",
            r.service_tier
                .as_ref()
                .map(|t| object([("type", s(t.r#type.as_str()))])),
        ),
    ]))
}

fn write_usage(u: &Usage) -> Value {
    let details = u.cache_details.map(|d| {
        [
            (types::CacheTtl::FiveMinutes, d.five_minutes),
            (types::CacheTtl::OneHour, d.one_hour),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(ttl, n)| {
            object([
                ("ttl", s(ttl.as_str())),
                ("inputTokens", Some(Value::from(n))),
            ])
        })
        .collect()
    });
    object([
        ("inputTokens", Some(Value::from(u.input_tokens))),
        ("outputTokens", Some(Value::from(u.output_tokens))),
        ("totalTokens", Some(Value::from(u.total_tokens))),
        (
            "cacheReadInputTokens",
            u.cache_read_input_tokens.map(Value::from),
        ),
        (
            "cacheWriteInputTokens",
            u.cache_write_input_tokens.map(Value::from),
        ),
        ("cacheDetails", details),
    ])
}
