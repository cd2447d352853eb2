//! A spawned call's route through the targets, on the runtime thread: the
//! same [`Router`] policy as a blocking call's (`Converser::routed`), with
//! the wait for room under a quota as a tokio sleep, so
//! [`spawn`](Converser::spawn) still returns at once.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::limiter::{TokenEstimate, SLEEP_SLICE};
use super::target::{ending_error, Choice, Route, Router, Verdict};
use super::Converser;
use crate::engine::spawned::{Attempts, NextAttempt, OnEnd};
use crate::error::Error;
use crate::model::ConverseRequest;
use crate::sdk::SdkParts;

/// What the task's side and the end hook share: the attempt in flight.
#[derive(Default)]
struct Current {
    route: Option<Route>,
}

/// A spawned call's [`Attempts`].
struct SpawnAttempts {
    router: Arc<Router>,
    model_id: String,
    /// The request, kept only to send it with another target's model id.
    request: Option<ConverseRequest>,
    /// The parts prepared before the call, for the first attempt with the
    /// request's own model.
    parts: Option<SdkParts>,
    estimate: TokenEstimate,
    tried: Vec<bool>,
    current: Arc<Mutex<Current>>,
}

impl SpawnAttempts {
    /// The parts for an attempt at target `index`.
    fn parts_for(&mut self, index: usize) -> Result<SdkParts, Error> {
        let Some(request) = &self.request else {
            return self.parts.take().ok_or(Error::Shutdown { partial: None });
        };
        let sent = self.router.request_for(index, request);
        super::quota::reuse(&mut self.parts, request, &sent)
    }

    async fn wait_for_route(&mut self) -> Option<Result<(usize, SdkParts), Error>> {
        let started = Instant::now();
        let mut refused = false;
        loop {
            let choice =
                self.router
                    .choose(&self.model_id, self.estimate, &self.tried, Instant::now());
            match choice {
                Choice::Go(route) => {
                    let index = route.index;
                    self.tried[index] = true;
                    if refused {
                        if let Some(limiter) = self.router.limiter(index) {
                            limiter.record_wait(started.elapsed());
                        }
                    }
                    return Some(match self.parts_for(index) {
                        Ok(parts) => {
                            lock(&self.current).route = Some(route);
                            Ok((index, parts))
                        }
                        Err(e) => {
                            // Not sendable with this target's model: the
                            // claim is settled as unused, and the call ends
                            // (as a blocking call's does).
                            let mut route = route;
                            self.router.finish(&mut route, Err(&e), false, false);
                            Err(e)
                        }
                    });
                }
                Choice::Wait(wait) => {
                    refused = true;
                    tokio::time::sleep(wait.min(SLEEP_SLICE)).await;
                }
                Choice::Exhausted => return None,
            }
        }
    }
}

fn lock(current: &Mutex<Current>) -> std::sync::MutexGuard<'_, Current> {
    current.lock().unwrap_or_else(|p| p.into_inner())
}

impl Attempts for SpawnAttempts {
    fn next(&mut self) -> NextAttempt<'_> {
        Box::pin(self.wait_for_route())
    }

    fn failed_early(&mut self, error: &Error) -> bool {
        let Some(mut route) = lock(&self.current).route.take() else {
            return false;
        };
        let more = self.tried.contains(&false);
        let verdict = self.router.finish(&mut route, Err(error), false, more);
        if verdict == Verdict::Move {
            log::info!(
                "bedrock-converse: target {} ({}) failed with {error}; moving the call on",
                route.index,
                route.model_id
            );
        }
        verdict == Verdict::Move
    }

    fn ending(&mut self, earlier: Option<Error>, last: Error) -> Error {
        ending_error(earlier, last)
    }
}

impl Converser {
    /// A spawned call's attempts, and the hook that settles the last one
    /// (its reservation, the target's health) and names the target that
    /// answered when the call ends.
    pub(super) fn spawn_attempts(
        &self,
        request: &ConverseRequest,
        parts: SdkParts,
    ) -> (Box<dyn Attempts>, OnEnd) {
        let router = self.inner.router.clone();
        let several = router.len() > 1;
        let current: Arc<Mutex<Current>> = Arc::default();
        let attempts = SpawnAttempts {
            router: router.clone(),
            model_id: request.model_id.clone(),
            request: several.then(|| request.clone()),
            parts: Some(parts),
            estimate: super::estimate_tokens(request),
            tried: vec![false; router.len()],
            current: current.clone(),
        };
        let on_end: OnEnd = Box::new(move |result| {
            let Some(mut route) = lock(&current).route.take() else {
                return;
            };
            router.finish(&mut route, result.as_ref(), true, false);
            router.name_answerer(&route, result);
        });
        (Box::new(attempts), on_end)
    }
}
