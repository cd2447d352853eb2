//! The guardrail's assessment in a reply's `trace`, written back as the
//! service sends it (the reading side is in `trace`).

use aws_sdk_bedrockruntime::types::{
    GuardrailAssessment, GuardrailInvocationMetrics, GuardrailTraceAssessment,
};
use serde_json::{Map, Value};

use super::read::{object, s, write_double};
use super::JsonError;

pub(super) fn write_guardrail_trace(t: &GuardrailTraceAssessment) -> Result<Value, JsonError> {
    let input = t
        .input_assessment
        .as_ref()
        .map(|m| {
            m.iter()
                .map(|(k, a)| Ok((k.clone(), write_assessment(a)?)))
                .collect::<Result<Map<_, _>, JsonError>>()
                .map(Value::Object)
        })
        .transpose()
        .map_err(|e| e.under("trace.guardrail.inputAssessment"))?;
    let outputs = t
        .output_assessments
        .as_ref()
        .map(|m| {
            m.iter()
                .map(|(k, list)| {
                    let items = list
                        .iter()
                        .map(write_assessment)
                        .collect::<Result<_, _>>()?;
                    Ok((k.clone(), items))
                })
                .collect::<Result<Map<_, _>, JsonError>>()
                .map(Value::Object)
        })
        .transpose()
        .map_err(|e| e.under("trace.guardrail.outputAssessments"))?;
    Ok(object([
        (
            "modelOutput",
            t.model_output
                .as_ref()
                .map(|v| v.iter().map(|x| Value::from(x.as_str())).collect()),
        ),
        ("inputAssessment", input),
        ("outputAssessments", outputs),
        ("actionReason", t.action_reason.as_deref().and_then(s)),
    ]))
}

pub(super) fn write_entry(
    text_key: &str,
    text: &str,
    kind: Option<&str>,
    action: &str,
    detected: Option<bool>,
) -> Value {
    object([
        (text_key, s(text)),
        ("type", kind.and_then(s)),
        ("action", s(action)),
        ("detected", detected.map(Value::Bool)),
    ])
}

fn flag(detected: Option<bool>) -> Option<Value> {
    detected.map(Value::Bool)
}

