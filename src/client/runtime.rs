//! The runtime thread: one single-threaded tokio runtime and its SDK clients
//! (one per target) on a named thread of their own, for the life of a
//! [`Converser`](crate::Converser) and its clones and live call handles.
//!
//! Callers hand it work over a channel and never enter, own or drop the
//! runtime. Dropping the last owner closes the channel, which ends the
//! thread's receive loop; it then shuts the runtime down (cancelling
//! whatever still runs, which closes those connections) and is joined.

use std::future::Future;
use std::thread;
use std::time::Duration;

use aws_sdk_bedrockruntime::Client;

use crate::engine::Task;
use crate::error::Error;

/// Work sent to the runtime thread: given the clients (one per target, the
/// builder's own first), a task to spawn there.
pub(crate) type Job = Box<dyn FnOnce(&[Client]) -> Task + Send>;

/// The thread's name, which shows in debuggers, panics and `top -H`.
pub(crate) const THREAD_NAME: &str = "bedrock-converse-runtime";

/// The runtime thread and the way to send it work.
pub(crate) struct Runtime {
    jobs: Option<tokio::sync::mpsc::UnboundedSender<Job>>,
    thread: Option<thread::JoinHandle<()>>,
    /// The Region each client resolved, by index.
    regions: Vec<Option<String>>,
}

impl Runtime {
    /// Starts the thread, which builds the runtime and then the clients with
    /// `make_clients` (at least one); returns once they are ready, or with
    /// the error that kept them from starting.
    pub(crate) fn start<F>(
        make_clients: impl FnOnce() -> F + Send + 'static,
    ) -> Result<Runtime, Error>
    where
        F: Future<Output = Result<Vec<Client>, Error>>,
    {
        type Ready = Result<Vec<Option<String>>, Error>;
        let (jobs_tx, mut jobs_rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Ready>(1);
        let handle = thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::config(format!(
                            "could not start the tokio runtime: {e}"
                        ))));
                        return;
                    }
                };
                rt.block_on(async move {
                    let clients = match make_clients().await {
                        Ok(clients) if !clients.is_empty() => clients,
                        Ok(_) => {
                            let _ = ready_tx.send(Err(Error::config("no client to run")));
                            return;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let regions = clients
                        .iter()
                        .map(|c| c.config().region().map(|r| r.to_string()))
                        .collect();
                    if ready_tx.send(Ok(regions)).is_err() {
                        return;
                    }
                    while let Some(job) = jobs_rx.recv().await {
                        tokio::spawn(job(&clients));
                    }
                    log::debug!("bedrock-converse runtime: all handles dropped, shutting down");
                });
                // Cancels tasks still running; does not wait long for blocking
                // work such as a DNS lookup.
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .map_err(|e| Error::config(format!("could not start the runtime thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(regions)) => Ok(Runtime {
                jobs: Some(jobs_tx),
                thread: Some(handle),
                regions,
            }),
            Ok(Err(e)) => {
                let _ = handle.join();
                Err(e)
            }
            Err(_) => {
                let _ = handle.join();
                Err(Error::config("the runtime thread stopped during start-up"))
            }
        }
    }

    /// Sends a job to the thread; [`Error::Shutdown`] if it is gone.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Error> {
        self.jobs
            .as_ref()
            .ok_or(Error::Shutdown { partial: None })?
            .send(job)
            .map_err(|_| Error::Shutdown { partial: None })
    }

    /// The Region each client resolved, by index.
    pub(crate) fn regions(&self) -> &[Option<String>] {
        &self.regions
    }

    /// Whether the calling thread is this runtime's own.
    pub(crate) fn is_current_thread(&self) -> bool {
        let runtime = self.thread.as_ref().map(|t| t.thread().id());
        runtime == Some(thread::current().id())
    }

    /// Whether the thread still takes work.
    pub(crate) fn is_running(&self) -> bool {
        self.jobs.as_ref().is_some_and(|j| !j.is_closed())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Closing the channel ends the runtime thread's receive loop; it then
        // shuts the runtime down, cancelling whatever is still running.
        self.jobs.take();
        if let Some(handle) = self.thread.take() {
            if handle.thread().id() == thread::current().id() {
                return; // never join ourselves
            }
            if handle.join().is_err() {
                log::error!("the bedrock-converse runtime thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        let conf = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        Client::from_conf(conf)
    }

    #[test]
    fn a_start_up_error_comes_back_and_the_thread_is_joined() {
        let Err(err) = Runtime::start(|| async { Err(Error::config("no region")) }) else {
            panic!("a client that failed to build still started");
        };
        assert!(matches!(err, Error::Config { ref message } if message == "no region"));
    }

    #[test]
    fn a_dead_runtime_thread_refuses_work_instead_of_hanging() {
        let runtime = Runtime::start(|| async { Ok(vec![client()]) }).unwrap();
        assert!(runtime.is_running());
        // A job that panics outside any task kills the thread's loop.
        let (tx, rx) = std::sync::mpsc::channel();
        runtime
            .submit(Box::new(move |_: &[Client]| {
                let _ = tx.send(thread::current().name().map(str::to_owned));
                Box::pin(async {})
            }))
            .unwrap();
        assert_eq!(rx.recv().unwrap().as_deref(), Some(THREAD_NAME));
        runtime
            .submit(Box::new(|_: &[Client]| {
                panic!("deliberate runtime thread crash")
            }))
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while runtime.is_running() {
            assert!(
                std::time::Instant::now() < deadline,
                "the thread did not die"
            );
            thread::sleep(Duration::from_millis(5));
        }
        let err = runtime.submit(Box::new(|_: &[Client]| Box::pin(async {})));
        assert!(matches!(err, Err(Error::Shutdown { partial: None })));
        // Dropping it joins a thread that panicked: logged, not propagated.
        drop(runtime);
    }
}
