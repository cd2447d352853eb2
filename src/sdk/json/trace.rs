//! The guardrail's assessment in a reply's `trace`, read (the service
//! model's `GuardrailTraceAssessment` and `GuardrailAssessment`; written
//! back in `trace_write`): topic, content,
//! word, sensitive information and contextual grounding policies,
//! invocation metrics and the applied guardrail's details.
//!
//! The automated reasoning policy's findings (a deep tree of its own) are
//! not read yet: such a trace is an error naming
//! `…automatedReasoningPolicy`, never dropped.

use aws_sdk_bedrockruntime::types::{
    AppliedGuardrailDetails, GuardrailAssessment, GuardrailContentFilter,
    GuardrailContentPolicyAssessment, GuardrailContextualGroundingFilter,
    GuardrailContextualGroundingPolicyAssessment, GuardrailCoverage, GuardrailCustomWord,
    GuardrailImageCoverage, GuardrailInvocationMetrics, GuardrailManagedWord,
    GuardrailPiiEntityFilter, GuardrailRegexFilter, GuardrailSensitiveInformationPolicyAssessment,
    GuardrailTextCharactersCoverage, GuardrailTopic, GuardrailTopicPolicyAssessment,
    GuardrailTraceAssessment, GuardrailUsage, GuardrailWordPolicyAssessment,
};
use serde_json::Value;

use super::read::{boolean, built, double, enumeration, int, list, long, strings, Obj};
use super::JsonError;

pub(super) fn read_guardrail_trace(
    value: &Value,
    path: &str,
) -> Result<GuardrailTraceAssessment, JsonError> {
    let mut o = Obj::new(value, path)?;
    let model_output = o.opt_with("modelOutput", strings)?;
    let input = o.opt_with("inputAssessment", |v, p| entries(v, p, read_assessment))?;
    let outputs = o.opt_with("outputAssessments", |v, p| {
        entries(v, p, |v, p| list(v, p, read_assessment))
    })?;
    let action_reason = o.opt_str("actionReason")?;
    o.finish()?;
    Ok(GuardrailTraceAssessment::builder()
        .set_model_output(model_output)
        .set_input_assessment(input)
        .set_output_assessments(outputs)
        .set_action_reason(action_reason)
        .build())
}

/// An object's entries read with `read`.
fn entries<T>(
    value: &Value,
    path: &str,
    read: impl Fn(&Value, &str) -> Result<T, JsonError>,
) -> Result<std::collections::HashMap<String, T>, JsonError> {
    let Value::Object(map) = value else {
        return Err(JsonError::new(path, "must be an object"));
    };
    map.iter()
        .map(|(k, v)| Ok((k.clone(), read(v, &format!("{path}.{k}"))?)))
        .collect()
}

