//! The idle timeout between stream events, for calls that run on the runtime
//! thread ([`spawn`](crate::Converser::spawn) and
//! [`converse_with_send`](crate::Converser::converse_with_send)).
//!
//! `tokio::time::timeout(idle, stream.recv())` per event reads the clock and
//! builds a timer entry for every event, a tenth of the runtime thread's work
//! on a fast stream. [`IdleWatch`] instead keeps one timer that ticks every
//! quarter of the limit and only notes, per event, that something arrived:
//! a silence fires the timeout after between 1 and 1.25 times the limit.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Ticks per idle limit: the timeout fires after `limit` to
/// `limit * (TICKS + 1) / TICKS` of silence.
const TICKS: u32 = 4;

/// Watches a stream for silences longer than a limit.
pub(crate) struct IdleWatch {
    tick: Duration,
    timer: Pin<Box<Sleep>>,
    /// Whether anything arrived since the last tick.
    active: bool,
    /// Ticks in a row with nothing arrived.
    quiet: u32,
}

impl IdleWatch {
    /// Starts watching now; must be called on the runtime.
    pub(crate) fn new(limit: Duration) -> IdleWatch {
        let tick = (limit / TICKS).max(Duration::from_millis(1));
        IdleWatch {
            tick,
            timer: Box::pin(tokio::time::sleep(tick)),
            active: false,
            quiet: 0,
        }
    }

    /// Awaits `next`, or returns `None` once the stream has been silent for
    /// longer than the limit (counting from the last thing `next` returned).
    pub(crate) async fn run<F: Future>(&mut self, next: F) -> Option<F::Output> {
        tokio::pin!(next);
        loop {
            tokio::select! {
                biased;
                out = &mut next => {
                    self.active = true;
                    return Some(out);
                }
                () = &mut self.timer => {
                    if std::mem::take(&mut self.active) {
                        self.quiet = 0;
                    } else {
                        self.quiet += 1;
                        if self.quiet >= TICKS {
                            return None;
                        }
                    }
                    self.timer.as_mut().reset(Instant::now() + self.tick);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn a_silence_fires_after_one_to_one_and_a_quarter_limits() {
        runtime().block_on(async {
            let limit = Duration::from_millis(200);
            let mut watch = IdleWatch::new(limit);
            // Something arrives after 130 ms: not idle.
            let got = watch
                .run(async {
                    tokio::time::sleep(Duration::from_millis(130)).await;
                    7
                })
                .await;
            assert_eq!(got, Some(7));
            // Then silence.
            let last = std::time::Instant::now();
            let got = watch.run(std::future::pending::<()>()).await;
            let silent = last.elapsed();
            assert_eq!(got, None);
            assert!(silent >= limit, "fired after {silent:?} of silence");
            // 1.25 limits, plus generous scheduling slack.
            assert!(
                silent < limit * 5 / 4 + Duration::from_millis(100),
                "{silent:?}"
            );
        });
    }

    #[test]
    fn a_steady_trickle_slower_than_a_tick_never_fires() {
        runtime().block_on(async {
            let mut watch = IdleWatch::new(Duration::from_millis(100));
            // 12 items 60 ms apart: 720 ms in all, each gap under the limit.
            for i in 0..12 {
                let got = watch
                    .run(async move {
                        tokio::time::sleep(Duration::from_millis(60)).await;
                        i
                    })
                    .await;
                assert_eq!(got, Some(i));
            }
        });
    }
}
