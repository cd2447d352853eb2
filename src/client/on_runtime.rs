//! One future run on the runtime thread, the caller blocking for its output:
//! for work that is not a Converse call, such as the Batch Inference
//! control plane and S3 calls of [`crate::batch::inference`].

use std::future::Future;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_bedrockruntime::Client;

use super::Converser;
use crate::error::Error;

impl Converser {
    /// The credentials provider the SDK client was built with, when known
    /// (not when the builder was given a whole service config).
    pub(crate) fn credentials_provider(&self) -> Option<SharedCredentialsProvider> {
        self.inner.credentials.get().cloned()
    }

    /// Runs the future that `make` builds from the runtime's client on the
    /// runtime thread, and blocks until it has finished.
    ///
    /// # Errors
    ///
    /// [`Error::Shutdown`] when the runtime thread is gone or dropped the
    /// future unfinished; [`Error::WouldDeadlock`] naming `method` when
    /// called on the runtime thread itself, where waiting would never end
    /// (as for the converse methods).
    pub(crate) fn block_on_runtime<T, F>(
        &self,
        method: &'static str,
        make: impl FnOnce(&Client) -> F + Send + 'static,
    ) -> Result<T, Error>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        if self.inner.runtime.is_current_thread() {
            return Err(Error::WouldDeadlock { method });
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.inner
            .runtime
            .submit(Box::new(move |clients: &[Client]| {
                let client = &clients[0];
                let future = make(client);
                Box::pin(async move {
                    let _ = tx.send(future.await);
                })
            }))?;
        rx.recv().map_err(|_| Error::Shutdown { partial: None })
    }
}
