//! A validated request as the CountTokens operation's input
//! (`POST /model/{modelId}/count-tokens`, body `{"input": {"converse": …}}`),
//! and its reply as a count.

use std::future::Future;

use aws_sdk_bedrockruntime::types::{ConverseTokensRequest, CountTokensInput};
use aws_sdk_bedrockruntime::Client;

use super::request::SdkParts;
use super::response::non_negative;
use crate::error::Error;

impl SdkParts {
    /// The parts CountTokens takes: messages, system prompts, tools and
    /// additional model fields (inference settings, guardrails and output
    /// settings do not change the input count and are not sent).
    pub(crate) fn to_count_tokens_input(&self) -> CountTokensInput {
        CountTokensInput::Converse(
            ConverseTokensRequest::builder()
                .set_messages(Some(self.messages.clone()))
                .set_system(self.system.clone())
                .set_tool_config(self.tool_config.clone())
                .set_additional_model_request_fields(self.additional_model_request_fields.clone())
                .build(),
        )
    }
}

/// Sends CountTokens for `parts`; resolves to the input token count.
pub(crate) fn count_tokens(
    client: &Client,
    parts: SdkParts,
) -> impl Future<Output = Result<u32, Error>> + Send + 'static {
    let send = client
        .count_tokens()
        .model_id(&parts.model_id)
        .input(parts.to_count_tokens_input())
        .send();
    async move {
        send.await
            .map(|out| non_negative(out.input_tokens))
            .map_err(Error::from_sdk)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::ConverseRequest;

    #[test]
    fn count_tokens_input_holds_the_prompt_but_not_the_settings() {
        let request = ConverseRequest::new("m")
            .system("Be brief.")
            .user("hi")
            .max_tokens(5);
        let input = request.to_sdk().unwrap().to_count_tokens_input();
        let converse = input.as_converse().unwrap();
        assert_eq!(converse.messages().len(), 1);
        assert_eq!(converse.system().len(), 1);
        assert!(converse.tool_config().is_none());
    }
}
