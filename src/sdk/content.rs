//! Our content types as the SDK's content blocks: images, documents, cache
//! points, tool results and messages.

use aws_sdk_bedrockruntime::types::{
    self, AudioBlock, AudioSource, CachePointBlock, CachePointType, CitationsConfig, ContentBlock,
    DocumentBlock, DocumentSource, ImageBlock, ImageSource, S3Location, SearchResultBlock,
    SearchResultContentBlock, SystemContentBlock, ToolResultBlock, ToolResultContentBlock,
    VideoBlock, VideoSource,
};
use aws_smithy_types::Blob;

use crate::error::Error;
use crate::model::{
    Audio, CachePoint, Document, Image, Message, S3Source, SearchResult, Source, ToolResult, Video,
};

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
    pub(crate) fn into_sdk(self) -> ImageBlock {
        ImageBlock::builder()
            .format(self.format)
            .source(match self.source {
                Source::Bytes(bytes) => ImageSource::Bytes(Blob::new(bytes)),
                Source::S3(s3) => ImageSource::S3Location(s3.to_sdk()),
            })
            .build()
            // `format` is the only required member and it is set.
            .expect("format is set")
    }
}

impl From<Image> for ContentBlock {
    fn from(image: Image) -> Self {
        ContentBlock::Image(image.into_sdk())
    }
}

impl From<Image> for ToolResultContentBlock {
    fn from(image: Image) -> Self {
        ToolResultContentBlock::Image(image.into_sdk())
    }
}

impl Document {
    pub(crate) fn into_sdk(self) -> DocumentBlock {
        DocumentBlock::builder()
            .format(self.format)
            .name(self.name)
            .source(match self.source {
                Source::Bytes(bytes) => DocumentSource::Bytes(Blob::new(bytes)),
                Source::S3(s3) => DocumentSource::S3Location(s3.to_sdk()),
            })
            .set_context(self.context)
            .set_citations(self.citations.map(citations_config))
            .build()
            // `name` is the only required member and it is set.
            .expect("name is set")
    }
}

impl From<Document> for ContentBlock {
    fn from(document: Document) -> Self {
        ContentBlock::Document(document.into_sdk())
    }
}

impl From<Document> for ToolResultContentBlock {
    fn from(document: Document) -> Self {
        ToolResultContentBlock::Document(document.into_sdk())
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

fn citations_config(enabled: bool) -> CitationsConfig {
    CitationsConfig::builder()
        .enabled(enabled)
        .build()
        // `enabled` is the only required member and it is set.
        .expect("enabled is set")
}

impl S3Source {
    pub(crate) fn to_sdk(&self) -> S3Location {
        S3Location::builder()
            .uri(self.uri.as_str())
            .set_bucket_owner(self.bucket_owner.clone())
            .build()
            // `uri` is the only required member and it is set.
            .expect("uri is set")
    }
}

impl Audio {
    pub(crate) fn into_sdk(self) -> AudioBlock {
        AudioBlock::builder()
            .format(self.format)
            .source(match self.source {
                Source::Bytes(bytes) => AudioSource::Bytes(Blob::new(bytes)),
                Source::S3(s3) => AudioSource::S3Location(s3.to_sdk()),
            })
            .build()
            // `format` is the only required member and it is set.
            .expect("format is set")
    }
}

impl From<Audio> for ContentBlock {
    fn from(audio: Audio) -> Self {
        ContentBlock::Audio(audio.into_sdk())
    }
}

impl Video {
    pub(crate) fn into_sdk(self) -> VideoBlock {
        VideoBlock::builder()
            .format(self.format)
            .source(match self.source {
                Source::Bytes(bytes) => VideoSource::Bytes(Blob::new(bytes)),
                Source::S3(s3) => VideoSource::S3Location(s3.to_sdk()),
            })
            .build()
            // `format` is the only required member and it is set.
            .expect("format is set")
    }
}

impl From<Video> for ContentBlock {
    fn from(video: Video) -> Self {
        ContentBlock::Video(video.into_sdk())
    }
}

impl From<Video> for ToolResultContentBlock {
    fn from(video: Video) -> Self {
        ToolResultContentBlock::Video(video.into_sdk())
    }
}

impl SearchResult {
    pub(crate) fn to_sdk(&self) -> SearchResultBlock {
        SearchResultBlock::builder()
            .source(&self.source)
            .title(&self.title)
            .set_content(Some(
                self.passages
                    .iter()
                    .map(|p| {
                        SearchResultContentBlock::builder()
                            .text(p)
                            .build()
                            // `text` is the only member and it is set.
                            .expect("text is set")
                    })
                    .collect(),
            ))
            .set_citations(self.citations.map(citations_config))
            .build()
            // `source`, `title` and `content` are set just above.
            .expect("source, title and content are set")
    }
}

impl From<SearchResult> for ContentBlock {
    fn from(result: SearchResult) -> Self {
        ContentBlock::SearchResult(result.to_sdk())
    }
}

impl From<SearchResult> for ToolResultContentBlock {
    fn from(result: SearchResult) -> Self {
        ToolResultContentBlock::SearchResult(result.to_sdk())
    }
}
