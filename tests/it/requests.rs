//! What reaches the server: every request parameter in the body the local
//! server received, on both operations, nothing optional sent unasked, and a
//! request the service would refuse refused locally, naming its field, with
//! nothing sent.

use crate::support::weather::{
    bodies_both_ways, weather_request, weather_setup, weather_tool, WEATHER_MODEL,
};
use crate::support::{setup, songs_request, SONNET_3};
use bedrock_converse::model::{CachePoint, GuardrailConfig, Role, Tool, ToolChoice, ToolResult};
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::types::{
    CacheTtl, ContentBlock, GuardrailStreamProcessingMode, GuardrailTrace,
    PerformanceConfigLatency, ServiceTierType,
};
use bedrock_converse::{ConverseRequest, Error, Message};
use serde_json::json;

#[test]
fn every_parameter_arrives_as_sent() {
    let (server, converser) = setup();
    let req = ConverseRequest::new(SONNET_3)
        .system("You are an app that creates playlists.")
        .system("Only return song names and the artist.")
        .user("Create a list of 3 pop songs.")
        .assistant("Which decade?")
        .user("The 80s.")
        .max_tokens(512)
        .temperature(0.5)
        .top_p(0.9)
        .stop_sequence("END")
        .additional_model_request_fields(json!({
            "top_k": 200, "neg": -7, "ratio": 0.25, "big": 9007199254740993u64,
            "nested": {"list": [1, "two", null, true]}
        }));
    for streaming in [false, true] {
        if streaming {
            converser.converse_with(&req, &mut NoopHandler).unwrap();
        } else {
            converser.converse(&req).unwrap();
        }
        let got = server.requests().pop().unwrap();
        assert_eq!(got.method, "POST");
        assert_eq!(got.model_id, SONNET_3);
        assert_eq!(
            got.path,
            format!(
                "/model/anthropic.claude-3-sonnet-20240229-v1%3A0/{}",
                if streaming {
                    "converse-stream"
                } else {
                    "converse"
                }
            )
        );
        assert!(got
            .header("authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDMOCKEXAMPLE/"));
        let b = &got.body;
        assert_eq!(
            b["system"],
            json!([{"text": "You are an app that creates playlists."},
                   {"text": "Only return song names and the artist."}])
        );
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": [{"text": "Create a list of 3 pop songs."}]},
                {"role": "assistant", "content": [{"text": "Which decade?"}]},
                {"role": "user", "content": [{"text": "The 80s."}]},
            ])
        );
        assert_eq!(b["inferenceConfig"]["maxTokens"], json!(512));
        assert_eq!(b["inferenceConfig"]["temperature"], json!(0.5));
        assert!((b["inferenceConfig"]["topP"].as_f64().unwrap() - 0.9).abs() < 1e-6);
        assert_eq!(b["inferenceConfig"]["stopSequences"], json!(["END"]));
        assert_eq!(
            b["additionalModelRequestFields"],
            json!({"top_k": 200, "neg": -7, "ratio": 0.25, "big": 9007199254740993u64,
                   "nested": {"list": [1, "two", null, true]}})
        );
        // Integers go out as integers, not floats.
        assert_eq!(
            b["additionalModelRequestFields"]["top_k"].as_u64(),
            Some(200)
        );
    }
}

#[test]
fn minimal_request_sends_no_optional_sections() {
    let (server, converser) = setup();
    converser.converse(&songs_request()).unwrap();
    let body = &server.requests()[0].body;
    for key in ["system", "inferenceConfig", "additionalModelRequestFields"] {
        assert!(body.get(key).is_none(), "{key} should be absent: {body}");
    }
}

