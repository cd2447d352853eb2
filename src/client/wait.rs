//! The one caller-side wait: a blocking call's thread takes its call's
//! messages as they come, and gives up at the total deadline, after an idle
//! silence, or when the request's token is cancelled.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::cancel::CancelToken;
use crate::error::TimeoutKind;

/// The outcome of waiting for a message from the runtime thread.
pub(crate) enum Wait<T> {
    /// The next message.
    Got(T),
    /// A limit passed first.
    TimedOut(TimeoutKind),
    /// The token was cancelled first.
    Cancelled,
    /// The runtime thread dropped its end: it is gone.
    Disconnected,
}

/// How often messages already queued are taken without reading the clock or
/// the token (on a busy stream that read is a fifth of the caller's work).
const CHECK_EVERY: u32 = 64;

/// Waits for one call's messages.
pub(crate) struct Waiter<'a, T> {
    rx: Receiver<T>,
    token: Option<&'a CancelToken>,
    deadline: Option<Instant>,
    idle: Option<Duration>,
    unchecked: u32,
}

impl<'a, T> Waiter<'a, T> {
    /// A waiter giving up at `deadline` (total), after `idle` without a
    /// message, or when `token` is cancelled. With neither limit, it waits
    /// for as long as the call lasts.
    pub(crate) fn new(
        rx: Receiver<T>,
        token: Option<&'a CancelToken>,
        deadline: Option<Instant>,
        idle: Option<Duration>,
    ) -> Self {
        Waiter {
            rx,
            token,
            deadline,
            idle,
            unchecked: 0,
        }
    }

    /// The next message, or why there is none.
    pub(crate) fn next(&mut self) -> Wait<T> {
        match self.rx.try_recv() {
            Ok(msg) if self.unchecked < CHECK_EVERY => {
                self.unchecked += 1;
                Wait::Got(msg)
            }
            Ok(msg) => {
                self.unchecked = 0;
                if self.token.is_some_and(CancelToken::is_cancelled) {
                    Wait::Cancelled
                } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
                    Wait::TimedOut(TimeoutKind::Deadline)
                } else {
                    Wait::Got(msg)
                }
            }
            Err(TryRecvError::Disconnected) => Wait::Disconnected,
            Err(TryRecvError::Empty) => {
                self.unchecked = 0;
                let idle = self.idle.map(|idle| Instant::now() + idle);
                let limit = match (self.deadline, idle) {
                    (Some(d), Some(i)) if d <= i => Some((d, TimeoutKind::Deadline)),
                    (_, Some(i)) => Some((i, TimeoutKind::Idle)),
                    (Some(d), None) => Some((d, TimeoutKind::Deadline)),
                    (None, None) => None,
                };
                self.block(limit)
            }
        }
    }

    /// Blocks until a message arrives, the token is cancelled, or the limit
    /// passes.
    fn block(&self, limit: Option<(Instant, TimeoutKind)>) -> Wait<T> {
        let got = |msg: Result<T, RecvTimeoutError>, kind| match msg {
            Ok(msg) => Wait::Got(msg),
            Err(RecvTimeoutError::Timeout) => Wait::TimedOut(kind),
            Err(RecvTimeoutError::Disconnected) => Wait::Disconnected,
        };
        // No limit: a year, far enough never to come (`recv_deadline` and
        // `select!` need an instant).
        let (until, kind) = limit.unwrap_or_else(|| {
            let year = Duration::from_secs(365 * 24 * 3600);
            let now = Instant::now();
            (now.checked_add(year).unwrap_or(now), TimeoutKind::Deadline)
        });
        let Some(token) = self.token else {
            // One channel: its own receive spins briefly before parking.
            return got(self.rx.recv_deadline(until), kind);
        };
        // Two sources. `select!` parks at once, and a park and wake-up per
        // stream event costs more than the event itself, so spin a little
        // first, as a single-channel receive would.
        let backoff = crossbeam_utils::Backoff::new();
        while !backoff.is_completed() {
            if token.is_cancelled() {
                return Wait::Cancelled;
            }
            match self.rx.try_recv() {
                Ok(msg) => return Wait::Got(msg),
                Err(TryRecvError::Disconnected) => return Wait::Disconnected,
                Err(TryRecvError::Empty) => backoff.snooze(),
            }
        }
        crossbeam_channel::select! {
            recv(self.rx) -> msg => got(msg.map_err(|_| RecvTimeoutError::Disconnected), kind),
            recv(token.receiver()) -> _ => Wait::Cancelled,
            default(until.saturating_duration_since(Instant::now())) => Wait::TimedOut(kind),
        }
    }
}
