//! The codec's public face: [`ConverseRequest`] and [`Response`] to and
//! from their Converse JSON bodies.

use serde_json::Value;

use super::{read_request, read_response, write_request, write_response};
use crate::error::Error;
use crate::model::{ConverseRequest, Response};

impl ConverseRequest {
    /// Reads a Converse request body (the JSON the Converse API takes,
    /// without `modelId`, which is in the URI) as a request for `model_id`.
    /// Every member of the body is read: messages with any content block,
    /// system blocks, tool, inference, guardrail and output config, prompt
    /// variables, request metadata, additional model request fields and
    /// response field paths, performance config and service tier.
    ///
    /// ```
    /// use bedrock_converse::ConverseRequest;
    /// use serde_json::json;
    ///
    /// let body = json!({
    ///     "messages": [{"role": "user", "content": [{"text": "Hi"}, {"cachePoint": {"type": "default"}}]}],
    ///     "inferenceConfig": {"maxTokens": 100}
    /// });
    /// let request = ConverseRequest::from_json("model", &body)?;
    /// assert_eq!(request.to_json()?, body);
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] whose `field` is the JSON path of what is
    /// wrong: a member of the wrong type, a missing required member, or a
    /// key the Converse API does not have (it is never dropped).
    pub fn from_json(model_id: impl Into<String>, body: &Value) -> Result<ConverseRequest, Error> {
        read_request(&model_id.into(), body).map_err(|e| Error::invalid(e.path, e.reason))
    }

    /// The Converse request body this request is sent as (without
    /// `modelId`): the JSON the SDK writes for it, validated first.
    ///
    /// ```
    /// use bedrock_converse::ConverseRequest;
    /// use serde_json::json;
    ///
    /// let body = ConverseRequest::new("m").user("Hi").temperature(0.7).to_json()?;
    /// assert_eq!(body, json!({
    ///     "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    ///     "inferenceConfig": {"temperature": 0.7}
    /// }));
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// What [`validate`](ConverseRequest::validate) finds, as
    /// [`Error::InvalidRequest`].
    pub fn to_json(&self) -> Result<Value, Error> {
        write_request(&self.to_sdk()?).map_err(|e| Error::invalid(e.path, e.reason))
    }
}

impl Response {
    /// Reads a Converse response body: the output message with every
    /// content block, stop reason, usage (with cache details), metrics,
    /// trace, performance config, service tier and additional model
    /// response fields. (`request_id`, a header, stays `None`.)
    ///
    /// ```
    /// use bedrock_converse::Response;
    /// use serde_json::json;
    ///
    /// let body = json!({
    ///     "output": {"message": {"role": "assistant", "content": [{"text": "Hello"}]}},
    ///     "stopReason": "end_turn",
    ///     "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}
    /// });
    /// let response = Response::from_json(&body)?;
    /// assert_eq!(response.text(), "Hello");
    /// assert_eq!(response.to_json()?, body);
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] naming the JSON path of what is wrong, including
    /// any key the Converse API does not have.
    pub fn from_json(body: &Value) -> Result<Response, Error> {
        read_response(body).map_err(|e| Error::Protocol {
            message: format!("the Converse response body is not valid: {e}"),
            partial: None,
        })
    }

    /// The Converse response body of this reply, as the service sends it.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] for what has no JSON form: a block the SDK kept
    /// as `Unknown` (sent by a newer service), or cache details of a time
    /// to live this version does not know.
    pub fn to_json(&self) -> Result<Value, Error> {
        write_response(self).map_err(|e| Error::Protocol {
            message: format!("the reply cannot be written as JSON: {e}"),
            partial: None,
        })
    }
}
