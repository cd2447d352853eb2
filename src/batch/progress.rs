//! [`BatchStats`]: what a batch run reports as it goes, and returns at the end.

use std::time::Duration;

use super::result::RecordResult;

/// Counts of a batch run, passed to the
/// [`on_progress`](super::Batch::on_progress) callback and returned by
/// [`run`](super::Batch::run).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BatchStats {
    /// Records given to the run.
    pub total: usize,
    /// Records skipped because the journal already had them (resume).
    pub skipped: usize,
    /// Records with a reply.
    pub succeeded: usize,
    /// Records that failed for good (an error line).
    pub failed: usize,
    /// Calls in flight now.
    pub in_flight: usize,
    /// Records waiting out a back-off before their next attempt.
    pub waiting_retry: usize,
    /// Attempts that failed and were retried.
    pub retries: usize,
    /// Attempts the service throttled (retried or not).
    pub throttled: usize,
    /// Without a quota on the `Converser`: the request rate the run learned
    /// from throttling, per minute, once it was first throttled.
    pub learned_rpm: Option<f64>,
    /// Input tokens of the replies so far.
    pub input_tokens: u64,
    /// Output tokens of the replies so far.
    pub output_tokens: u64,
    /// US dollars the replies cost so far, from the catalogue's price
    /// table, each at the tier it was served with; on a resumed run the
    /// replies already in the output file are included.
    pub spend_usd: f64,
    /// Replies the price table could not price (their cost is not in
    /// `spend_usd`).
    pub unpriced: usize,
    /// Ids of the records the [budget](super::Batch::budget_usd) left
    /// unstarted, in input order (empty when the run did them all). They
    /// are not in the output file: resume with a larger budget to do them.
    pub unstarted: Vec<String>,
    /// Time since the run started.
    pub elapsed: Duration,
}

impl BatchStats {
    pub(super) fn new(total: usize) -> Self {
        BatchStats {
            total,
            ..BatchStats::default()
        }
    }

    pub(super) fn count(&mut self, result: &RecordResult, model: &str) {
        match &result.outcome {
            Ok(response) => {
                self.succeeded += 1;
                if let Some(usage) = &response.usage {
                    self.input_tokens += u64::from(usage.input_tokens);
                    self.output_tokens += u64::from(usage.output_tokens);
                    match response.cost(model) {
                        Some(cost) => self.spend_usd += cost.total(),
                        None => self.unpriced += 1,
                    }
                }
            }
            Err(_) => self.failed += 1,
        }
    }

    /// Records finished in this run, succeeded or failed.
    pub fn done(&self) -> usize {
        self.succeeded + self.failed
    }

    /// Records still to finish in this run.
    pub fn remaining(&self) -> usize {
        self.total - self.skipped - self.done()
    }

    /// Records finished per second in this run so far.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.done() as f64 / secs
        } else {
            0.0
        }
    }

    /// The time left at the rate so far, once a record has finished.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate();
        (rate > 0.0).then(|| Duration::from_secs_f64(self.remaining() as f64 / rate))
    }
}

impl std::fmt::Display for BatchStats {
    /// One line: `12/64 done (1 failed, 0 skipped), 8 in flight, 3.2 rec/s, 1234 tokens, $0.0012, ETA 16s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} done ({} failed, {} skipped), {} in flight, {} retries, {:.1} rec/s, {} tokens",
            self.done() + self.skipped,
            self.total,
            self.failed,
            self.skipped,
            self.in_flight,
            self.retries,
            self.rate(),
            self.input_tokens + self.output_tokens,
        )?;
        write!(f, ", ${:.4}", self.spend_usd)?;
        if self.unpriced > 0 {
            write!(f, " (+{} unpriced)", self.unpriced)?;
        }
        if let Some(eta) = self.eta() {
            write!(f, ", ETA {}s", eta.as_secs())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
