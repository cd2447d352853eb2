//! The window half of the limiter: a log of what was admitted in the last
//! [`WINDOW`], which keeps any 60 s (sliding or calendar) within the quota,
//! and spreads what room the window has left over the time until its oldest
//! entry leaves, so a full window never stalls admissions for long.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long an admission counts against the window: Bedrock's one-minute
/// quota plus a one-second margin for network jitter.
pub(crate) const WINDOW: Duration = Duration::from_secs(61);

/// One admission (or settlement overrun) in the log.
#[derive(Debug)]
struct Entry {
    id: u64,
    at: Instant,
    request: bool,
    tokens: u64,
}

/// The log and its totals.
#[derive(Debug, Default)]
pub(crate) struct Window {
    log: VecDeque<Entry>,
    pub(crate) requests: u64,
    pub(crate) tokens: u64,
    next_id: u64,
    last_admitted: Option<Instant>,
}

impl Window {
    /// Appends an entry (a request, or tokens only) and counts it; returns
    /// its id.
    pub(crate) fn push(&mut self, at: Instant, request: bool, tokens: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.log.push_back(Entry {
            id,
            at,
            request,
            tokens,
        });
        self.requests += u64::from(request);
        self.tokens += tokens;
        if request {
            self.last_admitted = Some(at);
        }
        id
    }

    /// Drops the entries that have left the window at `now`.
    pub(crate) fn expire(&mut self, now: Instant) {
        while let Some(e) = self.log.front() {
            if e.at + WINDOW > now {
                break;
            }
            self.requests -= u64::from(e.request);
            self.tokens -= e.tokens;
            self.log.pop_front();
        }
    }

    /// Gives back up to `tokens` of entry `id`, if it is still in the
    /// window; returns how many.
    pub(crate) fn refund(&mut self, id: u64, tokens: u64) -> u64 {
        let Ok(i) = self.log.binary_search_by_key(&id, |e| e.id) else {
            return 0;
        };
        let refund = tokens.min(self.log[i].tokens);
        self.log[i].tokens -= refund;
        self.tokens -= refund;
        refund
    }

    /// When the window will hold at most `keep` (`count` reads one entry's
    /// share of `used`), `now` if it already does.
    fn free_at(
        &self,
        now: Instant,
        used: u64,
        keep: u64,
        count: impl Fn(&Entry) -> u64,
    ) -> Instant {
        let mut remaining = used;
        for e in &self.log {
            if remaining <= keep {
                break;
            }
            remaining -= count(e);
            if remaining <= keep {
                return e.at + WINDOW;
            }
        }
        now
    }

    /// The earliest time a call may be admitted under `cap` for one
    /// dimension, `used` of it taken, the call costing `cost` of it.
    ///
    /// It must fit: the window holds at most `cap - cost` before it. And it
    /// must not use the room left faster than evenly until the oldest entry
    /// leaves (at `E`, when the room grows again): with `room` left, the
    /// call goes no earlier than `t` with `t - last = (E - t) × cost /
    /// (room + cost)`, `last` being the last admission. A burst early in a
    /// window is thus paid back by a slightly slower pace over the rest of
    /// it, never by a stall at its end.
    fn ready_for(
        &self,
        now: Instant,
        cap: u64,
        used: u64,
        cost: u64,
        count: impl Fn(&Entry) -> u64,
    ) -> Instant {
        let fits = self.free_at(now, used, cap.saturating_sub(cost), &count);
        let (Some(oldest), Some(last)) = (self.log.front(), self.last_admitted) else {
            return fits;
        };
        if cost == 0 {
            return fits;
        }
        let room = cap.saturating_sub(used);
        // Solved for t: t = last + (E - last) × c / (1 + c), c = cost / (room + cost).
        let until = (oldest.at + WINDOW).saturating_duration_since(last);
        let share = cost as f64 / (room + 2 * cost) as f64;
        fits.max(last + until.mul_f64(share))
    }

    /// When a call (one request, `tokens` weighted tokens) may be admitted
    /// under `rpm` and `tpm`. A call larger than the whole TPM waits for a
    /// window without tokens.
    pub(crate) fn ready(
        &self,
        now: Instant,
        rpm: Option<u32>,
        tpm: Option<u32>,
        tokens: u64,
    ) -> Instant {
        let mut ready = now;
        if let Some(rpm) = rpm {
            let cap = u64::from(rpm).max(1);
            ready = ready.max(self.ready_for(now, cap, self.requests, 1, |e| u64::from(e.request)));
        }
        if let Some(tpm) = tpm {
            let cap = u64::from(tpm).max(1);
            ready = ready.max(if tokens > cap {
                self.free_at(now, self.tokens, 0, |e| e.tokens)
            } else {
                self.ready_for(now, cap, self.tokens, tokens, |e| e.tokens)
            });
        }
        ready
    }
}
