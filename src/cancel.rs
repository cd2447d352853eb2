//! Cancelling a call from another thread: [`CancelToken`].

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};

/// A cloneable, `Send + Sync` handle that cancels the calls it is attached to
/// (see [`ConverseRequest::cancel_token`](crate::ConverseRequest::cancel_token)),
/// for instance from a GUI's Cancel button while a worker thread streams.
///
/// A cancelled call returns [`Error::Cancelled`](crate::Error::Cancelled)
/// promptly, holding what had arrived, and its HTTP stream is dropped. A token
/// stays cancelled: make a new one for the next call.
///
/// ```
/// use bedrock_converse::CancelToken;
///
/// let token = CancelToken::new();
/// let for_gui = token.clone();
/// std::thread::spawn(move || for_gui.cancel()).join().unwrap();
/// assert!(token.is_cancelled());
/// ```
#[derive(Clone)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

struct Inner {
    cancelled: AtomicBool,
    // Dropping the sender disconnects every receiver, which wakes any thread
    // blocked in a `select!` on it (Batch Inference's wait for a job).
    sender: Mutex<Option<Sender<()>>>,
    #[cfg_attr(not(feature = "batch-inference"), allow(dead_code))]
    receiver: Receiver<()>,
    // Wakes async waiters (calls running on the runtime thread).
    notify: tokio::sync::Notify,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(0);
        CancelToken {
            inner: Arc::new(Inner {
                cancelled: AtomicBool::new(false),
                sender: Mutex::new(Some(tx)),
                receiver: rx,
                notify: tokio::sync::Notify::new(),
            }),
        }
    }

    /// Cancels every call using this token, now and later. Idempotent.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let mut sender = self.inner.sender.lock().unwrap_or_else(|p| p.into_inner());
        sender.take();
        drop(sender);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`cancel`](CancelToken::cancel) has been called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once the token is cancelled (for tasks on the runtime thread).
    pub(crate) async fn cancelled(&self) {
        let notified = self.inner.notify.notified();
        tokio::pin!(notified);
        // Register before checking the flag, so a cancel in between is not missed.
        notified.as_mut().enable();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }

    /// A receiver that becomes ready (disconnected) once the token is cancelled.
    #[cfg_attr(not(feature = "batch-inference"), allow(dead_code))]
    pub(crate) fn receiver(&self) -> &Receiver<()> {
        &self.inner.receiver
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl PartialEq for CancelToken {
    /// Two tokens are equal when they are clones of each other.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_equals_its_clones_and_no_other_token() {
        let token = CancelToken::new();
        let clone = token.clone();
        assert_eq!(token, clone);
        assert_ne!(token, CancelToken::new());
        assert_ne!(CancelToken::default(), CancelToken::default());
        // Equal tokens are one token: cancelling one cancels the other.
        clone.cancel();
        assert!(token.is_cancelled());
    }

    #[test]
    fn a_cancel_is_idempotent_wakes_blocked_waiters_and_shows_in_debug() {
        let token = CancelToken::default();
        assert!(!token.is_cancelled());
        assert_eq!(format!("{token:?}"), "CancelToken { cancelled: false }");
        let waiter = {
            let token = token.clone();
            std::thread::spawn(move || token.receiver().recv().is_err())
        };
        token.cancel();
        token.cancel();
        assert!(waiter.join().unwrap(), "the receiver disconnects");
        assert!(token.is_cancelled());
        assert_eq!(format!("{token:?}"), "CancelToken { cancelled: true }");
    }
}
