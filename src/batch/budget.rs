//! A batch's budget in US dollars: what it has spent (replies priced from
//! the catalogue's price table), what the calls in flight could still cost
//! at worst, and whether one more call fits.

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
}

impl Budget {
    /// A budget of `limit` dollars (`None`: unlimited) for calls to `model`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the limit is not a number of dollars, or the
    /// model has no price (a budget could then not be kept).
    pub(super) fn new(limit: Option<f64>, model: &str) -> Result<Budget, Error> {
        if let Some(l) = limit {
            if !l.is_finite() || l < 0.0 {
                return Err(Error::config(format!(
                    "a budget is a number of dollars, zero or more (got {l})"
                )));
            }
            if Cost::worst_case(1, 1, model, &Tier::Standard).is_none() {
                return Err(Error::config(format!(
                    "the price table has no price for {model:?}: a budget cannot be kept \
                     (load a catalogue file that prices it)"
                )));
            }
        }
        Ok(Budget {
            limit,
            reserved: 0.0,
        })
    }

    /// The most `request` can cost: its estimated input (about four bytes a
    /// token, an over-estimate for text) and all of its `max_tokens`, at its
    /// service tier's price (standard when it sets none; the standard price
    /// when its tier is not priced).
    pub(super) fn worst_case(request: &ConverseRequest) -> f64 {
        let estimate = estimate_tokens(request);
        let tier = request
            .service_tier
            .as_ref()
            .map_or(Tier::Standard, |t| Tier::from_service(t.as_str()));
        let (model, input, output) = (&request.model_id, estimate.input, estimate.max_output);
        Cost::worst_case(input, output, model, &tier)
            .or_else(|| Cost::worst_case(input, output, model, &Tier::Standard))
            .unwrap_or(0.0)
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

/// What the replies already in an output file cost on `model` (a resumed
/// run's earlier spend). Lines that are not replies, or that cannot be
/// read (a torn last line), count nothing; replies the table cannot price
/// are counted in the second number.
pub(super) fn spent_in(path: &Path, model: &str) -> (f64, usize) {
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
        match response.cost(model) {
            Some(cost) => spent.0 += cost.total(),
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
    /// records it did not start listed in [`Progress::unstarted`](super::Progress::unstarted)
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