pub(super) fn write_assessment(a: &GuardrailAssessment) -> Result<Value, JsonError> {
    if a.automated_reasoning_policy.is_some() {
        return Err(JsonError::new(
            "automatedReasoningPolicy",
            "automated reasoning findings are not written by this version",
        ));
    }
    let topics = a.topic_policy.as_ref().map(|t| {
        let items = t.topics.iter().map(|x| {
            let kind = Some(x.r#type.as_str());
            write_entry("name", &x.name, kind, x.action.as_str(), x.detected)
        });
        object([("topics", Some(items.collect()))])
    });
    let content = a.content_policy.as_ref().map(|c| {
        let items = c.filters.iter().map(|x| {
            object([
                ("type", s(x.r#type.as_str())),
                ("confidence", s(x.confidence.as_str())),
                (
                    "filterStrength",
                    x.filter_strength.as_ref().and_then(|f| s(f.as_str())),
                ),
                ("action", s(x.action.as_str())),
                ("detected", flag(x.detected)),
            ])
        });
        object([("filters", Some(items.collect()))])
    });
    let words = a.word_policy.as_ref().map(|w| {
        let custom = w
            .custom_words
            .iter()
            .map(|x| write_entry("match", &x.r#match, None, x.action.as_str(), x.detected));
        let managed = w.managed_word_lists.iter().map(|x| {
            let kind = Some(x.r#type.as_str());
            write_entry("match", &x.r#match, kind, x.action.as_str(), x.detected)
        });
        object([
            ("customWords", Some(custom.collect())),
            ("managedWordLists", Some(managed.collect())),
        ])
    });
    let sensitive = a.sensitive_information_policy.as_ref().map(|p| {
        let pii = p.pii_entities.iter().map(|x| {
            let kind = Some(x.r#type.as_str());
            write_entry("match", &x.r#match, kind, x.action.as_str(), x.detected)
        });
        let regexes = p.regexes.iter().map(|x| {
            object([
                ("name", x.name.as_deref().and_then(s)),
                ("match", x.r#match.as_deref().and_then(s)),
                ("regex", x.regex.as_deref().and_then(s)),
                ("action", s(x.action.as_str())),
                ("detected", flag(x.detected)),
            ])
        });
        object([
            ("piiEntities", Some(pii.collect())),
            ("regexes", Some(regexes.collect())),
        ])
    });
    let grounding = a.contextual_grounding_policy.as_ref().map(|g| {
        let filters = g.filters.as_ref().map(|f| {
            f.iter()
                .map(|x| {
                    object([
                        ("type", s(x.r#type.as_str())),
                        ("threshold", Some(write_double(x.threshold))),
                        ("score", Some(write_double(x.score))),
                        ("action", s(x.action.as_str())),
                        ("detected", flag(x.detected)),
                    ])
                })
                .collect()
        });
        object([("filters", filters)])
    });
    let details = a.applied_guardrail_details.as_ref().map(|d| {
        object([
            ("guardrailId", d.guardrail_id.as_deref().and_then(s)),
            (
                "guardrailVersion",
                d.guardrail_version.as_deref().and_then(s),
            ),
            ("guardrailArn", d.guardrail_arn.as_deref().and_then(s)),
            (
                "guardrailOrigin",
                d.guardrail_origin
                    .as_ref()
                    .map(|o| o.iter().map(|x| Value::from(x.as_str())).collect()),
            ),
            (
                "guardrailOwnership",
                d.guardrail_ownership.as_ref().and_then(|x| s(x.as_str())),
            ),
        ])
    });
    Ok(object([
        ("topicPolicy", topics),
        ("contentPolicy", content),
        ("wordPolicy", words),
        ("sensitiveInformationPolicy", sensitive),
        ("contextualGroundingPolicy", grounding),
        (
            "invocationMetrics",
            a.invocation_metrics.as_ref().map(write_metrics),
        ),
        ("appliedGuardrailDetails", details),
    ]))
}

fn write_metrics(m: &GuardrailInvocationMetrics) -> Value {
    let usage = m.usage.as_ref().map(|u| {
        let n = |x: i32| Some(Value::from(x));
        object([
            ("topicPolicyUnits", n(u.topic_policy_units)),
            ("contentPolicyUnits", n(u.content_policy_units)),
            ("wordPolicyUnits", n(u.word_policy_units)),
            (
                "sensitiveInformationPolicyUnits",
                n(u.sensitive_information_policy_units),
            ),
            (
                "sensitiveInformationPolicyFreeUnits",
                n(u.sensitive_information_policy_free_units),
            ),
            (
                "contextualGroundingPolicyUnits",
                n(u.contextual_grounding_policy_units),
            ),
            (
                "contentPolicyImageUnits",
                u.content_policy_image_units.map(Value::from),
            ),
            (
                "automatedReasoningPolicyUnits",
                u.automated_reasoning_policy_units.map(Value::from),
            ),
            (
                "automatedReasoningPolicies",
                u.automated_reasoning_policies.map(Value::from),
            ),
        ])
    });
    let pair = |g: Option<i32>, t: Option<i32>| {
        object([
            ("guarded", g.map(Value::from)),
            ("total", t.map(Value::from)),
        ])
    };
    let coverage = m.guardrail_coverage.as_ref().map(|c| {
        object([
            (
                "textCharacters",
                c.text_characters.as_ref().map(|t| pair(t.guarded, t.total)),
            ),
            (
                "images",
                c.images.as_ref().map(|i| pair(i.guarded, i.total)),
            ),
        ])
    });
    object([
        (
            "guardrailProcessingLatency",
            m.guardrail_processing_latency.map(Value::from),
        ),
        ("usage", usage),
        ("guardrailCoverage", coverage),
    ])
}
