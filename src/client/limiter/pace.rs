//! The pacing half of the limiter: GCRA (one call every `1 / rate` seconds,
//! a call may run up to `burst` seconds ahead of that schedule) with a rate
//! that backs off multiplicatively on throttling and recovers additively
//! (AIMD), and a burst that starts small and grows only while the pacer is
//! what holds calls back and nothing is throttled. Pure: times are seconds
//! on the limiter's own clock (`f64`), passed in by the caller.

use std::collections::VecDeque;

/// Factor applied to the rate on a throttle the burst does not explain
/// (the AWS SDKs' adaptive mode uses the same β).
pub(crate) const THROTTLE_DECREASE: f64 = 0.7;
/// The rate never drops below this fraction of the quota.
pub(crate) const MIN_RATE_FACTOR: f64 = 0.05;
/// How fast the rate recovers while calls succeed: this fraction of the
/// quota per second (0.7 → 1.0 in 15 s).
pub(crate) const RECOVERY_PER_SECOND: f64 = 0.02;
/// The burst a limiter starts with, in seconds of quota: half of the
/// smallest bucket a server plausibly keeps (one second of quota).
pub(crate) const INITIAL_BURST: f64 = 0.5;
/// The largest burst, in seconds of quota: a whole minute.
pub(crate) const MAX_BURST: f64 = 60.0;
/// How fast the burst grows while it is what holds calls back and nothing
/// is throttled: this fraction of itself per second (doubling in about 5 s).
pub(crate) const BURST_GROWTH: f64 = 0.15;
/// The pacer counts as holding calls back for this long after it last did.
const PRESSED_FOR: f64 = 1.0;
/// Learning mode measures the sending rate over this many seconds.
const MEASURE: f64 = 5.0;
/// The slowest rate learning mode settles on, in calls per second.
const MIN_LEARNED_RATE: f64 = 0.1;

/// One GCRA schedule: the theoretical arrival time of the next unit.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    tat: f64,
}

impl Default for Schedule {
    /// Idle since ever: whatever the clock says, nothing is owed.
    fn default() -> Self {
        Schedule {
            tat: f64::NEG_INFINITY,
        }
    }
}

impl Schedule {
    /// How long a cost taking `inc` seconds must wait under `burst`; zero
    /// when it fits now. A cost larger than the burst fits an idle schedule.
    fn wait(&self, now: f64, inc: f64, burst: f64) -> f64 {
        let debt = (self.tat - now).max(0.0);
        (debt + inc - burst.max(inc)).max(0.0)
    }

    fn add(&mut self, now: f64, inc: f64) {
        self.tat = self.tat.max(now) + inc;
    }
}

/// The pacer's state; see the [module documentation](self).
#[derive(Debug)]
pub(crate) struct Pacer {
    /// Calls per second at full rate (`None`: not paced, or not learned yet).
    rps: Option<f64>,
    /// Weighted tokens per second at full rate.
    tps: Option<f64>,
    /// Learning mode: no quota is known; the first throttle sets `rps` from
    /// the measured sending rate (as the AWS SDKs' adaptive mode does).
    learn: bool,
    factor: f64,
    factor_changed: f64,
    burst: f64,
    burst_cap: f64,
    burst_grown: f64,
    requests: Schedule,
    tokens: Schedule,
    /// When the pacer last reacted to a throttle: throttles of calls sent
    /// before that do not compound.
    reacted: Option<f64>,
    /// When the pacer last held a call back.
    pressed: Option<f64>,
    /// Learning mode: admission times over the last [`MEASURE`] seconds.
    sent: VecDeque<f64>,
    first_sent: Option<f64>,
    pub(crate) rate_decreases: u64,
    pub(crate) burst_decreases: u64,
}

impl Pacer {
    /// A pacer for quotas of `rpm` requests and `tpm` weighted tokens a
    /// minute; with neither, a learning pacer when `learn` is set, and one
    /// that never holds anything back otherwise.
    pub(crate) fn new(rpm: Option<u32>, tpm: Option<u32>, learn: bool) -> Self {
        Pacer {
            rps: rpm.map(|r| f64::from(r) / 60.0),
            tps: tpm.map(|t| f64::from(t) / 60.0),
            learn: learn && rpm.is_none() && tpm.is_none(),
            factor: 1.0,
            factor_changed: 0.0,
            burst: INITIAL_BURST,
            burst_cap: MAX_BURST,
            burst_grown: 0.0,
            requests: Schedule::default(),
            tokens: Schedule::default(),
            reacted: None,
            pressed: None,
            sent: VecDeque::new(),
            first_sent: None,
            rate_decreases: 0,
            burst_decreases: 0,
        }
    }

    pub(crate) fn factor(&self) -> f64 {
        self.factor
    }

    /// The burst, in seconds of quota.
    pub(crate) fn burst(&self) -> f64 {
        self.burst
    }

    /// The learned or configured full rate, in calls per second.
    pub(crate) fn full_rate(&self) -> Option<f64> {
        self.rps
    }

