//! A [`ConverseRequest`] as the rules table sees it ([`Shape`]).

use aws_sdk_bedrockruntime::types::{ContentBlock, SystemContentBlock, ToolResultStatus};

use super::rules::{Block, Shape, Turn};
use crate::model::ConverseRequest;

/// An `f32` as the `f64` it reads as (`1.01`, not `1.0099999904632568`).
fn widen(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

impl ConverseRequest {
    /// The request as the rules table sees it.
    pub(crate) fn shape(&self) -> Shape<'_> {
        let mut shape = Shape::new(&self.model_id);
        shape.turns = self
            .messages
            .iter()
            .map(|m| {
                let blocks = m
                    .content
                    .iter()
                    .map(|b| match b {
                        ContentBlock::Text(t) => Block::Text(t),
                        ContentBlock::ToolUse(_) => Block::ToolUse,
                        ContentBlock::ToolResult(r) => Block::ToolResult {
                            error: r.status == Some(ToolResultStatus::Error),
                            empty: r.content.is_empty(),
                        },
                        _ => Block::Other,
                    })
                    .collect();
                Turn::new(m.role.as_str(), blocks)
            })
            .collect();
        shape.system = self
            .system
            .iter()
            .map(|b| match b {
                SystemContentBlock::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        shape.tool_config = self.tool_config.is_some();
        if let Some(ic) = &self.inference_config {
            shape.temperature = ic.temperature.map(widen);
            shape.top_p = ic.top_p.map(widen);
            shape.max_tokens = ic.max_tokens.map(i64::from);
        }
        shape
    }
}
