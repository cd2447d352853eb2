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
    /// passes (with no limit, for as long as the call lasts).
    fn block(&self, limit: Option<(Instant, TimeoutKind)>) -> Wait<T> {
        let got = |msg: Result<T, RecvTimeoutError>, kind| match msg {
            Ok(msg) => Wait::Got(msg),
            Err(RecvTimeoutError::Timeout) => Wait::TimedOut(kind),
            Err(RecvTimeoutError::Disconnected) => Wait::Disconnected,
        };
        let Some(token) = self.token else {
            // One channel: its own receive spins briefly before parking.
            return match limit {
                Some((until, kind)) => got(self.rx.recv_deadline(until), kind),
                None => self.rx.recv().map_or(Wait::Disconnected, Wait::Got),
            };
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
        match limit {
            Some((until, kind)) => crossbeam_channel::select! {
                recv(self.rx) -> msg => got(msg.map_err(|_| RecvTimeoutError::Disconnected), kind),
                recv(token.receiver()) -> _ => Wait::Cancelled,
                default(until.saturating_duration_since(Instant::now())) => Wait::TimedOut(kind),
            },
            None => crossbeam_channel::select! {
                recv(self.rx) -> msg => msg.map_or(Wait::Disconnected, Wait::Got),
                recv(token.receiver()) -> _ => Wait::Cancelled,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::thread;

    use crossbeam_channel::unbounded;

    use super::*;

    fn queued(n: u32) -> Receiver<u32> {
        let (tx, rx) = unbounded();
        for i in 0..n {
            tx.send(i).unwrap();
        }
        // Keep the sender alive for the test: a disconnect is its own outcome.
        std::mem::forget(tx);
        rx
    }

    /// How many messages are taken before `next` stops giving them.
    fn taken_before<T>(w: &mut Waiter<'_, T>, limit: u32) -> (u32, Wait<T>) {
        let mut n = 0;
        loop {
            match w.next() {
                Wait::Got(_) if n < limit => n += 1,
                other => return (n, other),
            }
        }
    }

    #[test]
    fn a_busy_stream_notices_a_cancel_within_check_every_messages() {
        let token = CancelToken::new();
        token.cancel();
        let mut w = Waiter::new(queued(3 * CHECK_EVERY), Some(&token), None, None);
        let (n, outcome) = taken_before(&mut w, 3 * CHECK_EVERY);
        assert_eq!(n, CHECK_EVERY);
        assert!(matches!(outcome, Wait::Cancelled));
    }

    #[test]
    fn a_busy_stream_notices_a_passed_deadline_within_check_every_messages() {
        let past = Instant::now();
        let mut w = Waiter::new(queued(3 * CHECK_EVERY), None, Some(past), None);
        let (n, outcome) = taken_before(&mut w, 3 * CHECK_EVERY);
        assert_eq!(n, CHECK_EVERY);
        assert!(matches!(outcome, Wait::TimedOut(TimeoutKind::Deadline)));
    }

    #[test]
    fn a_busy_stream_within_its_limits_gives_every_message() {
        let token = CancelToken::new();
        let later = Instant::now() + Duration::from_secs(60);
        let mut w = Waiter::new(
            queued(3 * CHECK_EVERY),
            Some(&token),
            Some(later),
            Some(Duration::from_secs(60)),
        );
        for i in 0..3 * CHECK_EVERY {
            assert!(matches!(w.next(), Wait::Got(m) if m == i), "message {i}");
        }
    }

    #[test]
    fn idle_counts_from_the_last_message_and_ends_the_wait_when_sooner() {
        let (tx, rx) = unbounded();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            tx.send(1).unwrap();
            // Keeps the channel open past the idle limit; not joined.
            thread::sleep(Duration::from_secs(5));
            drop(tx);
        });
        let later = Instant::now() + Duration::from_secs(30);
        let mut w = Waiter::new(rx, None, Some(later), Some(Duration::from_millis(300)));
        assert!(matches!(w.next(), Wait::Got(1)));
        let start = Instant::now();
        assert!(matches!(w.next(), Wait::TimedOut(TimeoutKind::Idle)));
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(5));
        drop(sender);
    }

    #[test]
    fn the_deadline_ends_the_wait_when_sooner_than_idle() {
        for token in [None, Some(CancelToken::new())] {
            let (_tx, rx) = unbounded::<u32>();
            let start = Instant::now();
            let deadline = start + Duration::from_millis(100);
            let mut w = Waiter::new(
                rx,
                token.as_ref(),
                Some(deadline),
                Some(Duration::from_secs(30)),
            );
            assert!(matches!(w.next(), Wait::TimedOut(TimeoutKind::Deadline)));
            let waited = start.elapsed();
            assert!(waited >= Duration::from_millis(100) && waited < Duration::from_secs(10));
        }
    }

    #[test]
    fn without_limits_a_slow_message_is_awaited() {
        for token in [None, Some(CancelToken::new())] {
            let (tx, rx) = unbounded();
            let sender = thread::spawn(move || {
                thread::sleep(Duration::from_millis(200));
                tx.send(7).unwrap();
            });
            let mut w = Waiter::new(rx, token.as_ref(), None, None);
            assert!(matches!(w.next(), Wait::Got(7)));
            sender.join().unwrap();
            assert!(matches!(w.next(), Wait::Disconnected));
        }
    }

    #[test]
    fn a_cancel_ends_a_blocked_wait() {
        let token = CancelToken::new();
        let (_tx, rx) = unbounded::<u32>();
        let canceller = {
            let token = token.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                token.cancel();
            })
        };
        let mut w = Waiter::new(rx, Some(&token), None, None);
        assert!(matches!(w.next(), Wait::Cancelled));
        canceller.join().unwrap();
    }
}