#[test]
fn invalid_requests_fail_fast_and_send_nothing() {
    let (server, converser) = setup();
    let cases: Vec<(ConverseRequest, &str)> = vec![
        (ConverseRequest::new(SONNET_3), "messages"),
        (ConverseRequest::new("").user("hi"), "model_id"),
        (
            ConverseRequest::new(SONNET_3).assistant("hi"),
            "messages[0].role",
        ),
        (songs_request().temperature(1.5), "temperature"),
        (songs_request().temperature(-0.5), "temperature"),
        (songs_request().max_tokens(0), "max_tokens"),
        (songs_request().top_p(1.5), "top_p"),
        (
            songs_request().additional_model_request_fields(json!("x")),
            "additional_model_request_fields",
        ),
    ];
    for (req, field) in cases {
        for streaming in [false, true] {
            let err = if streaming {
                converser.converse_with(&req, &mut NoopHandler).unwrap_err()
            } else {
                converser.converse(&req).unwrap_err()
            };
            match &err {
                Error::InvalidRequest { field: f, .. } => assert_eq!(f, field),
                other => panic!("expected InvalidRequest for {field}, got {other:?}"),
            }
            assert!(err.to_string().contains(field), "{err}");
            assert!(!err.is_retryable());
        }
    }
    assert_eq!(server.request_count(), 0, "nothing may reach the server");
}

#[test]
fn guardrail_config_is_sent_in_each_operation_s_own_shape() {
    let (server, converser) = weather_setup();
    let req = weather_request().guardrail(
        GuardrailConfig::new("gr-abc123", "DRAFT")
            .trace(GuardrailTrace::EnabledFull)
            .stream_processing_mode(GuardrailStreamProcessingMode::Async),
    );
    let [whole, streamed] = bodies_both_ways(&server, &converser, &req);
    assert_eq!(
        whole["guardrailConfig"],
        json!({"guardrailIdentifier": "gr-abc123", "guardrailVersion": "DRAFT", "trace": "enabled_full"})
    );
    assert_eq!(
        streamed["guardrailConfig"],
        json!({"guardrailIdentifier": "gr-abc123", "guardrailVersion": "DRAFT", "trace": "enabled_full", "streamProcessingMode": "async"})
    );
    // The service default for trace (disabled) is sent when none is given.
    let [whole, _] = bodies_both_ways(
        &server,
        &converser,
        &weather_request().guardrail(GuardrailConfig::new("gr-1", "7")),
    );
    assert_eq!(whole["guardrailConfig"]["trace"], "disabled");
    assert_eq!(whole["guardrailConfig"]["guardrailVersion"], "7");
}

#[test]
fn cache_points_go_where_they_were_put() {
    let (server, converser) = weather_setup();
    let req = ConverseRequest::new(WEATHER_MODEL)
        .system("A long system prompt.")
        .system_cache_point()
        .message(
            Message::user("A long document.")
                .with_cache_point()
                .with(ContentBlock::Text("The question.".into())),
        )
        .message(Message::assistant("An answer.").with(CachePoint::with_ttl(CacheTtl::OneHour)))
        .user("Next.")
        .tool(weather_tool())
        .tool_cache_point();
    for body in bodies_both_ways(&server, &converser, &req) {
        assert_eq!(
            body["system"],
            json!([{"text": "A long system prompt."}, {"cachePoint": {"type": "default"}}])
        );
        assert_eq!(
            body["messages"][0]["content"],
            json!([{"text": "A long document."}, {"cachePoint": {"type": "default"}}, {"text": "The question."}])
        );
        assert_eq!(
            body["messages"][1]["content"][1],
            json!({"cachePoint": {"type": "default", "ttl": "1h"}})
        );
        assert_eq!(
            body["toolConfig"]["tools"][1],
            json!({"cachePoint": {"type": "default"}})
        );
    }
}

#[test]
fn metadata_latency_tier_field_paths_and_prompt_variables_arrive() {
    let (server, converser) = weather_setup();
    let req = ConverseRequest::new("arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT12345:1")
        .user("hi")
        .request_metadata("team", "search")
        .request_metadata("ticket", "ABC-123")
        .performance_latency(PerformanceConfigLatency::Optimized)
        .service_tier(ServiceTierType::Flex)
        .additional_model_response_field_path("/stop_sequence")
        .additional_model_response_field_path("/amazon-bedrock-trace/x~1y")
        .prompt_variable("genre", "pop")
        .prompt_variable("count", "3");
    for body in bodies_both_ways(&server, &converser, &req) {
        assert_eq!(
            body["requestMetadata"],
            json!({"team": "search", "ticket": "ABC-123"})
        );
        assert_eq!(body["performanceConfig"], json!({"latency": "optimized"}));
        assert_eq!(body["serviceTier"], json!({"type": "flex"}));
        assert_eq!(
            body["additionalModelResponseFieldPaths"],
            json!(["/stop_sequence", "/amazon-bedrock-trace/x~1y"])
        );
        assert_eq!(
            body["promptVariables"],
            json!({"genre": {"text": "pop"}, "count": {"text": "3"}})
        );
    }
}

