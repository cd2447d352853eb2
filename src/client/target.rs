//! Targets a call can go to, and failover between them: a [`Target`] is a
//! model id (or inference profile) in a Region, with its own endpoint and
//! quota; [`ConverserBuilder::fallback`](super::ConverserBuilder::fallback)
//! adds them after the builder's own (target 0).
//!
//! Bedrock's on-demand quotas are per model and per Region ([Quotas for
//! the bedrock-runtime
//! endpoint](https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html)),
//! so when one is saturated another model or Region usually has room. The
//! `Router` here is the one policy every path of a `Converser` uses:
//! - a call goes to the first healthy target (not cooling down, and with
//!   room under its quota now); if none has room now, it waits for the one
//!   where admission comes soonest;
//! - an error that moves a call ([`moves`]) and arrived before anything
//!   reached the caller's handler moves it to the next target it has not
//!   tried; a stream that delivered anything, and a client error (400), are
//!   never moved;
//! - a target that answered with a capacity error (throttling, unavailable,
//!   model not ready) cools down: it is skipped for [`COOLDOWN_START`],
//!   doubling on each repeat up to [`COOLDOWN_MAX`], then probed again; its
//!   first success ends the cooldown, so traffic returns to the first
//!   target (where prompt caches are warm) as soon as it answers again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::limiter::{settle_ref, Limiter, Quota, Reservation, TokenEstimate};
use crate::error::Error;
use crate::model::{AnsweredBy, ConverseRequest, Response};

/// How long a target is first skipped after a capacity error.
pub(crate) const COOLDOWN_START: Duration = Duration::from_secs(1);
/// The longest cooldown, however often a target repeats its errors.
pub(crate) const COOLDOWN_MAX: Duration = Duration::from_secs(60);

/// One place a call can go: a model id (or inference profile) in a Region,
/// for [`ConverserBuilder::fallback`](crate::ConverserBuilder::fallback).
///
/// What a target leaves unset is the builder's: its model is the request's
/// own model id, its Region the builder's, and its credentials are always
/// the builder's. A target with a [`region`](Target::region) and no
/// [`endpoint_url`](Target::endpoint_url) uses that Region's standard
/// endpoint (not the builder's endpoint, which belongs to the builder's
/// Region). A target has its own [`quota`](Target::quota) limiter, or none.
///
/// ```
/// use bedrock_converse::client::{Quota, Target};
/// let target = Target::new()
///     .model_id("us.amazon.nova-pro-v1:0")
///     .region("us-west-2")
///     .quota(Quota::new().requests_per_minute(150));
/// assert_eq!(target.get_model_id(), Some("us.amazon.nova-pro-v1:0"));
/// assert_eq!(target.get_region(), Some("us-west-2"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Target {
    model_id: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    quota: Option<Quota>,
}

impl Target {
    /// A target that is the builder's own: same model, Region and endpoint;
    /// change what differs with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// The model id or inference profile to call here, in place of the
    /// request's.
    pub fn model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = Some(model_id.into());
        self
    }

    /// The AWS Region to call, e.g. `"us-west-2"`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// A custom endpoint for this target (a VPC endpoint, a local server).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// This target's on-demand quota; its calls are paced by a limiter of
    /// their own (see [`ConverserBuilder::quota`](crate::ConverserBuilder::quota)).
    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// The model id set with [`model_id`](Target::model_id).
    pub fn get_model_id(&self) -> Option<&str> {
        self.model_id.as_deref()
    }

    /// The Region set with [`region`](Target::region).
    pub fn get_region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The endpoint set with [`endpoint_url`](Target::endpoint_url).
    pub fn get_endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// The quota set with [`quota`](Target::quota).
    pub fn get_quota(&self) -> Option<Quota> {
        self.quota
    }
}

