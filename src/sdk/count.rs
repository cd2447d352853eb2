//! A validated request as the CountTokens operation's input
//! (`POST /model/{modelId}/count-tokens`, body `{"input": {"converse": …}}`),
//! and its reply as a count.

use std::future::Future;

use aws_sdk_bedrockruntime::types::{ConverseTokensRequest, CountTokensInput};
use aws_sdk_bedrockruntime::Client;

use super::request::SdkParts;
use super::response::non_negative;
use crate::error::{Error, ServiceErrorKind};

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
    let model_id = parts.model_id;
    async move {
        send.await
            .map(|out| non_negative(out.input_tokens))
            .map_err(|e| unsupported_model(Error::from_sdk(e), model_id))
    }
}

/// The service's refusal to count for a model as
/// [`Error::CountTokensUnsupported`]. Its wording is not documented; users
/// report `ValidationException` "The provided model doesn't support
/// counting tokens." (strands-agents/sdk-typescript #999,
/// agentgateway #3254), and "does not" is taken as well.
fn unsupported_model(error: Error, model_id: String) -> Error {
    match error {
        Error::Service(source)
            if source.kind == ServiceErrorKind::Validation && {
                let m = source.message.to_ascii_lowercase();
                m.contains("support counting tokens")
                    && (m.contains("doesn't") || m.contains("does not"))
            } =>
        {
            Error::CountTokensUnsupported { model_id, source }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::unsupported_model;
    use crate::error::{Error, ServiceError, ServiceErrorKind};
    use crate::model::ConverseRequest;

    fn service(kind: ServiceErrorKind, message: &str) -> Error {
        Error::Service(Box::new(ServiceError {
            kind,
            code: "X".into(),
            message: message.into(),
            status: Some(400),
            request_id: None,
            partial: None,
        }))
    }

    #[test]
    fn each_wording_of_the_refusal_is_unsupported_and_others_stay_service_errors() {
        for message in [
            "The provided model doesn't support counting tokens.",
            "The provided model does not support counting tokens",
        ] {
            let err = unsupported_model(service(ServiceErrorKind::Validation, message), "m".into());
            assert!(
                matches!(&err, Error::CountTokensUnsupported { model_id, .. } if model_id == "m"),
                "{err:?}"
            );
            assert!(!err.is_retryable());
            assert!(
                err.to_string().contains("does not support CountTokens"),
                "{err}"
            );
            assert_eq!(err.as_service().map(|s| s.message.as_str()), Some(message));
        }
        for (kind, message) in [
            (
                ServiceErrorKind::Validation,
                "prompt is too long: 300000 tokens > 200000 maximum",
            ),
            (ServiceErrorKind::Validation, "The model does not exist."),
            (
                ServiceErrorKind::Validation,
                "Counting tokens needs support for X.",
            ),
            (
                ServiceErrorKind::Throttling,
                "The provided model doesn't support counting tokens.",
            ),
        ] {
            let err = unsupported_model(service(kind, message), "m".into());
            assert!(matches!(err, Error::Service(_)), "{err:?}");
        }
    }

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
