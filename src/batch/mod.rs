//! Batch runs: many independent Converse requests from a JSONL file in the
//! format of Bedrock batch inference, sent with bounded concurrency through
//! one [`Converser`], with retries, progress, and a resumable output file.
//!
//! - `record`: the input and output line formats ([`Record`],
//!   [`RecordError`]) and the conversions between a
//!   `modelInput` and a [`ConverseRequest`](crate::ConverseRequest), a
//!   [`Response`](crate::Response) and a `modelOutput`;
//! - `journal`: the output file, appended per record and read back on resume;
//! - `result`: [`RecordResult`], a finished record and its output line;
//! - `progress`: [`BatchStats`], what the run reports as it goes.
//!
//! ```
//! # use bedrock_converse_mock::{MockServer, Reply};
//! # let server = MockServer::start()?;
//! # server.set_default(Reply::text("Hi!"));
//! # let converser = server.converser()?;
//! use bedrock_converse::batch::{Batch, Record};
//! use serde_json::json;
//!
//! let records = (0..3).map(|i| {
//!     Record::new(
//!         format!("r{i}"),
//!         json!({"messages": [{"role": "user", "content": [{"text": format!("Hello {i}")}]}]}),
//!     )
//! });
//! let mut ok = 0;
//! let stats = Batch::new(&converser, "amazon.nova-lite-v1:0")
//!     .concurrency(2)
//!     .run(records, |result| ok += usize::from(result.outcome.is_ok()))?;
//! assert_eq!((ok, stats.succeeded), (3, 3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod budget;
#[cfg(feature = "batch-inference")]
#[cfg_attr(docsrs, doc(cfg(feature = "batch-inference")))]
pub mod inference;
mod journal;
mod progress;
mod record;
mod result;
mod retry;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;

pub use progress::BatchStats;
pub use record::{Record, RecordError};
pub use result::RecordResult;

use crate::client::limiter::Reservation;
use crate::client::{CallHandle, Converser};
use crate::error::Error;
use journal::Journal;
use retry::{Jitter, Limits, Next, Pacing, Tries};

/// How often the run looks at every call even without a wake-up: a safety
/// net only; wake-ups do the work.
const POLL: Duration = Duration::from_secs(1);

/// A batch run: settings, then [`run`](Batch::run).
///
/// Calls are started with [`Converser::spawn_with_waker`]: they run as
/// tasks on the `Converser`'s runtime thread, at most
/// [`concurrency`](Batch::concurrency) at a time, and the thread calling
/// `run` sleeps until one of them has news. No thread is started per record.
/// A [quota](crate::ConverserBuilder::quota) on the `Converser` applies to
/// every call.
///
/// **Throttling is not a failure.** A throttled record is sent again, for
/// as long as it takes, unless the user set a limit
/// ([`max_attempts`](Batch::max_attempts), [`give_up_after`](Batch::give_up_after)).
/// Without a quota on the `Converser`, the run paces its calls itself with
/// a rate it learns from the throttles, as the AWS SDKs' adaptive retry mode
/// does: nothing is paced until the first throttle, then calls go at 0.7
/// times the rate measured over the last few seconds, cut again on each
/// further throttle and recovering while calls succeed. With a
/// [quota](crate::ConverserBuilder::quota), its limiter paces every call.
///
/// **Retries.** A call that fails with another retryable error
/// ([`Error::is_retryable`]: a 5xx, a transport failure, a timeout) is sent
/// again, whole, up to 5 times in all (or [`max_attempts`](Batch::max_attempts)),
/// after an exponential back-off with jitter. Re-sending the whole request
/// is safe here, unlike in a chat: nothing of the failed attempt reached
/// anyone (the partial reply is dropped). This is on top of the SDK's own
/// retry policy, which retries errors that come before the stream starts.
#[must_use]
pub struct Batch<'a> {
    converser: &'a Converser,
    model_id: String,
    concurrency: usize,
    limits: Limits,
    journal: Option<PathBuf>,
    resume: bool,
    sync: bool,
    progress: Option<(Duration, ProgressFn<'a>)>,
    budget_usd: Option<f64>,
}

