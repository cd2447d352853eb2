//! [`BatchInference::wait`]: polling a job until it ends, or until the
//! caller stops waiting (a cancel token, a wait limit).

use std::time::{Duration, Instant};

use super::{BatchInference, InferenceError, JobArn, JobState};

impl BatchInference<'_> {
    /// Polls the job until it has ended, with waits that double from the
    /// [first poll interval](BatchInference::poll_interval) to the longest,
    /// calling `progress` with each state; returns the final state (which
    /// may be `Failed`, `Stopped` or `Expired`: see
    /// [`JobStatus::has_output`](super::JobStatus::has_output)).
    ///
    /// A [cancel token](BatchInference::cancel_token) or a
    /// [wait limit](BatchInference::wait_limit) ends the wait early, between
    /// polls (a cancel at once, not at the next poll); the job goes on.
    ///
    /// # Errors
    ///
    /// As [`status`](BatchInference::status), and
    /// [`InferenceError::WaitEnded`] when the wait was cancelled or its limit
    /// passed.
    pub fn wait(
        &self,
        job: &JobArn,
        mut progress: impl FnMut(&JobState),
    ) -> Result<JobState, InferenceError> {
        let deadline = self.wait_limit.map(|limit| Instant::now() + limit);
        let mut pause = self.first_poll;
        loop {
            let state = self.status(job)?;
            progress(&state);
            if state.status.is_finished() {
                return Ok(state);
            }
            let mut nap = pause;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ended(state, false));
                }
                nap = nap.min(left);
            }
            if self.nap_cancelled(nap) {
                return Err(ended(state, true));
            }
            pause = (pause * 2).min(self.max_poll);
        }
    }

    /// Sleeps for `nap`, or less if the cancel token fires; whether it did.
    fn nap_cancelled(&self, nap: Duration) -> bool {
        match &self.cancel {
            // The receiver disconnects when the token is cancelled.
            Some(token) => {
                token.is_cancelled()
                    || !matches!(
                        token.receiver().recv_timeout(nap),
                        Err(crossbeam_channel::RecvTimeoutError::Timeout)
                    )
            }
            None => {
                std::thread::sleep(nap);
                false
            }
        }
    }
}

fn ended(last: JobState, cancelled: bool) -> InferenceError {
    InferenceError::WaitEnded {
        last: Box::new(last),
        cancelled,
    }
}
