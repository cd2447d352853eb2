//! A batch's budget in US dollars: what it has spent (replies priced from
//! the catalogue's price table), what the calls in flight could still cost
//! at worst, and whether one more call fits.
//!
//! With [fallback targets](crate::ConverserBuilder::fallback) a call may be
//! answered by any of several models, so the worst case of a call, and the
//! price of a reply an earlier run left in the output file (which does not
//! say who answered it), are taken at the dearest of them: the budget holds
//! whichever target answers.

use std::path::Path;

use serde_json::Value;

use crate::client::estimate_tokens;
use crate::error::Error;
use crate::model::{ConverseRequest, Cost, Response, Tier};

/// The budget of one run.
#[derive(Debug)]
pub(super) struct Budget {
    /// The most the run may spend, earlier runs' spend (resume) included.
    limit: Option<f64>,
    /// The worst-case cost of the calls in flight, summed.
    reserved: f64,
    /// The models a call may be answered by (the batch's and its
    /// fallbacks'), each priced when there is a limit.
    models: Vec<String>,
}

impl Budget {
    /// A budget of `limit` dollars (`None`: unlimited) for calls that any
    /// of `models` may answer.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the limit is not a number of dollars, or a
    /// model has no price (a budget could then not be kept).
    pub(super) fn new(limit: Option<f64>, models: Vec<String>) -> Result<Budget, Error> {
        if let Some(l) = limit {
            if !l.is_finite() || l < 0.0 {
                return Err(Error::config(format!(
                    "a budget is a number of dollars, zero or more (got {l})"
                )));
            }
            for model in &models {
                if Cost::worst_case(1, 1, model, &Tier::Standard).is_none() {
                    return Err(Error::config(format!(
                        "the price table has no price for {model:?}: a budget cannot be kept \
                         (load a catalogue file that prices it)"
                    )));
                }
            }
        }
        Ok(Budget {
            limit,
            reserved: 0.0,
            models,
        })
    }

    /// The models a call may be answered by.
    pub(super) fn models(&self) -> &[String] {
        &self.models
    }

    /// The most `request` can cost: its estimated input (about four bytes a
    /// token, an over-estimate for text) and all of its `max_tokens`, at its
    /// service tier's price (standard when it sets none; the standard price
    /// when its tier is not priced), on the dearest of the models that may
    /// answer it.
    pub(super) fn worst_case(&self, request: &ConverseRequest) -> f64 {
        let estimate = estimate_tokens(request);
        let tier = request
            .service_tier
            .as_ref()
            .map_or(Tier::Standard, |t| Tier::from_service(t.as_str()));
        let (input, output) = (estimate.input, estimate.max_output);
        let on = |model: &str| {
            Cost::worst_case(input, output, model, &tier)
                .or_else(|| Cost::worst_case(input, output, model, &Tier::Standard))
                .unwrap_or(0.0)
        };
        self.models.iter().map(|m| on(m)).fold(0.0, f64::max)
    }

    /// Whether a call that could cost `worst` may start, with `spent`
    /// dollars spent so far.
    pub(super) fn admits(&self, spent: f64, worst: f64) -> bool {
        self.limit
            .is_none_or(|limit| spent + self.reserved + worst <= limit)
    }

    /// A call that could cost `worst` started.
    pub(super) fn reserve(&mut self, worst: f64) {
        self.reserved += worst;
    }

    /// A call that could cost `worst` ended (its real cost is then counted
    /// in the run's spend).
    pub(super) fn release(&mut self, worst: f64) {
        self.reserved = (self.reserved - worst).max(0.0);
    }
}

/// What the replies already in an output file cost (a resumed run's earlier
/// spend), each at the dearest of `models` (the file does not say which
/// target answered). Lines that are not replies, or that cannot be read (a
/// torn last line), count nothing; replies the table cannot price on any of
/// the models are counted in the second number.
pub(super) fn spent_in(path: &Path, models: &[String]) -> (f64, usize) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (0.0, 0);
    };
    let mut spent = (0.0, 0);
    for line in text.lines() {
        let Ok(line) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(output) = line.get("modelOutput") else {
            continue;
        };
        let Ok(response) = Response::from_json(output) else {
            continue;
        };
        if response.usage.is_none() {
            continue;
        }
        let dearest = models
            .iter()
            .filter_map(|m| response.cost(m))
            .map(|c| c.total())
            .reduce(f64::max);
        match dearest {
            Some(cost) => spent.0 += cost,
            None => spent.1 += 1,
        }
    }
    spent
}