/// The progress callback.
type ProgressFn<'a> = Box<dyn FnMut(&BatchStats) + 'a>;

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("model_id", &self.model_id)
            .field("concurrency", &self.concurrency)
            .field("limits", &self.limits)
            .field("journal", &self.journal)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

/// One call in flight.
struct Slot {
    index: usize,
    tries: Tries,
    /// The run's own pacing's claim, without a quota on the `Converser`.
    paced: Option<Reservation>,
    /// What the call could cost at worst, held against the budget.
    worst: f64,
    handle: CallHandle,
    /// Set by the waker, cleared by the run: one wake-up message per batch
    /// of events rather than one per event.
    woken: Arc<AtomicBool>,
}

impl<'a> Batch<'a> {
    /// A batch sending every record to `model_id` through `converser`, 8 at a
    /// time, with no output file. A throttled record is sent again as long
    /// as it takes; other retryable errors get up to 5 attempts.
    pub fn new(converser: &'a Converser, model_id: impl Into<String>) -> Self {
        Batch {
            converser,
            model_id: model_id.into(),
            concurrency: 8,
            limits: Limits {
                max_attempts: None,
                give_up_after: None,
                backoff: (Duration::from_millis(500), Duration::from_secs(20)),
            },
            journal: None,
            resume: false,
            sync: true,
            progress: None,
            budget_usd: None,
        }
    }