/// One target's counters, from [`Converser::target_stats`](crate::Converser::target_stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TargetStats {
    /// The target's model id (`None`: the request's own).
    pub model_id: Option<String>,
    /// The Region its client calls, when known.
    pub region: Option<String>,
    /// Calls sent to it (each attempt of a call that moved counts where it went).
    pub calls: u64,
    /// Calls that answered here (successfully or with an error that did not
    /// move them).
    pub answered: u64,
    /// Calls that failed here and were moved to another target.
    pub failovers: u64,
    /// Calls it throttled.
    pub throttles: u64,
    /// Whether it is cooling down now.
    pub cooling_down: bool,
}

/// A target's cooldown. A result counts toward it only if its attempt was
/// sent after the last strike: a burst of throttles from calls that were
/// all in flight together is one strike, not one each, and a success from a
/// call sent before the target throttled does not end a fresh cooldown.
#[derive(Debug, Default)]
struct Health {
    /// Skipped until then.
    until: Option<Instant>,
    /// Strikes in a row: the next cooldown is `COOLDOWN_START × 2^strikes`.
    strikes: u32,
    /// When the last strike was counted.
    struck_at: Option<Instant>,
}

impl Health {
    /// Whether an attempt sent at `sent` was sent after the last strike
    /// (so its result says something new about the target).
    fn news(&self, sent: Instant) -> bool {
        self.struck_at.is_none_or(|at| sent > at)
    }
}

/// A target as the router holds it.
#[derive(Debug)]
pub(crate) struct Slot {
    model_id: Option<String>,
    region: Option<String>,
    pub(crate) limiter: Option<Arc<Limiter>>,
    health: Mutex<Health>,
    calls: AtomicU64,
    answered: AtomicU64,
    failovers: AtomicU64,
    throttles: AtomicU64,
}

impl Slot {
    /// Whether the target may take a call now. A target whose cooldown has
    /// just run out is probed by one call: the first to ask takes the probe
    /// (the cooldown is held for another [`COOLDOWN_START`] meanwhile), so
    /// the others do not all rush back at once.
    fn enter(&self, now: Instant) -> bool {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        match health.until {
            None => true,
            Some(until) if now < until => false,
            Some(_) => {
                health.until = Some(now + COOLDOWN_START);
                true
            }
        }
    }

    fn cooling(&self, now: Instant) -> bool {
        let health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        health.until.is_some_and(|until| now < until)
    }
}

/// Where one attempt of a call goes, and its claim on that target's quota.
#[derive(Debug)]
pub(crate) struct Route {
    /// The target's index: 0 is the builder's own.
    pub(crate) index: usize,
    /// The model id to send.
    pub(crate) model_id: String,
    pub(crate) reservation: Option<Reservation>,
    /// When the attempt was routed (about when it was sent).
    pub(crate) sent: Instant,
}

/// The next step of a call's routing ([`Router::choose`]).
#[derive(Debug)]
pub(crate) enum Choice {
    /// Send it here now.
    Go(Route),
    /// No target it may still try has room now; ask again after this long.
    Wait(Duration),
    /// It has tried every target.
    Exhausted,
}

/// What became of one attempt ([`Router::finish`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The call ends with this attempt's result.
    Done,
    /// Move it to the next target.
    Move,
}

/// The targets of a `Converser` and the failover policy (see the module
/// documentation).
#[derive(Debug)]
pub(crate) struct Router {
    slots: Vec<Slot>,
}

impl Router {
    /// Target 0 (the builder's own, with its `quota`) and the fallbacks,
    /// with the Regions their clients resolved (by index).
    pub(crate) fn new(quota: Option<Quota>, fallbacks: &[Target]) -> Router {
        let slot = |model_id: Option<String>, region: Option<String>, quota: Option<Quota>| Slot {
            model_id,
            region,
            limiter: quota.map(|q| Arc::new(Limiter::new(q))),
            health: Mutex::default(),
            calls: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            failovers: AtomicU64::new(0),
            throttles: AtomicU64::new(0),
        };
        let mut slots = vec![slot(None, None, quota)];
        slots.extend(
            fallbacks
                .iter()
                .map(|t| slot(t.model_id.clone(), t.region.clone(), t.quota)),
        );
        Router { slots }
    }

