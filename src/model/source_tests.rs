//! Sources and S3 URIs: conversions, parsing, joining.

use super::*;

fn uri(text: &str) -> S3Uri {
    S3Uri::parse(text).unwrap()
}

#[test]
fn every_kind_of_bytes_becomes_a_bytes_source() {
    let want = Source::Bytes(vec![1, 2, 3]);
    assert_eq!(Source::from(vec![1u8, 2, 3]), want);
    assert_eq!(Source::from(&[1u8, 2, 3][..]), want);
    assert_eq!(Source::from(&[1u8, 2, 3]), want);
    assert_eq!(want.bytes(), Some(&[1u8, 2, 3][..]));
    assert_eq!(want.s3(), None);
}

#[test]
fn an_s3_source_is_a_source_with_no_bytes() {
    let s3 = S3Source::new(uri("s3://b/k")).bucket_owner("111122223333");
    let source = Source::from(s3.clone());
    assert_eq!(source, Source::S3(s3.clone()));
    assert_eq!(source.s3(), Some(&s3));
    assert_eq!(source.bytes(), None);
}

#[test]
fn an_s3_uri_is_a_bucket_and_a_key_written_back_as_given() {
    for (text, bucket, key) in [
        ("s3://bucket/key.bin", "bucket", "key.bin"),
        ("s3://b", "b", ""),
        ("s3://b/", "b", ""),
        ("s3://b/dir/", "b", "dir/"),
        ("s3://b/a/b/c", "b", "a/b/c"),
    ] {
        let parsed = uri(text);
        assert_eq!((parsed.bucket(), parsed.key()), (bucket, key), "{text}");
        assert_eq!(parsed.to_string(), text);
        assert_eq!(parsed.as_str(), text);
        assert_eq!(parsed.as_ref(), text);
        assert_eq!(text.parse::<S3Uri>().unwrap(), parsed);
        assert_eq!(S3Uri::try_from(text.to_owned()).unwrap(), parsed);
    }
}

#[test]
fn text_that_is_not_an_s3_uri_says_why() {
    for text in [
        "",
        "bucket/key",
        "https://b/k",
        "S3://b/k",
        "s3:/b/k",
        "gs://x",
    ] {
        assert_eq!(
            S3Uri::parse(text),
            Err(S3UriError::NotS3 { uri: text.into() }),
            "{text:?}"
        );
    }
    for text in ["s3://", "s3:///key", "s3:///"] {
        assert_eq!(
            S3Uri::parse(text),
            Err(S3UriError::NoBucket { uri: text.into() }),
            "{text:?}"
        );
    }
    let e = S3Uri::parse("b/k").unwrap_err().to_string();
    assert!(
        e.contains("\"b/k\"") && e.contains("s3://bucket/key"),
        "{e}"
    );
    let e = S3Uri::parse("s3://").unwrap_err().to_string();
    assert!(
        e.contains("no bucket") && e.contains("s3://bucket/key"),
        "{e}"
    );
}

#[test]
fn every_form_of_text_becomes_the_same_uri() {
    let want = uri("s3://b/k");
    assert_eq!("s3://b/k".into_s3_uri(), Ok(want.clone()));
    assert_eq!(String::from("s3://b/k").into_s3_uri(), Ok(want.clone()));
    assert_eq!((&String::from("s3://b/k")).into_s3_uri(), Ok(want.clone()));
    assert_eq!(want.clone().into_s3_uri(), Ok(want.clone()));
    assert!("s3://".into_s3_uri().is_err());
    assert_eq!(Source::from(want.clone()), Source::S3(S3Source::new(want)));
}

#[cfg(feature = "batch-inference")]
#[test]
fn uris_join_as_folders() {
    let base = uri("s3://bucket/some/prefix");
    assert_eq!(
        base.join("job/input.jsonl"),
        "s3://bucket/some/prefix/job/input.jsonl"
    );
    assert_eq!(
        base.join("job/input.jsonl").key(),
        "some/prefix/job/input.jsonl"
    );
    assert_eq!(uri("s3://b").join("x").key(), "x");
    assert_eq!(uri("s3://b/").join("x").key(), "x");
    assert_eq!(uri("s3://b/p/").join("x").key(), "p/x");
    assert_eq!(uri("s3://b/p/").folder().key(), "p/");
    assert_eq!(uri("s3://b/p").folder().key(), "p/");
    assert_eq!(uri("s3://b").folder().key(), "");
    assert_eq!(S3Uri::from_parts("b", "k/l"), uri("s3://b/k/l"));
    assert_eq!(S3Uri::from_parts("b", "k/l").bucket(), "b");
}

#[test]
fn an_s3_uri_equals_only_its_own_text() {
    let parsed = uri("s3://b/k");
    assert!(parsed == "s3://b/k");
    assert!(parsed == *"s3://b/k");
    for other in ["s3://b/l", "s3://b/k/", "s3://c/k", ""] {
        assert!(parsed != other, "{other:?}");
        assert!(parsed != *other, "{other:?}");
    }
}
