//! Saying no where Bedrock says no: a Converse or ConverseStream request is
//! read into the rules table's view of a request and checked against the
//! service's rules, with the service's status, error type and message
//! (`bedrock_converse::model::rules`, the one table the client checks too;
//! each row cites where its wording comes from). Model ids are checked
//! against the model catalogue: an unknown id, a retired model and a
//! profile-only model called on demand are answered as the recordings in
//! `model_ids__*.json` show, and a model that cannot stream (tool use) is
//! answered as the service answers it on ConverseStream.
//!
//! A lenient server ([`MockServer::set_lenient`](crate::MockServer::set_lenient),
//! `bedrock-local --lenient`) skips all of this and answers anything.

use bedrock_converse::model::catalogue::Catalogue;
use bedrock_converse::model::rules::{self, Block, Call, Refusal, Shape, Turn};
use serde_json::Value;

use crate::{Operation, Shared};

/// A refusal as the server writes it: status, error type, message.
pub(crate) type Answer = (u16, String, String);

fn block(b: &Value) -> Block<'_> {
    if let Some(t) = b.get("text").and_then(Value::as_str) {
        return Block::Text(t);
    }
    if b.get("toolUse").is_some() {
        return Block::ToolUse;
    }
    if let Some(r) = b.get("toolResult") {
        return Block::ToolResult {
            error: r.get("status").and_then(Value::as_str) == Some("error"),
            empty: r
                .get("content")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty),
        };
    }
    Block::Other
}

/// The wire JSON of a Converse request as the rules table sees it.
pub(crate) fn shape<'a>(model_id: &'a str, body: &'a Value) -> Shape<'a> {
    let mut shape = Shape::new(model_id);
    let list = |key: &str| body.get(key).and_then(Value::as_array);
    shape.turns = list("messages")
        .into_iter()
        .flatten()
        .map(|m| {
            let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
            let blocks = m
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(block)
                .collect();
            Turn::new(role, blocks)
        })
        .collect();
    shape.system = list("system")
        .into_iter()
        .flatten()
        .map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    shape.tool_config = body.get("toolConfig").is_some_and(|c| !c.is_null());
    let config = |key: &str| body.get("inferenceConfig").and_then(|c| c.get(key));
    shape.temperature = config("temperature").and_then(Value::as_f64);
    shape.top_p = config("topP").and_then(Value::as_f64);
    shape.max_tokens = config("maxTokens").and_then(Value::as_i64);
    shape
}

/// The service's refusal of a request, if it refuses it: only Converse and
/// ConverseStream are checked.
pub(crate) fn check(operation: Option<Operation>, model_id: &str, body: &Value) -> Option<Refusal> {
    let call = match operation? {
        Operation::Converse => Call::Converse,
        Operation::ConverseStream => Call::ConverseStream,
        Operation::CountTokens => return None,
    };
    rules::check(&shape(model_id, body), &Catalogue::current(), call).err()
}

/// The refusal of an inference request by a strict server (see the module
/// documentation), or else by the structured-output check every server makes.
pub(crate) fn refusal(
    shared: &Shared,
    operation: Option<Operation>,
    model_id: &str,
    body: &Value,
) -> Option<Answer> {
    let strict = !shared.lock().lenient;
    let refused = strict.then(|| check(operation, model_id, body)).flatten();
    if let Some(r) = refused {
        return Some((r.status, r.error_type.to_owned(), r.message));
    }
    let schema = operation.and_then(|_| crate::output::check(body).err());
    schema.map(|message| (400, "ValidationException".to_owned(), message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(model: &str, op: Operation, body: Value) -> Option<String> {
        check(Some(op), model, &body).map(|r| r.message)
    }

    #[test]
    fn wire_json_is_read_as_the_client_reads_its_own_request() {
        let body = json!({
            "messages": [
                {"role": "user", "content": [{"text": "hi"}, {"image": {}}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "a", "name": "t", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "a", "status": "error", "content": []}}]}
            ],
            "system": [{"text": "be brief"}, {"cachePoint": {"type": "default"}}],
            "toolConfig": {"tools": []},
            "inferenceConfig": {"temperature": 0.5, "topP": 0.9, "maxTokens": 7}
        });
        let s = shape("m", &body);
        assert_eq!(s.turns[0].blocks, vec![Block::Text("hi"), Block::Other]);
        assert_eq!(s.turns[1].blocks, vec![Block::ToolUse]);
        assert_eq!(
            s.turns[2].blocks,
            vec![Block::ToolResult {
                error: true,
                empty: true
            }]
        );
        assert_eq!(s.system, vec![Some("be brief"), None]);
        assert!(s.tool_config);
        assert_eq!(
            (s.temperature, s.top_p, s.max_tokens),
            (Some(0.5), Some(0.9), Some(7))
        );
    }

    #[test]
    fn only_inference_operations_are_checked() {
        let nova = "amazon.nova-lite-v1:0";
        assert_eq!(check(None, nova, &json!({})), None);
        assert_eq!(refusal(nova, Operation::CountTokens, json!({})), None);
        let empty = refusal(nova, Operation::Converse, json!({"messages": []})).unwrap();
        assert!(empty.contains("at 'messages'"), "{empty}");
        let ok = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
        assert_eq!(refusal(nova, Operation::ConverseStream, ok), None);
    }
}
