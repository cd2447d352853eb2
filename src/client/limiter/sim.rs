//! A discrete-event simulator on a fake clock: a job of calls from a few
//! workers goes through a [`Limiter`] to a server that plays one of the
//! plausible quota models, and every throttle is reported back and retried.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{Limiter, Reservation, TokenEstimate, TokensUsed};

/// How a server counts its minute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Model {
    /// At most the quota in any 60 s.
    Sliding,
    /// At most the quota per calendar minute; the job starts `phase`
    /// seconds into a minute.
    Fixed { phase: f64 },
    /// A bucket holding `seconds` of quota, refilled at the quota, full at
    /// the start.
    Bucket { seconds: f64 },
}

/// Every model the limiter must hold against.
pub(super) const MODELS: [Model; 6] = [
    Model::Sliding,
    Model::Fixed { phase: 0.0 },
    Model::Fixed { phase: 45.0 },
    Model::Bucket { seconds: 1.0 },
    Model::Bucket { seconds: 10.0 },
    Model::Bucket { seconds: 60.0 },
];

/// A server enforcing `rpm` and `tpm` (weighted tokens) under `model`. Like
/// Bedrock, it reserves a call's tokens when it arrives and settles them to
/// the real use when it ends; a throttled call counts nothing.
pub(super) struct Server {
    model: Model,
    rpm: Option<f64>,
    tpm: Option<f64>,
    /// Sliding: accepted calls (arrival, id); tokens per id.
    log: VecDeque<(f64, u64)>,
    charged: HashMap<u64, (f64, f64)>,
    /// Fixed: the current minute and what it has counted.
    minute: i64,
    /// Bucket levels (requests, tokens); fixed-minute counts.
    levels: (f64, f64),
    last: f64,
    next_id: u64,
}

impl Server {
    pub(super) fn new(model: Model, rpm: Option<u32>, tpm: Option<u32>) -> Self {
        let (rpm, tpm) = (rpm.map(f64::from), tpm.map(f64::from));
        let levels = match model {
            Model::Bucket { seconds } => (
                rpm.map_or(0.0, |r| r * seconds / 60.0),
                tpm.map_or(0.0, |t| t * seconds / 60.0),
            ),
            _ => (0.0, 0.0),
        };
        Server {
            model,
            rpm,
            tpm,
            log: VecDeque::new(),
            charged: HashMap::new(),
            minute: i64::MIN,
            levels,
            last: 0.0,
            next_id: 0,
        }
    }

    /// A call reserving `tokens` arrives at `t`: its id if accepted.
    fn arrive(&mut self, t: f64, tokens: f64) -> Option<u64> {
        let (rpm, tpm) = (self.rpm, self.tpm);
        let ok = match self.model {
            Model::Sliding => {
                while self.log.front().is_some_and(|&(at, _)| at + 60.0 <= t) {
                    let (_, id) = self.log.pop_front().unwrap();
                    self.charged.remove(&id);
                }
                let used: f64 = self.log.iter().map(|(_, id)| self.charged[id].0).sum();
                rpm.is_none_or(|r| (self.log.len() as f64) < r)
                    && tpm.is_none_or(|q| used + tokens <= q)
            }
            Model::Fixed { phase } => {
                let minute = ((t + phase) / 60.0).floor() as i64;
                if minute != self.minute {
                    self.minute = minute;
                    self.levels = (0.0, 0.0);
                }
                rpm.is_none_or(|r| self.levels.0 < r)
                    && tpm.is_none_or(|q| self.levels.1 + tokens <= q)
            }
            Model::Bucket { seconds } => {
                let dt = t - self.last;
                self.last = t;
                if let Some(r) = rpm {
                    self.levels.0 = (self.levels.0 + dt * r / 60.0).min(r * seconds / 60.0);
                }
                if let Some(q) = tpm {
                    let cap = q * seconds / 60.0;
                    self.levels.1 = (self.levels.1 + dt * q / 60.0).min(cap);
                }
                rpm.is_none_or(|_| self.levels.0 >= 1.0)
                    && tpm.is_none_or(|q| {
                        self.levels.1 >= tokens.min(q * seconds / 60.0) && self.levels.1 > 0.0
                    })
            }
        };
        if !ok {
            return None;
        }
        let id = self.next_id;
        self.next_id += 1;
        match self.model {
            Model::Sliding => {
                self.log.push_back((t, id));
                self.charged.insert(id, (tokens, 0.0));
            }
            Model::Fixed { .. } => {
                self.levels.0 += 1.0;
                self.levels.1 += tokens;
                self.charged.insert(id, (tokens, self.minute as f64));
            }
            Model::Bucket { .. } => {
                self.levels.0 -= 1.0;
                self.levels.1 -= tokens;
                self.charged.insert(id, (tokens, 0.0));
            }
        }
        Some(id)
    }

