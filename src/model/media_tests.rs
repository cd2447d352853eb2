use super::*;

/// Every extension an image file may carry, in the case it was written.
const IMAGES: &[(&str, ImageFormat)] = &[
    ("png", ImageFormat::Png),
    ("jpg", ImageFormat::Jpeg),
    ("jpeg", ImageFormat::Jpeg),
    ("gif", ImageFormat::Gif),
    ("webp", ImageFormat::Webp),
];

const DOCUMENTS: &[(&str, DocumentFormat)] = &[
    ("pdf", DocumentFormat::Pdf),
    ("csv", DocumentFormat::Csv),
    ("doc", DocumentFormat::Doc),
    ("docx", DocumentFormat::Docx),
    ("xls", DocumentFormat::Xls),
    ("xlsx", DocumentFormat::Xlsx),
    ("html", DocumentFormat::Html),
    ("htm", DocumentFormat::Html),
    ("txt", DocumentFormat::Txt),
    ("text", DocumentFormat::Txt),
    ("md", DocumentFormat::Md),
    ("markdown", DocumentFormat::Md),
];

#[test]
fn every_image_extension_names_its_format_in_any_case() {
    for (ext, format) in IMAGES {
        assert_eq!(
            Image::format_for_extension(ext).as_ref(),
            Some(format),
            "{ext}"
        );
        let upper = ext.to_ascii_uppercase();
        assert_eq!(
            Image::format_for_extension(&upper).as_ref(),
            Some(format),
            "{upper}"
        );
    }
}

#[test]
fn every_document_extension_names_its_format_in_any_case() {
    for (ext, format) in DOCUMENTS {
        assert_eq!(
            Document::format_for_extension(ext).as_ref(),
            Some(format),
            "{ext}"
        );
        let upper = ext.to_ascii_uppercase();
        assert_eq!(
            Document::format_for_extension(&upper).as_ref(),
            Some(format),
            "{upper}"
        );
    }
}

#[test]
fn other_extensions_have_no_format() {
    // A dot is not part of the extension; a document's is not an image's.
    for ext in ["", ".png", "bmp", "tiff", "svg", "pdf", "png "] {
        assert_eq!(Image::format_for_extension(ext), None, "{ext:?}");
    }
    for ext in ["", ".pdf", "exe", "rtf", "png", "mdx", "pdf "] {
        assert_eq!(Document::format_for_extension(ext), None, "{ext:?}");
    }
}

#[test]
fn a_document_name_holds_letters_digits_dashes_parentheses_and_brackets() {
    for c in ['a', 'Z', 'é', 'ß', '字', '0', '9', '-', '(', ')', '[', ']'] {
        assert!(allowed_name_char(c), "{c:?}");
    }
    // Whitespace is allowed only as single spaces, which the validation
    // checks separately; it is not a name character.
    for c in [
        ' ', '\t', '_', '.', '/', '\\', ',', ':', '{', '<', '—', '\'',
    ] {
        assert!(!allowed_name_char(c), "{c:?}");
    }
}

#[test]
fn name_from_replaces_collapses_cuts_and_trims_as_documented() {
    for (text, name) in [
        ("q3_summary.v2  (final)", "q3-summary-v2 (final)"),
        ("Report 2024 (Q3)", "Report 2024 (Q3)"),
        ("a-b", "a-b"),
        ("a  b", "a b"),
        ("a \t\n b", "a b"),
        ("a__b", "a-b"),
        ("a_-_b", "a-b"),
        ("a - b", "a - b"),
        ("   lead", "lead"),
        ("trail   ", "trail"),
        ("__x__", "x"),
        ("-x-", "x"),
        (" - x - ", "x"),
        ("ünïcode", "ünïcode"),
        ("...", "document"),
        ("", "document"),
        ("   ", "document"),
        (" _ - ", "document"),
    ] {
        assert_eq!(Document::name_from(text), name, "{text:?}");
    }
}

#[test]
fn name_from_cuts_at_200_characters_before_trimming() {
    assert_eq!(Document::name_from(&"x".repeat(200)), "x".repeat(200));
    assert_eq!(Document::name_from(&"é".repeat(250)), "é".repeat(200));
    // The cut leaves a trailing `-` (the 200th character), which is trimmed.
    let text = format!("{}_y", "x".repeat(199));
    assert_eq!(Document::name_from(&text), "x".repeat(199));
    // Characters dropped by collapsing do not count toward the 200.
    let text = format!("{}{}", "  ".repeat(50), "x".repeat(200));
    assert_eq!(Document::name_from(&text), "x".repeat(200));
}

#[test]
fn media_in_s3_carries_its_uri_and_no_bytes() {
    let image = Image::from_s3(ImageFormat::Gif, "s3://b/i.gif").unwrap();
    assert_eq!(image.format, ImageFormat::Gif);
    assert_eq!(
        image.source,
        Source::S3(S3Source::new("s3://b/i.gif".parse().unwrap()))
    );
    let doc = Document::from_s3(DocumentFormat::Csv, "table", "s3://b/t.csv").unwrap();
    assert_eq!(doc.format, DocumentFormat::Csv);
    assert_eq!(doc.name, "table");
    assert_eq!(
        doc.source,
        Source::S3(S3Source::new("s3://b/t.csv".parse().unwrap()))
    );
    assert_eq!((doc.citations, doc.context), (None, None));
    assert_eq!(
        Image::from_s3(ImageFormat::Gif, "https://b/i.gif"),
        Err(S3UriError::NotS3 {
            uri: "https://b/i.gif".into()
        })
    );
    assert_eq!(
        Document::from_s3(DocumentFormat::Csv, "table", "s3://"),
        Err(S3UriError::NoBucket {
            uri: "s3://".into()
        })
    );
    let source = S3Source::new("s3://b/k".parse().unwrap());
    assert_eq!(source.bucket_owner, None);
    let owned = source.bucket_owner("111122223333");
    assert_eq!(owned.uri, "s3://b/k");
    assert_eq!(owned.bucket_owner.as_deref(), Some("111122223333"));
}

#[test]
fn a_documents_setters_set_only_their_field() {
    let doc = Document::new(DocumentFormat::Pdf, "a", vec![1u8, 2]);
    assert_eq!(
        (doc.citations, doc.context.as_deref(), doc.source.s3()),
        (None, None, None)
    );
    let doc = doc.name("b").citations(false).context("quarterly");
    assert_eq!(doc.name, "b");
    assert_eq!(doc.citations, Some(false));
    assert_eq!(doc.context.as_deref(), Some("quarterly"));
    assert_eq!(doc.source, Source::Bytes(vec![1u8, 2]));
    assert_eq!(doc.citations(true).citations, Some(true));
}

#[test]
fn content_limits_default_to_the_api_reference_and_none_lifts_every_one() {
    let d = ContentLimits::default();
    assert_eq!(d.max_images, Some(20));
    assert_eq!(d.max_image_bytes, Some(3_932_160));
    assert_eq!(d.max_documents, Some(5));
    assert_eq!(d.max_document_bytes, Some(4_718_592));
    assert_eq!(d.max_video_bytes, Some(19_660_800));
    assert_eq!(d.max_audio_bytes, None);
    let none = ContentLimits::none();
    assert_eq!(
        none,
        ContentLimits {
            max_images: None,
            max_image_bytes: None,
            max_documents: None,
            max_document_bytes: None,
            max_video_bytes: None,
            max_audio_bytes: None,
        }
    );
}