impl super::Batch<'_> {
    /// Stops starting records once the run's spend, plus the worst case of
    /// the calls in flight and of the next call (its estimated input and
    /// all of its `max_tokens` at the model's price), could pass `dollars`.
    /// The run then waits for the calls in flight and ends normally, the
    /// records it did not start listed in [`BatchStats::unstarted`](super::BatchStats::unstarted)
    /// and absent from the output file; a [resumed](super::Batch::resume)
    /// run counts the replies already in the file against its budget, so
    /// resuming with a larger budget carries on.
    ///
    /// The spend is priced from the catalogue's price table
    /// ([`Cost`]); a run with a budget on a model the
    /// table does not price fails before sending anything.
    pub fn budget_usd(mut self, dollars: f64) -> Self {
        self.budget_usd = Some(dollars);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::types::ServiceTierType;

    const LITE: &str = "amazon.nova-lite-v1:0";

    #[test]
    fn a_call_fits_up_to_the_limit_exactly() {
        let mut budget = Budget::new(Some(1.0), vec![LITE.into()]).unwrap();
        assert!(budget.admits(0.5, 0.5));
        assert!(!budget.admits(0.5, 0.5 + 1e-9));
        budget.reserve(0.25);
        assert!(budget.admits(0.5, 0.25));
        assert!(!budget.admits(0.5, 0.26));
        budget.release(0.25);
        assert!(budget.admits(0.5, 0.5));
        // Releasing more than is held leaves nothing held, never a credit.
        budget.release(0.75);
        assert!(!budget.admits(0.5, 0.5 + 1e-9));
        // No limit: everything fits.
        assert!(Budget::new(None, vec!["example.unknown-v1:0".into()])
            .unwrap()
            .admits(1e9, 1e9));
    }

    #[test]
    fn the_worst_case_is_max_tokens_at_the_request_s_tier() {
        let request = ConverseRequest::new("openai.gpt-oss-120b-1:0")
            .user("abcdefgh")
            .max_tokens(1_000_000);
        // "abcdefgh": 2 tokens of input; all of max_tokens at $0.60 per million.
        let on = |model: &str| Budget::new(None, vec![model.into()]).unwrap();
        let oss = on("openai.gpt-oss-120b-1:0");
        let standard = oss.worst_case(&request);
        assert!(
            (standard - (2.0 * 0.15 + 1e6 * 0.6) / 1e6).abs() < 1e-12,
            "{standard}"
        );
        let flex = oss.worst_case(&request.clone().service_tier(ServiceTierType::Flex));
        assert!(
            (flex - (2.0 * 0.075 + 1e6 * 0.3) / 1e6).abs() < 1e-12,
            "{flex}"
        );
        // A tier the table does not price for the model: the standard price.
        let haiku = ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
            .user("abcd")
            .max_tokens(1_000_000);
        let haiku_budget = on("anthropic.claude-haiku-4-5-20251001-v1:0");
        let priority =
            haiku_budget.worst_case(&haiku.clone().service_tier(ServiceTierType::Priority));
        assert!((priority - haiku_budget.worst_case(&haiku)).abs() < 1e-15);
        assert!(priority > 5.0 - 1e-9, "{priority}");
    }

    #[test]
    fn an_output_file_s_spend_counts_its_replies_only() {
        let dir = std::env::temp_dir().join(format!("bc-budget-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl");
        let reply = r#"{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"end_turn","usage":{"inputTokens":1000000,"outputTokens":1000000,"totalTokens":2000000},"metrics":{"latencyMs":1}}"#;
        let lines = [
            format!(r#"{{"recordId":"a","modelInput":{{}},"modelOutput":{reply}}}"#),
            r#"{"recordId":"b","modelInput":{},"error":{"errorCode":400,"errorMessage":"no"}}"#
                .to_owned(),
            format!(r#"{{"recordId":"c","modelInput":{{}},"modelOutput":{reply}}}"#),
            r#"{"recordId":"d","modelInp"#.to_owned(),
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let (spent, unpriced) = spent_in(&path, &[LITE.into()]);
        assert!((spent - 2.0 * (0.06 + 0.24)).abs() < 1e-12, "{spent}");
        assert_eq!(unpriced, 0);
        assert_eq!(spent_in(&path, &["example.unknown-v1:0".into()]), (0.0, 2));
        assert_eq!(
            spent_in(&dir.join("missing.jsonl"), &[LITE.into()]),
            (0.0, 0)
        );
        // With a fallback model, each reply at the dearer price (Nova Pro:
        // $0.80 in, $3.20 out per million), whatever the order.
        let pro = "amazon.nova-pro-v1:0".to_owned();
        for models in [
            vec![LITE.into(), pro.clone()],
            vec![pro.clone(), LITE.into()],
        ] {
            let (spent, unpriced) = spent_in(&path, &models);
            assert!((spent - 2.0 * (0.8 + 3.2)).abs() < 1e-12, "{spent}");
            assert_eq!(unpriced, 0);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn with_fallbacks_the_worst_case_is_the_dearest_model_s_and_each_must_be_priced() {
        let request = ConverseRequest::new(LITE)
            .user("abcd")
            .max_tokens(1_000_000);
        let pro = "amazon.nova-pro-v1:0";
        let lite_only = Budget::new(Some(10.0), vec![LITE.into()]).unwrap();
        let both = Budget::new(Some(10.0), vec![LITE.into(), pro.into()]).unwrap();
        let reversed = Budget::new(Some(10.0), vec![pro.into(), LITE.into()]).unwrap();
        // The models whose prices the run's earlier spend is read at, in order.
        assert_eq!(both.models(), [LITE, pro]);
        assert_eq!(reversed.models(), [pro, LITE]);
        // One input token and a million output tokens: $0.24 on Lite, $3.20 on Pro.
        assert!((lite_only.worst_case(&request) - (0.06 + 1e6 * 0.24) / 1e6).abs() < 1e-12);
        assert!((both.worst_case(&request) - (0.8 + 1e6 * 3.2) / 1e6).abs() < 1e-12);
        assert_eq!(both.worst_case(&request), reversed.worst_case(&request));
        // A fallback the table cannot price makes a budget impossible to keep.
        let err =
            Budget::new(Some(1.0), vec![LITE.into(), "example.unknown-v1:0".into()]).unwrap_err();
        assert!(err.to_string().contains("example.unknown-v1:0"), "{err}");
        assert!(Budget::new(None, vec![LITE.into(), "example.unknown-v1:0".into()]).is_ok());
    }
}
