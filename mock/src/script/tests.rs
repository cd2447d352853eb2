//! The script format's tests: entries map onto the builder, mistakes are named.

use super::*;
use serde_json::json;

fn err(v: Value) -> String {
    Reply::from_json(&v).unwrap_err().to_string()
}

#[test]
fn entries_map_onto_the_builder() {
    let r = |v: Value| Reply::from_json(&v).unwrap();
    assert_eq!(
        r(json!({"text": "Hi", "deltas": 3, "usage": [10, 5]})),
        Reply::empty().with_text("Hi").deltas(3).usage(10, 5)
    );
    assert_eq!(Reply::text("Hi"), Reply::empty().with_text("Hi"));
    assert_eq!(
        r(
            json!({"reasoning": {"text": "hmm", "signature": "s"}, "text": "42",
                 "tool_use": {"id": "t1", "name": "calc", "input": {"x": 1}}})
        ),
        Reply::empty()
            .reasoning("hmm", "s")
            .with_text("42")
            .tool_use("t1", "calc", json!({"x": 1}))
    );
    assert_eq!(
        r(
            json!({"blocks": [{"tool_use": {"id": "a", "name": "b"}}, {"text": "after"}],
                 "stop_reason": "max_tokens"})
        ),
        Reply::empty()
            .tool_use("a", "b", json!({}))
            .with_text("after")
            .stop_reason("max_tokens")
    );
    assert_eq!(
        r(
            json!({"error": {"status": 429, "type": "ThrottlingException", "message": "slow"},
                 "request_id": "r-9"})
        ),
        Reply::error(429, "ThrottlingException", "slow").request_id("r-9")
    );
    assert_eq!(
        r(json!({"text": "partial", "deltas": 3,
                 "fault": {"kind": "exception", "after": 4, "type": "throttlingException", "message": "m"}})),
        Reply::text("partial").deltas(3).fault(Fault::Exception {
            after: 4,
            exception_type: "throttlingException".into(),
            message: "m".into()
        })
    );
    assert_eq!(
        r(
            json!({"echo": "> ", "word_deltas": true, "delay_ms": 5, "frame_delay_ms": 7,
                 "fault": {"kind": "drop", "after": 2}})
        ),
        Reply::echo("> ")
            .word_deltas()
            .first_frame_delay(Duration::from_millis(5))
            .frame_delay(Duration::from_millis(7))
            .fault(Fault::Drop { after: 2 })
    );
    for (kind, fault) in [
        ("stall", Fault::Stall { after: 1 }),
        ("bad_crc", Fault::BadCrc { after: 1 }),
        ("truncated", Fault::Truncated { after: 1 }),
    ] {
        assert_eq!(
            r(json!({"text": "x", "fault": {"kind": kind, "after": 1}})),
            Reply::text("x").fault(fault)
        );
    }
}

#[test]
fn mistakes_are_named() {
    assert!(err(json!({"txt": "Hi"})).contains("unknown member `txt`"));
    assert!(err(json!({"text": 5})).contains("`text` must be a string"));
    assert!(err(json!({"text": "a", "usage": [1]})).contains("`usage` must be a list of two"));
    assert!(err(json!({"error": {"status": 200, "type": "X"}})).contains("`status`"));
    assert!(
        err(json!({"error": {"status": 500, "type": "X"}, "text": "a"}))
            .contains("`text` cannot go with `error`")
    );
    assert!(
        err(json!({"text": "a", "fault": {"kind": "boom", "after": 1}}))
            .contains("unknown kind `boom`")
    );
    assert!(err(json!({"text": "a", "fault": {"kind": "drop"}})).contains("`after`"));
    assert!(err(json!({"blocks": [{"text": "a", "tool_use": {}}]})).contains("exactly one"));
    assert!(err(json!({"tool_use": {"name": "x"}})).contains("`id` is missing"));
    let script = Reply::script_from_json(r#"[{"text": "ok"}, {"deltas": "3"}]"#)
        .unwrap_err()
        .to_string();
    assert!(
        script.contains("reply 1: `deltas` must be a whole number"),
        "{script}"
    );
    assert!(Reply::script_from_json("{}")
        .unwrap_err()
        .to_string()
        .contains("array"));
}

#[test]
fn json_replies_and_cache_details_map_onto_the_builder() {
    let r = |v: Value| Reply::from_json(&v).unwrap();
    assert_eq!(
        r(json!({"json": {"songs": []}, "usage": [3, 4]})),
        Reply::json(&json!({"songs": []})).usage(3, 4)
    );
    assert_eq!(
        r(json!({"text": "x", "cache_details": {"5m": 100, "1h": 2048}})),
        Reply::text("x").cache_details(&[("1h", 2048), ("5m", 100)])
    );
    assert!(err(json!({"json": {}, "text": "a"})).contains("`json` cannot go with `text`"));
    assert!(err(json!({"text": "a", "cache_details": {"5m": -1}})).contains("`cache_details`"));
}