    /// Call `id` ended having used `tokens`: its charge is corrected.
    fn settle(&mut self, id: u64, tokens: f64) {
        let Some(charge) = self.charged.get_mut(&id) else {
            return;
        };
        let delta = tokens - charge.0;
        match self.model {
            Model::Sliding => charge.0 = tokens,
            Model::Fixed { .. } => {
                if charge.1 as i64 == self.minute {
                    self.levels.1 += delta;
                }
            }
            Model::Bucket { seconds } => {
                let cap = self.tpm.map_or(0.0, |q| q * seconds / 60.0);
                self.levels.1 = (self.levels.1 - delta).min(cap);
            }
        }
    }
}

/// A job: `calls` calls from `workers` workers, each costing `estimate`
/// and using `used`; a call lasts `latency` seconds, a throttle comes back
/// in a tenth of that; each request reaches the server up to 50 ms after
/// its admission (a fixed pseudo-random jitter).
pub(super) struct Job {
    pub(super) calls: usize,
    pub(super) workers: usize,
    pub(super) latency: f64,
    pub(super) estimate: TokenEstimate,
    pub(super) used: TokensUsed,
    /// The weight the server applies to output tokens.
    pub(super) weight: f64,
}

impl Default for Job {
    fn default() -> Self {
        Job {
            calls: 400,
            workers: 16,
            latency: 1.5,
            estimate: TokenEstimate::default(),
            used: TokensUsed::default(),
            weight: 1.0,
        }
    }
}

/// What a job did.
#[derive(Debug)]
pub(super) struct Outcome {
    /// When the last call succeeded, in seconds.
    pub(super) took: f64,
    pub(super) sent: usize,
    pub(super) throttled: usize,
    /// The longest time without an admission after the first throttle,
    /// while calls were still waiting.
    pub(super) max_gap_after_throttle: f64,
}

impl Outcome {
    pub(super) fn throttled_share(&self) -> f64 {
        self.throttled as f64 / self.sent.max(1) as f64
    }
}

enum Event {
    /// A worker tries to get its call admitted.
    Try(usize),
    /// A call ends: accepted by the server (its id) or throttled.
    End(usize, Option<u64>, Reservation),
}

/// Events in time order (ties in the order they were pushed).
#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    events: HashMap<u64, Event>,
    seq: u64,
}

impl Queue {
    /// At `ns` nanoseconds on the fake clock.
    fn push(&mut self, ns: u64, e: Event) {
        self.seq += 1;
        self.heap.push(Reverse((ns, self.seq)));
        self.events.insert(self.seq, e);
    }

    fn pop(&mut self) -> Option<(u64, Event)> {
        let Reverse((ns, key)) = self.heap.pop()?;
        Some((ns, self.events.remove(&key).expect("event")))
    }
}

/// Runs `job` through `limiter` against `server`.
pub(super) fn run(limiter: &Limiter, server: &mut Server, job: &Job) -> Outcome {
    let t0 = Instant::now();
    let at = |ns: u64| t0 + Duration::from_nanos(ns);
    let ns = |t: f64| (t * 1e9).ceil() as u64;
    let weighted = |input: u32, output: u32| f64::from(input) + f64::from(output) * job.weight;
    let reserve = weighted(job.estimate.input, job.estimate.max_output);
    let use_ = weighted(job.used.input_tokens, job.used.output_tokens);
    let mut queue = Queue::default();
    let (mut started, mut done, mut sent, mut throttled) = (0, 0, 0, 0);
    let (mut first_throttle, mut last_admit, mut max_gap, mut took) = (None, 0.0f64, 0.0f64, 0.0);
    for w in 0..job.workers.min(job.calls) {
        queue.push(0, Event::Try(w));
        started += 1;
    }
    let mut jitter = 0x9E37_79B9_7F4A_7C15u64;
    while let Some((now, event)) = queue.pop() {
        let t = now as f64 / 1e9;
        assert!(t < 3600.0, "the job is stuck");
        match event {
            Event::Try(w) => match limiter.try_acquire(job.estimate, at(now)) {
                Ok(r) => {
                    if first_throttle.is_some() {
                        max_gap = max_gap.max(t - last_admit);
                    }
                    last_admit = t;
                    sent += 1;
                    jitter ^= jitter << 13;
                    jitter ^= jitter >> 7;
                    jitter ^= jitter << 17;
                    let arrival = t + (jitter % 50) as f64 / 1000.0;
                    let id = server.arrive(arrival, reserve);
                    let end = arrival
                        + if id.is_some() {
                            job.latency
                        } else {
                            job.latency / 10.0
                        };
                    queue.push(ns(end), Event::End(w, id, r));
                }
                Err(wait) => {
                    assert!(wait > Duration::ZERO);
                    queue.push(now + wait.as_nanos() as u64, Event::Try(w));
                }
            },
            Event::End(w, Some(id), r) => {
                server.settle(id, use_);
                limiter.settle(r, Some(job.used), at(now));
                limiter.on_success(at(now));
                done += 1;
                took = t;
                if started < job.calls {
                    started += 1;
                    queue.push(now, Event::Try(w));
                }
            }
            Event::End(w, None, r) => {
                throttled += 1;
                if first_throttle.is_none() {
                    first_throttle = Some(t);
                    last_admit = last_admit.max(t);
                }
                limiter.on_throttled(r.admitted_at(), at(now));
                limiter.settle(r, None, at(now));
                queue.push(now, Event::Try(w));
            }
        }
    }
    assert_eq!(done, job.calls);
    Outcome {
        took,
        sent,
        throttled,
        max_gap_after_throttle: max_gap,
    }
}