    fn request_inc(&self) -> Option<f64> {
        self.rps.map(|r| 1.0 / (r * self.factor))
    }

    fn token_inc(&self, tokens: u64) -> Option<f64> {
        self.tps.map(|t| tokens as f64 / (t * self.factor))
    }

    /// How long a call costing `tokens` must wait; zero when it may go now.
    pub(crate) fn wait(&mut self, now: f64, tokens: u64) -> f64 {
        let mut wait = 0.0f64;
        if let Some(inc) = self.request_inc() {
            wait = wait.max(self.requests.wait(now, inc, self.burst));
        }
        if let Some(inc) = self.token_inc(tokens) {
            wait = wait.max(self.tokens.wait(now, inc, self.burst));
        }
        // Rounding (a wait of a microsecond is the clock's, not the pace's).
        if wait <= 1e-6 {
            return 0.0;
        }
        self.pressed = Some(now);
        wait
    }

    /// Books an admitted call.
    pub(crate) fn admit(&mut self, now: f64, tokens: u64) {
        if let Some(inc) = self.request_inc() {
            self.requests.add(now, inc);
        }
        if let Some(inc) = self.token_inc(tokens) {
            self.tokens.add(now, inc);
        }
        if self.learn {
            self.first_sent.get_or_insert(now);
            self.sent.push_back(now);
            while self.sent.front().is_some_and(|&t| t <= now - MEASURE) {
                self.sent.pop_front();
            }
        }
    }

    /// Gives back `tokens` booked earlier (a reservation larger than the use).
    pub(crate) fn refund(&mut self, tokens: u64) {
        if let Some(inc) = self.token_inc(tokens) {
            self.tokens.tat -= inc;
        }
    }

    /// Books `tokens` beyond a reservation, as of `now`.
    pub(crate) fn charge(&mut self, now: f64, tokens: u64) {
        if let Some(inc) = self.token_inc(tokens) {
            self.tokens.add(now, inc);
        }
    }

    /// The sending rate over the last few seconds, in calls per second.
    fn measured(&self, now: f64) -> f64 {
        let span = self
            .first_sent
            .map_or(MEASURE, |first| (now - first).clamp(1.0, MEASURE));
        (self.sent.len() as f64 / span).max(MIN_LEARNED_RATE)
    }

    /// Reacts to a throttle of a call admitted at `admitted`. A throttle of
    /// a call sent before the last reaction changes nothing (the reaction
    /// already covers it). Otherwise the burst, if it has grown (by more
    /// than 1 %: less is no growth worth blaming), is blamed first: it drops
    /// back to the start and may only grow to half of what it was. With the
    /// burst at its start, the rate is cut by [`THROTTLE_DECREASE`]. Either
    /// way the next call goes one spacing interval from now, with no burst:
    /// the server has just said it is empty. Returns whether this was a
    /// reaction.
    pub(crate) fn throttled(&mut self, admitted: f64, now: f64) -> bool {
        if self.reacted.is_some_and(|r| admitted < r) {
            return false;
        }
        self.reacted = Some(now);
        if self.learn && self.rps.is_none() {
            self.rps = Some(self.measured(now));
            self.requests.tat = now;
        }
        if self.burst > INITIAL_BURST * 1.01 {
            self.burst_cap = (self.burst / 2.0).max(INITIAL_BURST);
            self.burst = INITIAL_BURST;
            self.burst_decreases += 1;
        } else {
            self.factor = (self.factor * THROTTLE_DECREASE).max(MIN_RATE_FACTOR);
            self.rate_decreases += 1;
        }
        self.factor_changed = now;
        self.burst_grown = now;
        // The schedule restarts from now, whatever debt it had: a debt run
        // up under a grown burst would otherwise hold the next call for as
        // long as that burst was (a minute, at the largest), which is the
        // stall pacing from now avoids. The window still bounds the minute.
        if let Some(inc) = self.request_inc() {
            self.requests.tat = now + self.burst.max(inc);
        }
        if self.tps.is_some() {
            self.tokens.tat = now + self.burst;
        }
        true
    }

    /// Reacts to a call that succeeded: the rate recovers by
    /// [`RECOVERY_PER_SECOND`] per second since it last changed, and the
    /// burst grows by [`BURST_GROWTH`] per second if the pacer has been
    /// holding calls back (a larger burst is only worth probing for then).
    pub(crate) fn succeeded(&mut self, now: f64) {
        if self.factor < 1.0 {
            let gained = (now - self.factor_changed).max(0.0) * RECOVERY_PER_SECOND;
            self.factor = (self.factor + gained).min(1.0);
            self.factor_changed = now;
        }
        let pressed = self.pressed.is_some_and(|p| now - p <= PRESSED_FOR);
        if pressed && self.burst < self.burst_cap {
            let dt = (now - self.burst_grown).clamp(0.0, 1.0);
            self.burst = (self.burst * (1.0 + BURST_GROWTH * dt)).min(self.burst_cap);
        }
        self.burst_grown = now;
    }
}

#[cfg(test)]
#[path = "pace_tests.rs"]
mod tests;
