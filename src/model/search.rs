//! Search results to ground a reply on ([`SearchResult`]): in a user turn or
//! in a tool's result, with citations pointing back into them.

/// One search result: where it came from, its title and its passages. Put
/// it in a user turn ([`Message::with`](crate::Message::with)) or in a tool's result
/// ([`ToolResult::with_search_result`](crate::model::ToolResult::with_search_result)), and turn
/// [`citations`](SearchResult::citations) on for the model to cite it (its
/// citations then point at a search result index and passage range).
///
/// ```
/// use bedrock_converse::{ConverseRequest, Message};
/// use bedrock_converse::model::SearchResult;
///
/// let result = SearchResult::new("https://example.com/weather", "Paris weather")
///     .passage("Sunny, 24 C in the afternoon.")
///     .passage("Light wind from the west.")
///     .citations(true);
/// let request = ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
///     .message(Message::user("What is the weather in Paris?").with(result));
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct SearchResult {
    /// Where the result came from (a URL or any identifier).
    pub source: String,
    /// The result's title.
    pub title: String,
    /// Its text passages, in order.
    pub passages: Vec<String>,
    /// Whether the model should cite it (`None`: not sent).
    pub citations: Option<bool>,
}

impl SearchResult {
    /// A result with a source and a title, and no passages yet.
    pub fn new(source: impl Into<String>, title: impl Into<String>) -> Self {
        SearchResult {
            source: source.into(),
            title: title.into(),
            passages: Vec::new(),
            citations: None,
        }
    }

    /// Appends a text passage.
    pub fn passage(mut self, text: impl Into<String>) -> Self {
        self.passages.push(text.into());
        self
    }

    /// Asks the model to cite this result (models that support citations).
    pub fn citations(mut self, enabled: bool) -> Self {
        self.citations = Some(enabled);
        self
    }
}