/// The scenarios: each server model against the limiter.
#[cfg(test)]
mod against_each_server_model {
    use super::*;
    use crate::client::limiter::Quota;

    fn est(input: u32, max_output: u32) -> TokenEstimate {
        TokenEstimate { input, max_output }
    }

    /// The bar: within 1.10x of the paced time, under 5% of the
    /// requests throttled, no gap in admissions over 5 s once throttled.
    fn check(what: &str, o: &Outcome, paced: f64) {
        println!("{what}: {o:?}");
        assert!(
            o.took <= paced * 1.10,
            "{what}: took {:.1} s: {o:?}",
            o.took
        );
        assert!(o.throttled_share() < 0.05, "{what}: {o:?}");
        assert!(o.max_gap_after_throttle <= 5.0, "{what}: {o:?}");
    }

    #[test]
    fn four_hundred_calls_at_300_rpm() {
        for model in MODELS {
            let limiter = Limiter::new(Quota::new().requests_per_minute(300));
            let mut server = Server::new(model, Some(300), None);
            let o = run(&limiter, &mut server, &Job::default());
            check(&format!("{model:?}"), &o, 80.0);
            // No model is throttled at all: none allows less than the pace.
            assert_eq!(o.throttled, 0, "{model:?}: {o:?}");
        }
    }

    #[test]
    fn four_hundred_calls_at_300_a_minute_of_tokens_with_5x_output_weight() {
        // Each call reserves 100 + 5 × 200 = 1,100 and uses 100 + 5 × 100 =
        // 600; the quota is 300 reservations a minute.
        let job = Job {
            estimate: est(100, 200),
            used: TokensUsed {
                input_tokens: 100,
                output_tokens: 100,
            },
            weight: 5.0,
            ..Job::default()
        };
        for model in MODELS {
            let quota = Quota::new()
                .tokens_per_minute(330_000)
                .output_token_weight(5.0);
            let limiter = Limiter::new(quota);
            let mut server = Server::new(model, None, Some(330_000));
            let o = run(&limiter, &mut server, &job);
            check(&format!("{model:?}"), &o, 80.0);
        }
    }

    #[test]
    fn a_server_allowing_less_than_the_quota_costs_few_throttles_and_no_stall() {
        // The client believes 300 RPM; the server allows 200.
        for model in [
            Model::Sliding,
            Model::Fixed { phase: 30.0 },
            Model::Bucket { seconds: 10.0 },
        ] {
            let limiter = Limiter::new(Quota::new().requests_per_minute(300));
            let mut server = Server::new(model, Some(200), None);
            let job = Job {
                calls: 1000,
                ..Job::default()
            };
            let o = run(&limiter, &mut server, &job);
            // 1000 calls at 200 a minute: 300 s at best.
            check(&format!("{model:?}"), &o, 300.0);
            assert!(o.throttled > 0, "{model:?}: {o:?}");
        }
    }

    #[test]
    fn learning_mode_finishes_against_a_ten_second_bucket() {
        // No quota known: 400 calls against a 300 RPM bucket of 10 s.
        let limiter = Limiter::learning();
        let mut server = Server::new(Model::Bucket { seconds: 10.0 }, Some(300), None);
        let o = run(&limiter, &mut server, &Job::default());
        assert!(o.took <= 120.0, "{o:?}");
        let learned = limiter.stats().learned_requests_per_minute.unwrap();
        assert!(learned > 0.0, "{learned}");
    }
}