fn read_assessment(value: &Value, path: &str) -> Result<GuardrailAssessment, JsonError> {
    let mut o = Obj::new(value, path)?;
    let b = GuardrailAssessment::builder()
        .set_topic_policy(o.opt_with("topicPolicy", |v, p| {
            let mut o = Obj::new(v, p)?;
            let topics = o.req_with("topics", |v, p| list(v, p, read_topic))?;
            o.finish()?;
            built(
                GuardrailTopicPolicyAssessment::builder()
                    .set_topics(Some(topics))
                    .build(),
                p,
            )
        })?)
        .set_content_policy(o.opt_with("contentPolicy", |v, p| {
            let mut o = Obj::new(v, p)?;
            let filters = o.req_with("filters", |v, p| list(v, p, read_content_filter))?;
            o.finish()?;
            built(
                GuardrailContentPolicyAssessment::builder()
                    .set_filters(Some(filters))
                    .build(),
                p,
            )
        })?)
        .set_word_policy(o.opt_with("wordPolicy", |v, p| {
            let mut o = Obj::new(v, p)?;
            let custom = o.req_with("customWords", |v, p| list(v, p, read_custom_word))?;
            let managed = o.req_with("managedWordLists", |v, p| list(v, p, read_managed_word))?;
            o.finish()?;
            built(
                GuardrailWordPolicyAssessment::builder()
                    .set_custom_words(Some(custom))
                    .set_managed_word_lists(Some(managed))
                    .build(),
                p,
            )
        })?)
        .set_sensitive_information_policy(o.opt_with("sensitiveInformationPolicy", |v, p| {
            let mut o = Obj::new(v, p)?;
            let pii = o.req_with("piiEntities", |v, p| list(v, p, read_pii))?;
            let regexes = o.req_with("regexes", |v, p| list(v, p, read_regex))?;
            o.finish()?;
            built(
                GuardrailSensitiveInformationPolicyAssessment::builder()
                    .set_pii_entities(Some(pii))
                    .set_regexes(Some(regexes))
                    .build(),
                p,
            )
        })?)
        .set_contextual_grounding_policy(o.opt_with("contextualGroundingPolicy", |v, p| {
            let mut o = Obj::new(v, p)?;
            let filters = o.opt_with("filters", |v, p| list(v, p, read_grounding))?;
            o.finish()?;
            Ok(GuardrailContextualGroundingPolicyAssessment::builder()
                .set_filters(filters)
                .build())
        })?)
        .set_invocation_metrics(o.opt_with("invocationMetrics", read_metrics)?)
        .set_applied_guardrail_details(o.opt_with("appliedGuardrailDetails", |v, p| {
            let mut o = Obj::new(v, p)?;
            let d = AppliedGuardrailDetails::builder()
                .set_guardrail_id(o.opt_str("guardrailId")?)
                .set_guardrail_version(o.opt_str("guardrailVersion")?)
                .set_guardrail_arn(o.opt_str("guardrailArn")?)
                .set_guardrail_origin(
                    o.opt_with("guardrailOrigin", |v, p| list(v, p, enumeration))?,
                )
                .set_guardrail_ownership(o.opt_with("guardrailOwnership", enumeration)?)
                .build();
            o.finish()?;
            Ok(d)
        })?);
    if let Some((_, p)) = o.opt("automatedReasoningPolicy") {
        return Err(JsonError::new(
            &p,
            "automated reasoning findings are not read by this version",
        ));
    }
    o.finish()?;
    Ok(b.build())
}

/// The members most assessment entries share: a text (`name` or `match`),
/// a `type` (when `typed`), an `action` and `detected`.
type Entry<K, A> = (String, Option<K>, A, Option<bool>);

fn read_entry<K, A>(
    value: &Value,
    path: &str,
    text_key: &'static str,
    typed: bool,
) -> Result<Entry<K, A>, JsonError>
where
    K: for<'s> From<&'s str>,
    A: for<'s> From<&'s str>,
{
    let mut o = Obj::new(value, path)?;
    let text = o.req_str(text_key)?;
    let kind = if typed {
        Some(o.req_with("type", enumeration)?)
    } else {
        None
    };
    let action = o.req_with("action", enumeration)?;
    let detected = o.opt_with("detected", boolean)?;
    o.finish()?;
    Ok((text, kind, action, detected))
}

fn read_topic(value: &Value, path: &str) -> Result<GuardrailTopic, JsonError> {
    let (name, kind, action, detected) = read_entry(value, path, "name", true)?;
    let t = GuardrailTopic::builder()
        .name(name)
        .set_type(kind)
        .action(action)
        .set_detected(detected)
        .build();
    built(t, path)
}

fn read_content_filter(value: &Value, path: &str) -> Result<GuardrailContentFilter, JsonError> {
    let mut o = Obj::new(value, path)?;
    let f = GuardrailContentFilter::builder()
        .r#type(o.req_with("type", enumeration)?)
        .confidence(o.req_with("confidence", enumeration)?)
        .set_filter_strength(o.opt_with("filterStrength", enumeration)?)
        .action(o.req_with("action", enumeration)?)
        .set_detected(o.opt_with("detected", boolean)?)
        .build();
    o.finish()?;
    built(f, path)
}

fn read_custom_word(value: &Value, path: &str) -> Result<GuardrailCustomWord, JsonError> {
    let (text, _, action, detected): Entry<String, _> = read_entry(value, path, "match", false)?;
    let w = GuardrailCustomWord::builder()
        .r#match(text)
        .action(action)
        .set_detected(detected)
        .build();
    built(w, path)
}

fn read_managed_word(value: &Value, path: &str) -> Result<GuardrailManagedWord, JsonError> {
    let (text, kind, action, detected) = read_entry(value, path, "match", true)?;
    let w = GuardrailManagedWord::builder()
        .r#match(text)
        .set_type(kind)
        .action(action)
        .set_detected(detected)
        .build();
    built(w, path)
}