    /// At most `n` calls in flight at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sends a record at most `n` times in all (at least 1), throttled
    /// attempts included. Without it, a throttled record is sent again as
    /// long as it takes, and other retryable errors get 5 attempts.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.limits.max_attempts = Some(n.max(1));
        self
    }

    /// Sends a record again (after throttling or another retryable error)
    /// only within `limit` of its first attempt; after that its last error
    /// is its result. No limit by default.
    pub fn give_up_after(mut self, limit: Duration) -> Self {
        self.limits.give_up_after = Some(limit);
        self
    }

    /// The back-off before a retry of an error other than throttling:
    /// `base` doubled for each such failure, at most `max`, of which a
    /// random half is waited ("equal jitter"). A throttled record waits for
    /// the pacing instead.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.limits.backoff = (base, max.max(base));
        self
    }

    /// Appends each finished record's output line to `path`, flushed (and
    /// synced to disk, see [`sync`](Batch::sync)) before the record is
    /// reported. Without [`resume`](Batch::resume) the file is emptied first.
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// With a [`journal`](Batch::journal): keep the lines already in it, skip
    /// the records they are for, and append the rest. A torn last line (the
    /// process was killed while writing it) is cut off, and its record run
    /// again.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Whether each journal line is synced to disk (`File::sync_data`), not
    /// just written to the file. On by default; off, a power cut may lose
    /// the last lines, a killed process still loses nothing.
    pub fn sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// Calls `f` with the progress at the start, at most once per `every`
    /// while records finish, and at the end.
    pub fn on_progress(mut self, every: Duration, f: impl FnMut(&BatchStats) + 'a) -> Self {
        self.progress = Some((every, Box::new(f)));
        self
    }

    /// Runs `records`, calling `on_result` on this thread for each finished
    /// record (succeeded, or failed for good) in the order they finish, and
    /// returns the final counts.
    ///
    /// A record whose `modelInput` cannot be turned into a request, or whose
    /// call fails, becomes an error line; it does not stop the batch.
    ///
    /// # Errors
    ///
    /// Before anything is sent: [`Error::DuplicateRecordId`] when two
    /// records share an id, [`Error::File`] when the journal cannot be opened or is
    /// not an output file. While running: [`Error::File`] when a line cannot
    /// be written, [`Error::Shutdown`] when the `Converser` stops. Calls
    /// still in flight are then cancelled; the journal holds every record
    /// reported so far.
    pub fn run(
        mut self,
        records: impl IntoIterator<Item = Record>,
        mut on_result: impl FnMut(RecordResult),
    ) -> Result<BatchStats, Error> {
        let mut records: Vec<Option<Record>> = records.into_iter().map(Some).collect();
        let mut ids = HashSet::with_capacity(records.len());
        for record in records.iter().flatten() {
            if !ids.insert(record.id.as_str()) {
                return Err(Error::DuplicateRecordId {
                    record: record.id.clone(),
                });
            }
        }
        drop(ids);
        let models = self.converser.answering_models(&self.model_id);
        let mut budget = budget::Budget::new(self.budget_usd, models)?;
        let mut journal = None;
        let mut done_ids = HashSet::new();
        let mut earlier = (0.0, 0);
        if let Some(path) = &self.journal {
            if self.resume {
                earlier = budget::spent_in(path, budget.models());
            }
            let (j, done) = Journal::open(path, self.resume, self.sync)?;
            journal = Some(j);
            done_ids = done;
        }
        let started = Instant::now();
        let mut progress = BatchStats::new(records.len());
        (progress.spend_usd, progress.unpriced) = earlier;
        let mut queue: VecDeque<(usize, Tries)> = VecDeque::new();
        for (i, record) in records.iter_mut().enumerate() {
            if record.as_ref().is_some_and(|r| done_ids.contains(&r.id)) {
                *record = None;
                progress.skipped += 1;
            } else {
                queue.push_back((i, Tries::default()));
            }
        }
        let pacing = Pacing::new(self.converser);
        let mut last_report = started;
        self.report(&mut progress, started);

        let (tx, rx) = crossbeam_channel::unbounded::<u64>();
        let mut slots: HashMap<u64, Slot> = HashMap::new();
        let mut delayed: Vec<(Instant, usize, Tries)> = Vec::new();
        let mut next_token = 0u64;
        let mut rng = Jitter::new();
        loop {
            let now = Instant::now();
            delayed.retain(|&(at, i, tries)| {
                let ready = at <= now;
                if ready {
                    queue.push_front((i, tries));
                }
                !ready
            });
            // When the run's pacing holds the next call back, until when.
            let mut paced_until = None;
            // The worst case of the next call, when the budget lets it start.
            let mut over_budget = false;
            while slots.len() < self.concurrency && !queue.is_empty() {
                let worst = queue.front().map_or(0.0, |&(i, _)| {
                    let record = records[i].as_ref().expect("pending record");
                    record
                        .request(&self.model_id)
                        .map_or(0.0, |r| budget.worst_case(&r))
                });
                if !budget.admits(progress.spend_usd, worst) {
                    over_budget = true;
                    break;
                }
                let paced = match pacing.admit() {
                    Ok(paced) => paced,
                    Err(wait) => {
                        paced_until = Some(now + wait);
                        break;
                    }
                };
                let Some((index, mut tries)) = queue.pop_front() else {
                    break;
                };
                let record = records[index].as_ref().expect("pending record");
                let request = match record.request(&self.model_id) {
                    Ok(request) => request,
                    Err(e) => {
                        let result = finish(&mut records, index, Err(e), 0);
                        self.deliver(result, &mut progress, journal.as_mut(), &mut on_result)?;
                        continue;
                    }
                };
                tries.attempts += 1;
                tries.first.get_or_insert_with(Instant::now);
                let token = next_token;
                next_token += 1;
                let woken = Arc::new(AtomicBool::new(false));
                let waker = {
                    let (tx, woken) = (tx.clone(), woken.clone());
                    move || {
                        if !woken.swap(true, Ordering::AcqRel) {
                            let _ = tx.send(token);
                        }
                    }
                };
                match self.converser.spawn_with_waker(&request, waker) {
                    Ok(handle) => {
                        budget.reserve(worst);
                        slots.insert(
                            token,
                            Slot {
                                index,
                                tries,
                                paced,
                                worst,
                                handle,
                                woken,
                            },
                        );
                    }
                    Err(e @ Error::InvalidRequest { .. }) => {
                        let result = finish(
                            &mut records,
                            index,
                            Err(RecordError::from_error(&e)),
                            tries.attempts,
                        );
                        self.deliver(result, &mut progress, journal.as_mut(), &mut on_result)?;
                    }
                    Err(e) => return Err(e),
                }
            }
            progress.in_flight = slots.len();
            progress.waiting_retry = delayed.len();
            if slots.is_empty() && delayed.is_empty() && (queue.is_empty() || over_budget) {
                // Over budget with nothing in flight: what is queued stays
                // unstarted.
                let mut left: Vec<usize> = queue.iter().map(|&(i, _)| i).collect();
                left.sort_unstable();
                progress.unstarted = left
                    .iter()
                    .filter_map(|&i| records[i].as_ref())
                    .map(|r| r.id.clone())
                    .collect();
                break;
            }
            let mut wait = POLL;
            if let Some(at) = delayed.iter().map(|d| d.0).chain(paced_until).min() {
                wait = wait.min(at.saturating_duration_since(now));
            }
            let mut woken: Vec<u64> = match rx.recv_timeout(wait) {
                Ok(token) => vec![token],
                // The safety net: look at every call.
                Err(RecvTimeoutError::Timeout) => slots.keys().copied().collect(),
                Err(RecvTimeoutError::Disconnected) => unreachable!("the run holds a sender"),
            };
            woken.extend(rx.try_iter());
            for token in woken {
                let Some(slot) = slots.get_mut(&token) else {
                    continue;
                };
                slot.woken.store(false, Ordering::Release);
                while slot.handle.events().try_recv().is_ok() {}
                if slot.handle.try_wait().is_none() {
                    continue;
                }
                let slot = slots.remove(&token).expect("slot");
                let (index, mut tries) = (slot.index, slot.tries);
                let outcome = slot.handle.wait();
                pacing.ended(slot.paced, &outcome);
                budget.release(slot.worst);
                let e = match outcome {
                    Ok(response) => {
                        let result = finish(&mut records, index, Ok(response), tries.attempts);
                        self.deliver(result, &mut progress, journal.as_mut(), &mut on_result)?;
                        continue;
                    }
                    Err(Error::Shutdown { .. }) => return Err(Error::Shutdown { partial: None }),
                    Err(e) => e,
                };
                if e.is_throttling() {
                    progress.throttled += 1;
                } else {
                    tries.failures += 1;
                }
                match self.limits.next(&e, &tries, &mut rng) {
                    Next::Retry(delay) => {
                        log::debug!(
                            "record {index}: attempt {} failed ({e}); retrying",
                            tries.attempts
                        );
                        progress.retries += 1;
                        if delay.is_zero() {
                            queue.push_front((index, tries));
                        } else {
                            delayed.push((Instant::now() + delay, index, tries));
                        }
                    }
                    Next::Fail => {
                        let result = finish(
                            &mut records,
                            index,
                            Err(RecordError::from_error(&e)),
                            tries.attempts,
                        );
                        self.deliver(result, &mut progress, journal.as_mut(), &mut on_result)?;
                    }
                }
            }
            progress.in_flight = slots.len();
            progress.waiting_retry = delayed.len();
            progress.learned_rpm = pacing.learned_rpm();
            if let Some((every, _)) = &self.progress {
                if last_report.elapsed() >= *every {
                    last_report = Instant::now();
                    self.report(&mut progress, started);
                }
            }
        }
        progress.in_flight = 0;
        progress.waiting_retry = 0;
        self.report(&mut progress, started);
        progress.elapsed = started.elapsed();
        Ok(progress)
    }

    fn report(&mut self, progress: &mut BatchStats, started: Instant) {
        progress.elapsed = started.elapsed();
        if let Some((_, f)) = &mut self.progress {
            f(progress);
        }
    }

    /// Writes `result`'s line to the journal, counts it, and hands it on.
    fn deliver(
        &self,
        result: RecordResult,
        progress: &mut BatchStats,
        journal: Option<&mut Journal>,
        on_result: &mut impl FnMut(RecordResult),
    ) -> Result<(), Error> {
        if let Some(journal) = journal {
            journal.append(&result.to_json_line())?;
        }
        progress.count(&result, &self.model_id);
        on_result(result);
        Ok(())
    }
}

/// The result of the record at `index`, which is done with.
fn finish(
    records: &mut [Option<Record>],
    index: usize,
    outcome: Result<crate::model::Response, RecordError>,
    attempts: u32,
) -> RecordResult {
    let record = records[index].take().expect("record finishes once");
    RecordResult {
        id: record.id,
        model_input: record.model_input,
        outcome,
        attempts,
    }
}
