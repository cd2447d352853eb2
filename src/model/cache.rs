//! The prompt cache marker, [`CachePoint`].

use aws_sdk_bedrockruntime::types::CacheTtl;

/// A prompt cache point: everything before it (in the system prompts, the
/// messages or the tool list) may be cached by models that support prompt
/// caching, and later requests with the same prefix read it from the cache
/// (see [`Usage::cache_read_input_tokens`](crate::model::Usage::cache_read_input_tokens)).
///
/// ```
/// use bedrock_converse::model::CachePoint;
/// use bedrock_converse::{ConverseRequest, Message};
///
/// let request = ConverseRequest::new("model")
///     .system("A long, stable system prompt …")
///     .system_cache_point()
///     .message(Message::user("A long document …").with(CachePoint::new()).with(
///         bedrock_converse::types::ContentBlock::Text("The question".into()),
///     ));
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachePoint {
    /// How long the cached prefix lives (`None`: the service's default).
    pub ttl: Option<CacheTtl>,
}

impl CachePoint {
    /// A cache point with the default time to live.
    pub fn new() -> Self {
        CachePoint::default()
    }

    /// A cache point with the given time to live.
    pub fn with_ttl(ttl: CacheTtl) -> Self {
        CachePoint { ttl: Some(ttl) }
    }
}
