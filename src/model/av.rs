//! Audio and video for a message ([`Audio`], [`Video`]), as bytes or as S3
//! locations, with the format from the file extension (files are read in
//! `files`).

use aws_sdk_bedrockruntime::types::{AudioFormat, VideoFormat};

use super::source::{IntoS3Uri, S3Source, S3UriError, Source};

/// An audio clip for a user turn, sent as bytes or as an S3 location (for
/// models that take audio).
///
/// ```
/// use bedrock_converse::{ConverseRequest, Message};
/// use bedrock_converse::model::Audio;
/// use bedrock_converse::types::AudioFormat;
///
/// let clip = Audio::new(AudioFormat::Wav, vec![0u8; 64]);
/// let stored = Audio::from_s3(AudioFormat::Mp3, "s3://my-bucket/call.mp3")?;
/// let request = ConverseRequest::new("us.amazon.nova-2-omni-v1:0")
///     .message(Message::user("Transcribe both.").with(clip).with(stored));
/// assert!(request.validate().is_ok());
/// # Ok::<(), bedrock_converse::model::S3UriError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Audio {
    /// The audio format.
    pub format: AudioFormat,
    /// The clip: its bytes or where it is in S3.
    pub source: Source,
}

impl Audio {
    /// A clip in the given format from its bytes (`Vec<u8>`, `&[u8]`) or an
    /// [`S3Source`].
    pub fn new(format: AudioFormat, source: impl Into<Source>) -> Self {
        Audio {
            format,
            source: source.into(),
        }
    }

    /// A clip stored in S3 (`s3://bucket/key`), sent by reference.
    ///
    /// # Errors
    ///
    /// [`S3UriError`] when `uri` is text that is not an S3 URI.
    pub fn from_s3(format: AudioFormat, uri: impl IntoS3Uri) -> Result<Self, S3UriError> {
        Ok(Audio::new(format, S3Source::new(uri.into_s3_uri()?)))
    }

    /// The audio format for a file extension (without the dot, any case).
    ///
    /// ```
    /// use bedrock_converse::model::Audio;
    /// use bedrock_converse::types::AudioFormat;
    /// assert_eq!(Audio::format_for_extension("MP3"), Some(AudioFormat::Mp3));
    /// assert_eq!(Audio::format_for_extension("m4a"), Some(AudioFormat::M4A));
    /// assert_eq!(Audio::format_for_extension("mid"), None);
    /// ```
    pub fn format_for_extension(ext: &str) -> Option<AudioFormat> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "aac" => AudioFormat::Aac,
            "flac" => AudioFormat::Flac,
            "m4a" => AudioFormat::M4A,
            "mka" => AudioFormat::Mka,
            "mp3" => AudioFormat::Mp3,
            "mp4" => AudioFormat::Mp4,
            "mpeg" => AudioFormat::Mpeg,
            "mpga" => AudioFormat::Mpga,
            "ogg" | "oga" => AudioFormat::Ogg,
            "opus" => AudioFormat::Opus,
            "pcm" | "raw" => AudioFormat::Pcm,
            "wav" => AudioFormat::Wav,
            "weba" | "webm" => AudioFormat::Webm,
            _ => return None,
        })
    }
}

/// A video for a user turn or a tool result, sent as bytes (under 25 MB
/// once base64-encoded) or as an S3 location (up to 1 GB).
///
/// ```
/// use bedrock_converse::{ConverseRequest, Message};
/// use bedrock_converse::model::{S3Source, Video};
/// use bedrock_converse::types::VideoFormat;
///
/// let shared = S3Source::new("s3://shared/clip.mp4".parse()?).bucket_owner("111122223333");
/// let clip = Video::new(VideoFormat::Mp4, shared);
/// let request = ConverseRequest::new("amazon.nova-pro-v1:0")
///     .message(Message::user("What happens in this clip?").with(clip));
/// assert!(request.validate().is_ok());
/// # Ok::<(), bedrock_converse::model::S3UriError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Video {
    /// The video format.
    pub format: VideoFormat,
    /// The video: its bytes or where it is in S3.
    pub source: Source,
}

impl Video {
    /// A video in the given format from its bytes (`Vec<u8>`, `&[u8]`) or an
    /// [`S3Source`].
    pub fn new(format: VideoFormat, source: impl Into<Source>) -> Self {
        Video {
            format,
            source: source.into(),
        }
    }

    /// A video stored in S3 (`s3://bucket/key`), sent by reference.
    ///
    /// # Errors
    ///
    /// [`S3UriError`] when `uri` is text that is not an S3 URI.
    pub fn from_s3(format: VideoFormat, uri: impl IntoS3Uri) -> Result<Self, S3UriError> {
        Ok(Video::new(format, S3Source::new(uri.into_s3_uri()?)))
    }

