//! The SDK's replies as ours: a Converse output as a [`Response`], and the
//! usage, metrics and trace types both operations share.

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput as SdkConverseOutput;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::types;

use super::json::document_to_json;
use crate::error::Error;
use crate::model::{CacheDetails, Message, Metrics, Response, Trace, Usage};

/// A count or index the SDK types as `i32`, never negative in practice.
pub(crate) fn non_negative(v: i32) -> u32 {
    v.max(0) as u32
}

impl Response {
    pub(crate) fn from_converse(out: SdkConverseOutput) -> Result<Response, Error> {
        let request_id = out.request_id().map(str::to_owned);
        let message = match out.output {
            Some(types::ConverseOutput::Message(m)) => Message::from(m),
            Some(_) => {
                return Err(Error::Protocol {
                    message: "the reply's `output` is not a message".into(),
                    partial: None,
                })
            }
            None => {
                return Err(Error::Protocol {
                    message: "the reply has no `output`".into(),
                    partial: None,
                })
            }
        };
        Ok(Response {
            message,
            stop_reason: Some(out.stop_reason),
            usage: out.usage.as_ref().map(Usage::from),
            metrics: out.metrics.as_ref().map(Metrics::from),
            additional_model_response_fields: out
                .additional_model_response_fields
                .as_ref()
                .map(document_to_json),
            request_id,
            trace: out.trace.map(Trace::from),
            performance_config: out.performance_config,
            service_tier: out.service_tier,
            stream_fallback: None,
            answered_by: None,
        })
    }
}

impl From<types::ConverseTrace> for Trace {
    fn from(t: types::ConverseTrace) -> Self {
        Trace {
            guardrail: t.guardrail,
            prompt_router: t.prompt_router,
        }
    }
}

impl From<types::ConverseStreamTrace> for Trace {
    fn from(t: types::ConverseStreamTrace) -> Self {
        Trace {
            guardrail: t.guardrail,
            prompt_router: t.prompt_router,
        }
    }
}

impl From<&types::TokenUsage> for Usage {
    fn from(u: &types::TokenUsage) -> Self {
        Usage {
            input_tokens: non_negative(u.input_tokens),
            output_tokens: non_negative(u.output_tokens),
            total_tokens: non_negative(u.total_tokens),
            cache_read_input_tokens: u.cache_read_input_tokens.map(non_negative),
            cache_write_input_tokens: u.cache_write_input_tokens.map(non_negative),
            cache_details: u.cache_details.as_deref().map(cache_details),
        }
    }
}

/// The service's per-TTL cache writes, summed by TTL.
fn cache_details(details: &[types::CacheDetail]) -> CacheDetails {
    let mut out = CacheDetails::default();
    for d in details {
        let n = non_negative(d.input_tokens);
        let slot = match d.ttl {
            types::CacheTtl::FiveMinutes => &mut out.five_minutes,
            types::CacheTtl::OneHour => &mut out.one_hour,
            _ => &mut out.other,
        };
        *slot = slot.saturating_add(n);
    }
    out
}

impl From<&types::ConverseMetrics> for Metrics {
    fn from(m: &types::ConverseMetrics) -> Self {
        Metrics::new(m.latency_ms.max(0) as u64)
    }
}

impl From<&types::ConverseStreamMetrics> for Metrics {
    fn from(m: &types::ConverseStreamMetrics) -> Self {
        Metrics::new(m.latency_ms.max(0) as u64)
    }
}