    /// Fills in the Regions the targets' clients resolved, by index.
    pub(crate) fn set_regions(&mut self, regions: Vec<Option<String>>) {
        for (slot, region) in self.slots.iter_mut().zip(regions) {
            slot.region = region;
        }
    }

    /// The models a call of `model_id` may be answered by, in target order,
    /// each once.
    pub(crate) fn model_ids(&self, model_id: &str) -> Vec<String> {
        let mut ids: Vec<String> = Vec::with_capacity(self.slots.len());
        for slot in &self.slots {
            let id = slot.model_id.as_deref().unwrap_or(model_id);
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_owned());
            }
        }
        ids
    }

    /// How many targets there are (at least 1).
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Target `index`'s limiter, if it has a quota.
    pub(crate) fn limiter(&self, index: usize) -> Option<&Arc<Limiter>> {
        self.slots.get(index).and_then(|s| s.limiter.as_ref())
    }

    /// `request` as target `index` sends it: with its model id, if it has
    /// one of its own.
    pub(crate) fn request_for<'a>(
        &self,
        index: usize,
        request: &'a ConverseRequest,
    ) -> std::borrow::Cow<'a, ConverseRequest> {
        match &self.slots[index].model_id {
            Some(id) if *id != request.model_id => {
                let mut moved = request.clone();
                moved.model_id = id.clone();
                std::borrow::Cow::Owned(moved)
            }
            _ => std::borrow::Cow::Borrowed(request),
        }
    }

    /// Names the target that answered an attempt sent by `route` on its
    /// reply, or on the part of it an error carries (so its cost is priced
    /// at the model that answered), when there is more than one target.
    pub(crate) fn name_answerer(&self, route: &Route, result: &mut Result<Response, Error>) {
        if self.slots.len() < 2 {
            return;
        }
        let reply = match result {
            Ok(response) => Some(response),
            Err(error) => error.partial_response_mut(),
        };
        if let Some(reply) = reply {
            reply.answered_by = Some(AnsweredBy {
                target: route.index,
                model_id: route.model_id.clone(),
                region: self.slots[route.index].region.clone(),
            });
        }
    }

    /// Where a call that has already tried the targets in `tried` goes now:
    /// the first untried target that is not cooling down and has room
    /// under its quota now. If untried targets are all cooling down, the
    /// first of them is probed; if the healthy ones are all out of room,
    /// the call waits for the one whose room comes soonest.
    pub(crate) fn choose(
        &self,
        model_id: &str,
        estimate: TokenEstimate,
        tried: &[bool],
        now: Instant,
    ) -> Choice {
        let untried = || (0..self.slots.len()).filter(|&i| !tried.get(i).copied().unwrap_or(false));
        // The target whose room comes soonest, and how soon.
        let mut soonest: Option<(usize, Duration)> = None;
        for index in untried() {
            let slot = &self.slots[index];
            if !slot.enter(now) {
                continue;
            }
            // Passing over a target leaves no claim on it: only the one
            // the call waits for is held for it.
            match self.admit(index, estimate, now, false) {
                Ok(route) => return Choice::Go(self.routed(route, model_id)),
                Err(w) if soonest.is_none_or(|(_, s)| w < s) => soonest = Some((index, w)),
                Err(_) => {}
            }
        }
        // The call waits for the soonest healthy target, or, when every
        // untried target is cooling down, probes the first of them.
        let Some(index) = soonest.map(|(i, _)| i).or_else(|| untried().next()) else {
            return Choice::Exhausted;
        };
        match self.admit(index, estimate, now, true) {
            Ok(route) => Choice::Go(self.routed(route, model_id)),
            Err(w) => Choice::Wait(w),
        }
    }

    /// Admits a call at target `index` now, or says how long until it has
    /// room; `claim` as in the limiter (an over-sized call that waits holds
    /// smaller ones back).
    fn admit(
        &self,
        index: usize,
        estimate: TokenEstimate,
        now: Instant,
        claim: bool,
    ) -> Result<(usize, Option<Reservation>), Duration> {
        let Some(limiter) = &self.slots[index].limiter else {
            return Ok((index, None));
        };
        let admitted = if claim {
            limiter.try_acquire(estimate, now)
        } else {
            limiter.try_acquire_passing(estimate, now)
        };
        admitted.map(|r| (index, Some(r)))
    }

    fn routed(&self, (index, reservation): (usize, Option<Reservation>), model_id: &str) -> Route {
        let slot = &self.slots[index];
        slot.calls.fetch_add(1, Ordering::Relaxed);
        Route {
            index,
            model_id: slot.model_id.as_deref().unwrap_or(model_id).to_owned(),
            reservation,
            sent: Instant::now(),
        }
    }

    /// Settles an attempt sent by `route`: its reservation is corrected by
    /// the result (and the limiter hears of a throttle), the target's health
    /// follows the result, and the verdict says whether the call moves on.
    /// `delivered` is whether anything reached the caller's handler.
    pub(crate) fn finish(
        &self,
        route: &mut Route,
        result: Result<&Response, &Error>,
        delivered: bool,
        more_targets: bool,
    ) -> Verdict {
        let slot = &self.slots[route.index];
        if let (Some(limiter), Some(reservation)) = (&slot.limiter, route.reservation.take()) {
            settle_ref(limiter, reservation, result);
        }
        let now = Instant::now();
        let Err(error) = result else {
            let mut health = slot.health.lock().unwrap_or_else(|p| p.into_inner());
            if health.news(route.sent) {
                *health = Health::default();
            }
            slot.answered.fetch_add(1, Ordering::Relaxed);
            return Verdict::Done;
        };
        if error.is_throttling() {
            slot.throttles.fetch_add(1, Ordering::Relaxed);
        }
        let mut health = slot.health.lock().unwrap_or_else(|p| p.into_inner());
        if capacity(error) && health.news(route.sent) {
            let backoff = COOLDOWN_START
                .saturating_mul(1u32 << health.strikes.min(16))
                .min(COOLDOWN_MAX);
            health.strikes = health.strikes.saturating_add(1);
            health.until = Some(now + backoff);
            health.struck_at = Some(now);
            if self.slots.len() > 1 {
                log::info!(
                    "bedrock-converse: target {} ({}) answered {}; skipping it for {backoff:?}",
                    route.index,
                    route.model_id,
                    error
                        .service_kind()
                        .map_or("an error", |_| "a capacity error"),
                );
            }
        }
        drop(health);
        if more_targets && !delivered && moves(error) {
            slot.failovers.fetch_add(1, Ordering::Relaxed);
            Verdict::Move
        } else {
            slot.answered.fetch_add(1, Ordering::Relaxed);
            Verdict::Done
        }
    }

    /// Every target's counters, in order.
    pub(crate) fn stats(&self) -> Vec<TargetStats> {
        let now = Instant::now();
        self.slots
            .iter()
            .map(|s| TargetStats {
                model_id: s.model_id.clone(),
                region: s.region.clone(),
                calls: s.calls.load(Ordering::Relaxed),
                answered: s.answered.load(Ordering::Relaxed),
                failovers: s.failovers.load(Ordering::Relaxed),
                throttles: s.throttles.load(Ordering::Relaxed),
                cooling_down: s.cooling(now),
            })
            .collect()
    }
}

impl super::Converser {
    /// The models a call of `model_id` may be answered by: its own and each
    /// [fallback](crate::ConverserBuilder::fallback) target's, in order.
    pub(crate) fn answering_models(&self, model_id: &str) -> Vec<String> {
        self.inner.router.model_ids(model_id)
    }
}

mod errors;
pub(crate) use errors::ending_error;
use errors::{capacity, moves};

#[cfg(test)]
mod tests;