    /// The video format for a file extension (without the dot, any case).
    ///
    /// ```
    /// use bedrock_converse::model::Video;
    /// use bedrock_converse::types::VideoFormat;
    /// assert_eq!(Video::format_for_extension("MOV"), Some(VideoFormat::Mov));
    /// assert_eq!(Video::format_for_extension("3gp"), Some(VideoFormat::ThreeGp));
    /// assert_eq!(Video::format_for_extension("avi"), None);
    /// ```
    pub fn format_for_extension(ext: &str) -> Option<VideoFormat> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "flv" => VideoFormat::Flv,
            "mkv" => VideoFormat::Mkv,
            "mov" | "qt" => VideoFormat::Mov,
            "mp4" | "m4v" => VideoFormat::Mp4,
            "mpeg" => VideoFormat::Mpeg,
            "mpg" => VideoFormat::Mpg,
            "3gp" => VideoFormat::ThreeGp,
            "webm" => VideoFormat::Webm,
            "wmv" => VideoFormat::Wmv,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every extension a clip's file may carry, in the case it was written.
    const AUDIO: &[(&str, AudioFormat)] = &[
        ("aac", AudioFormat::Aac),
        ("flac", AudioFormat::Flac),
        ("m4a", AudioFormat::M4A),
        ("mka", AudioFormat::Mka),
        ("mp3", AudioFormat::Mp3),
        ("mp4", AudioFormat::Mp4),
        ("mpeg", AudioFormat::Mpeg),
        ("mpga", AudioFormat::Mpga),
        ("ogg", AudioFormat::Ogg),
        ("oga", AudioFormat::Ogg),
        ("opus", AudioFormat::Opus),
        ("pcm", AudioFormat::Pcm),
        ("raw", AudioFormat::Pcm),
        ("wav", AudioFormat::Wav),
        ("weba", AudioFormat::Webm),
        ("webm", AudioFormat::Webm),
    ];

    const VIDEO: &[(&str, VideoFormat)] = &[
        ("flv", VideoFormat::Flv),
        ("mkv", VideoFormat::Mkv),
        ("mov", VideoFormat::Mov),
        ("qt", VideoFormat::Mov),
        ("mp4", VideoFormat::Mp4),
        ("m4v", VideoFormat::Mp4),
        ("mpeg", VideoFormat::Mpeg),
        ("mpg", VideoFormat::Mpg),
        ("3gp", VideoFormat::ThreeGp),
        ("webm", VideoFormat::Webm),
        ("wmv", VideoFormat::Wmv),
    ];

    #[test]
    fn every_audio_extension_names_its_format_in_any_case() {
        for (ext, format) in AUDIO {
            assert_eq!(
                Audio::format_for_extension(ext).as_ref(),
                Some(format),
                "{ext}"
            );
            let upper = ext.to_ascii_uppercase();
            assert_eq!(
                Audio::format_for_extension(&upper).as_ref(),
                Some(format),
                "{upper}"
            );
        }
    }

    #[test]
    fn every_video_extension_names_its_format_in_any_case() {
        for (ext, format) in VIDEO {
            assert_eq!(
                Video::format_for_extension(ext).as_ref(),
                Some(format),
                "{ext}"
            );
            let upper = ext.to_ascii_uppercase();
            assert_eq!(
                Video::format_for_extension(&upper).as_ref(),
                Some(format),
                "{upper}"
            );
        }
    }

    #[test]
    fn other_extensions_have_no_format() {
        // A dot is not part of the extension; nor is a video-only or an
        // audio-only one part of the other table.
        for ext in ["", ".mp3", "mid", "mp3 ", "mov", "avi"] {
            assert_eq!(Audio::format_for_extension(ext), None, "{ext:?}");
        }
        for ext in ["", ".mp4", "avi", "m4a", "mp3", "ogg"] {
            assert_eq!(Video::format_for_extension(ext), None, "{ext:?}");
        }
    }

    #[test]
    fn media_in_s3_is_sent_by_reference_without_bytes() {
        let clip = Audio::from_s3(AudioFormat::Flac, "s3://b/a.flac").unwrap();
        assert_eq!(clip.format, AudioFormat::Flac);
        assert_eq!(
            clip.source,
            Source::S3(S3Source::new("s3://b/a.flac".parse().unwrap()))
        );
        let video = Video::from_s3(VideoFormat::Mkv, "s3://b/v.mkv").unwrap();
        assert_eq!(video.format, VideoFormat::Mkv);
        assert_eq!(
            video.source,
            Source::S3(S3Source::new("s3://b/v.mkv".parse().unwrap()))
        );
        assert_eq!(
            Audio::from_s3(AudioFormat::Flac, "b/a.flac"),
            Err(S3UriError::NotS3 {
                uri: "b/a.flac".into()
            })
        );
        assert_eq!(
            Video::from_s3(VideoFormat::Mkv, "s3:///v.mkv"),
            Err(S3UriError::NoBucket {
                uri: "s3:///v.mkv".into()
            })
        );
    }
}