#[test]
fn a_minimal_request_sends_none_of_the_optional_sections() {
    let (server, converser) = weather_setup();
    for body in bodies_both_ways(&server, &converser, &weather_request()) {
        for key in [
            "toolConfig",
            "guardrailConfig",
            "requestMetadata",
            "performanceConfig",
            "serviceTier",
            "additionalModelResponseFieldPaths",
            "promptVariables",
        ] {
            assert!(body.get(key).is_none(), "{key} should be absent: {body}");
        }
    }
}

#[test]
fn each_request_rule_names_its_field_and_sends_nothing() {
    let (server, converser) = weather_setup();
    let tool_use_turn = Message::new(
        Role::Assistant,
        vec![ContentBlock::ToolUse(
            bedrock_converse::types::ToolUseBlock::builder()
                .tool_use_id("t1")
                .name("get_weather")
                .input(aws_smithy_types::Document::Object(Default::default()))
                .build()
                .unwrap(),
        )],
    );
    let cases: Vec<(ConverseRequest, &str)> = vec![
        (
            weather_request().tool(Tool::new("get weather", "x", json!({"type": "object"}))),
            "tool_config.tools[0].name",
        ),
        (
            weather_request().tool(Tool::new("t", "x", json!(["not", "an", "object"]))),
            "tool_config.tools[0].input_schema",
        ),
        (
            weather_request().tool(weather_tool()).tool(weather_tool()),
            "tool_config.tools[1].name",
        ),
        (
            weather_request()
                .tool(weather_tool())
                .tool_choice(ToolChoice::tool("other")),
            "tool_config.choice",
        ),
        (
            weather_request().tool_choice(ToolChoice::Any),
            "tool_config.tools",
        ),
        (
            weather_request()
                .message(tool_use_turn)
                .message(Message::tool_results([ToolResult::text("t1", "x")])),
            "tool_config",
        ),
        (
            weather_request().guardrail(GuardrailConfig::new("", "1")),
            "guardrail.identifier",
        ),
        (
            weather_request().guardrail(GuardrailConfig::new("gr", "v1")),
            "guardrail.version",
        ),
        (
            weather_request().guardrail(GuardrailConfig::new("gr", "01")),
            "guardrail.version",
        ),
        (
            weather_request().additional_model_response_field_path("stop_sequence"),
            "additional_model_response_field_paths[0]",
        ),
        (
            weather_request().additional_model_response_field_path(""),
            "additional_model_response_field_paths[0]",
        ),
        (
            weather_request().additional_model_response_field_path("/a~2"),
            "additional_model_response_field_paths[0]",
        ),
        (
            weather_request().request_metadata("", "v"),
            "request_metadata[\"\"]",
        ),
        (
            weather_request().request_metadata("k", "v".repeat(257)),
            "request_metadata[\"k\"]",
        ),
        (
            weather_request().prompt_variable("", "v"),
            "prompt_variables",
        ),
    ];
    for (req, field) in cases {
        for streaming in [false, true] {
            let err = if streaming {
                converser.converse_with(&req, &mut NoopHandler).unwrap_err()
            } else {
                converser.converse(&req).unwrap_err()
            };
            match &err {
                Error::InvalidRequest { field: f, .. } => assert_eq!(f, field, "{err}"),
                other => panic!("expected InvalidRequest for {field}, got {other:?}"),
            }
        }
    }
    assert_eq!(server.request_count(), 0);
}
