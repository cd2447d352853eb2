//! Ready-made handlers: [`PrintHandler`] and [`handler_fn`].

use std::io::{self, Write};
use std::ops::ControlFlow;

use super::event::Delta;
use super::handler::{StreamEvent, StreamHandler};

/// Writes text deltas to any [`io::Write`] as they arrive, flushing after
/// each, so a reply appears word by word. If writing fails (a closed pipe),
/// the stream is stopped and the error kept in [`error`](PrintHandler::error).
///
/// ```
/// # use bedrock_converse_mock::{MockServer, Reply};
/// # let server = MockServer::start()?;
/// # server.push(Reply::text("Hello, world").deltas(3));
/// # let converser = server.converser()?;
/// use bedrock_converse::ConverseRequest;
/// use bedrock_converse::stream::PrintHandler;
///
/// let mut out = PrintHandler::new(Vec::new());
/// converser.converse_with(&ConverseRequest::new("amazon.nova-lite-v1:0").user("hi"), &mut out)?;
/// assert_eq!(out.into_inner(), b"Hello, world");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PrintHandler<W: Write> {
    writer: W,
    error: Option<io::Error>,
}

impl PrintHandler<io::Stdout> {
    /// Prints to standard output.
    pub fn stdout() -> Self {
        PrintHandler::new(io::stdout())
    }
}

impl<W: Write> PrintHandler<W> {
    /// Prints to `writer`.
    pub fn new(writer: W) -> Self {
        PrintHandler {
            writer,
            error: None,
        }
    }

    /// The write error that stopped the stream, if any.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.writer
    }
}

impl<W: Write> StreamHandler for PrintHandler<W> {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        let Delta::Text(text) = delta else {
            return ControlFlow::Continue(());
        };
        match self
            .writer
            .write_all(text.as_bytes())
            .and_then(|_| self.writer.flush())
        {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// What a [`handler_fn`] closure may return: `()` (keep going) or a [`ControlFlow`].
pub trait IntoControlFlow {
    /// Converts to a [`ControlFlow`].
    fn into_control_flow(self) -> ControlFlow<()>;
}

impl IntoControlFlow for () {
    fn into_control_flow(self) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

impl IntoControlFlow for ControlFlow<()> {
    fn into_control_flow(self) -> ControlFlow<()> {
        self
    }
}

/// A [`StreamHandler`] from a closure that sees every event as a
/// [`StreamEvent`]: callback-driven printing with no trait to implement.
///
/// ```
/// # use bedrock_converse_mock::{MockServer, Reply};
/// # let server = MockServer::start()?;
/// # server.push(Reply::text("one two").deltas(2));
/// # let converser = server.converser()?;
/// use bedrock_converse::stream::handler_fn;
/// use bedrock_converse::{ConverseRequest, StreamEvent};
///
/// let mut deltas = 0;
/// let mut handler = handler_fn(|event: &StreamEvent| {
///     if let Some(text) = event.text() {
///         print!("{text}");
///         deltas += 1;
///     }
/// });
/// converser.converse_with(&ConverseRequest::new("amazon.nova-lite-v1:0").user("hi"), &mut handler)?;
/// drop(handler);
/// assert_eq!(deltas, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn handler_fn<F, R>(f: F) -> impl StreamHandler
where
    F: FnMut(&StreamEvent) -> R,
    R: IntoControlFlow,
{
    FnHandler(f)
}

/// The handler [`handler_fn`] returns: every event goes to the closure, by
/// reference, as it arrives.
struct FnHandler<F>(F);

impl<F, R> StreamHandler for FnHandler<F>
where
    F: FnMut(&StreamEvent) -> R,
    R: IntoControlFlow,
{
    fn on_event(&mut self, event: &StreamEvent) -> ControlFlow<()> {
        (self.0)(event).into_control_flow()
    }
}