fn read_pii(value: &Value, path: &str) -> Result<GuardrailPiiEntityFilter, JsonError> {
    let (text, kind, action, detected) = read_entry(value, path, "match", true)?;
    let f = GuardrailPiiEntityFilter::builder()
        .r#match(text)
        .set_type(kind)
        .action(action)
        .set_detected(detected)
        .build();
    built(f, path)
}

fn read_regex(value: &Value, path: &str) -> Result<GuardrailRegexFilter, JsonError> {
    let mut o = Obj::new(value, path)?;
    let f = GuardrailRegexFilter::builder()
        .set_name(o.opt_str("name")?)
        .set_match(o.opt_str("match")?)
        .set_regex(o.opt_str("regex")?)
        .action(o.req_with("action", enumeration)?)
        .set_detected(o.opt_with("detected", boolean)?)
        .build();
    o.finish()?;
    built(f, path)
}

fn read_grounding(
    value: &Value,
    path: &str,
) -> Result<GuardrailContextualGroundingFilter, JsonError> {
    let mut o = Obj::new(value, path)?;
    let f = GuardrailContextualGroundingFilter::builder()
        .r#type(o.req_with("type", enumeration)?)
        .threshold(o.req_with("threshold", double)?)
        .score(o.req_with("score", double)?)
        .action(o.req_with("action", enumeration)?)
        .set_detected(o.opt_with("detected", boolean)?)
        .build();
    o.finish()?;
    built(f, path)
}

fn read_metrics(value: &Value, path: &str) -> Result<GuardrailInvocationMetrics, JsonError> {
    let mut o = Obj::new(value, path)?;
    let latency = o.opt_with("guardrailProcessingLatency", long)?;
    let usage = o.opt_with("usage", |v, p| {
        let mut o = Obj::new(v, p)?;
        let u = GuardrailUsage::builder()
            .topic_policy_units(o.req_with("topicPolicyUnits", int)?)
            .content_policy_units(o.req_with("contentPolicyUnits", int)?)
            .word_policy_units(o.req_with("wordPolicyUnits", int)?)
            .sensitive_information_policy_units(o.req_with("sensitiveInformationPolicyUnits", int)?)
            .sensitive_information_policy_free_units(
                o.req_with("sensitiveInformationPolicyFreeUnits", int)?,
            )
            .contextual_grounding_policy_units(o.req_with("contextualGroundingPolicyUnits", int)?)
            .set_content_policy_image_units(o.opt_with("contentPolicyImageUnits", int)?)
            .set_automated_reasoning_policy_units(o.opt_with("automatedReasoningPolicyUnits", int)?)
            .set_automated_reasoning_policies(o.opt_with("automatedReasoningPolicies", int)?)
            .build();
        o.finish()?;
        built(u, p)
    })?;
    let coverage = o.opt_with("guardrailCoverage", |v, p| {
        let mut o = Obj::new(v, p)?;
        let text = o.opt_with("textCharacters", |v, p| {
            let [guarded, total] = counts(v, p)?;
            Ok(GuardrailTextCharactersCoverage::builder()
                .set_guarded(guarded)
                .set_total(total)
                .build())
        })?;
        let images = o.opt_with("images", |v, p| {
            let [guarded, total] = counts(v, p)?;
            Ok(GuardrailImageCoverage::builder()
                .set_guarded(guarded)
                .set_total(total)
                .build())
        })?;
        o.finish()?;
        Ok(GuardrailCoverage::builder()
            .set_text_characters(text)
            .set_images(images)
            .build())
    })?;
    o.finish()?;
    Ok(GuardrailInvocationMetrics::builder()
        .set_guardrail_processing_latency(latency)
        .set_usage(usage)
        .set_guardrail_coverage(coverage)
        .build())
}

/// `guarded` and `total` of a coverage.
fn counts(value: &Value, path: &str) -> Result<[Option<i32>; 2], JsonError> {
    let mut o = Obj::new(value, path)?;
    let c = [o.opt_with("guarded", int)?, o.opt_with("total", int)?];
    o.finish()?;
    Ok(c)
}
