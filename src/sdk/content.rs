//! Our content types as the SDK's content blocks: images, documents, cache
//! points, tool results and messages.

use aws_sdk_bedrockruntime::types::{
    self, CachePointBlock, CachePointType, CitationsConfig, ContentBlock, DocumentBlock,
    DocumentSource, ImageBlock, ImageSource, SystemContentBlock, ToolResultBlock,
    ToolResultContentBlock,
};
use aws_smithy_types::Blob;

use crate::error::Error;
use crate::model::{CachePoint, Document, Image, Message, ToolResult};

impl Message {
    pub(crate) fn to_sdk(&self, index: usize) -> Result<types::Message, Error> {
        types::Message::builder()
            .role(self.role.clone())
            .set_content(Some(self.content.clone()))
            .build()
            .map_err(|e| Error::invalid(format!("messages[{index}]"), e.to_string()))
    }
}

impl CachePoint {
    pub(crate) fn to_sdk(&self) -> CachePointBlock {
        CachePointBlock::builder()
            .r#type(CachePointType::Default)
            .set_ttl(self.ttl.clone())
            .build()
            // `type` is the only required member and it is set.
            .expect("type is set")
    }
}

impl From<CachePoint> for ContentBlock {
    fn from(c: CachePoint) -> Self {
        ContentBlock::CachePoint(c.to_sdk())
    }
}

impl From<CachePoint> for SystemContentBlock {
    fn from(c: CachePoint) -> Self {
        SystemContentBlock::CachePoint(c.to_sdk())
    }
}

impl Image {
    pub(crate) fn to_sdk(&self) -> ImageBlock {
        ImageBlock::builder()
            .format(self.format.clone())
            .source(ImageSource::Bytes(Blob::new(self.bytes.clone())))
            .build()
            // `format` is the only required member and it is set.
            .expect("format is set")
    }
}

impl From<Image> for ContentBlock {
    fn from(image: Image) -> Self {
        ContentBlock::Image(image.to_sdk())
    }
}

impl From<Image> for ToolResultContentBlock {
    fn from(image: Image) -> Self {
        ToolResultContentBlock::Image(image.to_sdk())
    }
}

impl Document {
    pub(crate) fn to_sdk(&self) -> DocumentBlock {
        DocumentBlock::builder()
            .format(self.format.clone())
            .name(&self.name)
            .source(DocumentSource::Bytes(Blob::new(self.bytes.clone())))
            .set_context(self.context.clone())
            .set_citations(self.citations.map(|enabled| {
                CitationsConfig::builder()
                    .enabled(enabled)
                    .build()
                    .expect("enabled is set")
            }))
            .build()
            // `name` is the only required member and it is set.
            .expect("name is set")
    }
}

impl From<Document> for ContentBlock {
    fn from(document: Document) -> Self {
        ContentBlock::Document(document.to_sdk())
    }
}

impl From<Document> for ToolResultContentBlock {
    fn from(document: Document) -> Self {
        ToolResultContentBlock::Document(document.to_sdk())
    }
}

impl From<ToolResult> for ContentBlock {
    fn from(r: ToolResult) -> Self {
        let block = ToolResultBlock::builder()
            .tool_use_id(r.tool_use_id)
            .set_content(Some(r.content))
            .set_status(r.status)
            .build()
            // Both required members are set just above.
            .expect("tool_use_id and content are set");
        ContentBlock::ToolResult(block)
    }
}
