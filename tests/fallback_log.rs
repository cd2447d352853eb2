//! A streaming call that falls back to Converse is logged once per model.
//! Its own test binary: it installs the process's one global logger.

use std::sync::Mutex;

use bedrock_converse::model::{Tool, ToolConfig};
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::MockServer;
use serde_json::json;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if record.target().starts_with("bedrock_converse::client") {
            LINES.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn fallback_lines(model: &str) -> usize {
    let lines = LINES.lock().unwrap();
    lines
        .iter()
        .filter(|l| l.contains(model) && l.contains("through Converse"))
        .count()
}

#[test]
fn each_models_fallback_is_logged_once() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let tools = ToolConfig::new().tool(Tool::new("t", "T.", json!({"type": "object"})));
    for model in [
        "openai.gpt-oss-20b-1:0",
        "us.meta.llama4-scout-17b-instruct-v1:0",
    ] {
        let request = ConverseRequest::new(model)
            .user("hi")
            .tool_config(tools.clone());
        for _ in 0..3 {
            converser.converse_with(&request, &mut NoopHandler).unwrap();
        }
        assert_eq!(fallback_lines(model), 1, "{model}");
    }
}
