//! A path-style, in-memory S3 for the Batch Inference path: PutObject,
//! GetObject and ListObjectsV2 (`http://host/bucket/key`), with S3's XML
//! listing and error shapes. Every bucket exists.

use std::collections::BTreeMap;

use crate::MockServer;

/// A response of the Batch Inference path, turned into HTTP by `serve`.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    /// The `x-amzn-ErrorType` header of a Bedrock error.
    pub(crate) error_type: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Answer {
        Answer {
            status,
            content_type,
            error_type: None,
            body,
        }
    }
}

/// The most keys ListObjectsV2 returns in one page: "By default, the action
/// returns up to 1,000 key names. The response might contain fewer keys but
/// will never contain more."
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>)
pub(crate) const MAX_KEYS: usize = 1_000;

/// The objects, by bucket and key.
#[derive(Debug)]
pub(crate) struct Store {
    objects: BTreeMap<(String, String), Vec<u8>>,
    /// Keys per listing page: S3's 1,000, or fewer, as S3 may return.
    page: usize,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            objects: BTreeMap::new(),
            page: MAX_KEYS,
        }
    }
}

impl Store {
    pub(crate) fn put(&mut self, bucket: &str, key: &str, bytes: Vec<u8>) {
        self.objects
            .insert((bucket.to_owned(), key.to_owned()), bytes);
    }

    pub(crate) fn get(&self, bucket: &str, key: &str) -> Option<&Vec<u8>> {
        self.objects.get(&(bucket.to_owned(), key.to_owned()))
    }

    /// Keys of `bucket` starting with `prefix`, in order.
    pub(crate) fn list(&self, bucket: &str, prefix: &str) -> Vec<String> {
        self.objects
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect()
    }
}

/// An S3 request, as routed.
pub(crate) struct Request {
    method: String,
    bucket: String,
    key: String,
    query: Vec<(String, String)>,
    chunked: bool,
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The S3 request this is, if it is one: the SDK's S3 client signs every
/// request with an `x-amz-content-sha256` header, which Bedrock's clients
/// do not send.
pub(crate) fn request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
) -> Option<Request> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let sha = header("x-amz-content-sha256")?;
    if path.starts_with("/model") {
        return None;
    }
    let rest = path.strip_prefix('/')?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let chunked = sha.starts_with("STREAMING-")
        || header("content-encoding").is_some_and(|v| v.contains("aws-chunked"));
    Some(Request {
        method: method.to_owned(),
        bucket: decode(bucket),
        key: decode(key),
        query: query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(&v.replace('+', " ")))
            })
            .collect(),
        chunked,
    })
}

/// The payload of an `aws-chunked` body: `<hex size>[;ext]\r\n<bytes>\r\n`
/// chunks up to a zero-size one (trailers after it are dropped).
fn unchunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let head = String::from_utf8_lossy(&rest[..eol]);
        let size =
            usize::from_str_radix(head.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        rest = &rest[eol + 2..];
        if size == 0 || size > rest.len() {
            break;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        xml_escape(message)
    );
    Answer::new(status, "application/xml", body.into_bytes())
}

/// Answers an S3 request from `store`.
pub(crate) fn serve(request: Request, body: &[u8], store: &mut Store) -> Answer {
    let Request {
        method,
        bucket,
        key,
        query,
        chunked,
    } = request;
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match (method.as_str(), key.is_empty()) {
        ("PUT", false) => {
            let bytes = if chunked {
                unchunk(body)
            } else {
                body.to_vec()
            };
            store.put(&bucket, &key, bytes);
            Answer::new(200, "application/xml", Vec::new())
        }
        ("GET", false) => match store.get(&bucket, &key) {
            Some(bytes) => Answer::new(200, "application/octet-stream", bytes.clone()),
            None => error(
                404,
                "NoSuchKey",
                &format!("no object {key:?} in bucket {bucket:?}"),
            ),
        },
        ("GET", true) if param("list-type") == Some("2") => {
            let prefix = param("prefix").unwrap_or("");
            let max_keys = param("max-keys")
                .and_then(|m| m.parse::<usize>().ok())
                .unwrap_or(MAX_KEYS)
                .min(MAX_KEYS);
            // The continuation token is opaque to the client: here, the last
            // key of the page before.
            let after = param("continuation-token").unwrap_or("");
            let all: Vec<String> = store
                .list(&bucket, prefix)
                .into_iter()
                .filter(|k| k.as_str() > after)
                .collect();
            let page = max_keys.min(store.page).max(1);
            let truncated = all.len() > page;
            let keys = &all[..all.len().min(page)];
            let next = match keys.last() {
                Some(last) if truncated => format!(
                    "<NextContinuationToken>{}</NextContinuationToken>",
                    xml_escape(last)
                ),
                _ => String::new(),
            };
            let mut xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{max_keys}</MaxKeys><IsTruncated>{truncated}</IsTruncated>{next}",
                xml_escape(&bucket),
                xml_escape(prefix),
                keys.len()
            );
            for k in keys {
                let size = store.get(&bucket, k).map_or(0, Vec::len);
                xml.push_str(&format!(
                    "<Contents><Key>{}</Key><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                    xml_escape(k)
                ));
            }
            xml.push_str("</ListBucketResult>");
            Answer::new(200, "application/xml", xml.into_bytes())
        }
        _ => error(
            501,
            "NotImplemented",
            &format!("the local server's S3 has no {method} of this kind"),
        ),
    }
}

impl MockServer {
    /// The object `key` of `bucket` in the server's S3, if there is one
    /// (what a Batch Inference job uploaded or wrote).
    ///
    /// ```
    /// # use bedrock_converse_mock::MockServer;
    /// let server = MockServer::start()?;
    /// server.put_s3_object("bucket", "a/b.jsonl", b"{}\n".to_vec());
    /// assert_eq!(server.s3_object("bucket", "a/b.jsonl").as_deref(), Some(&b"{}\n"[..]));
    /// assert_eq!(server.s3_keys("bucket", "a/"), ["a/b.jsonl"]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn s3_object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.shared.lock().s3.get(bucket, key).cloned()
    }

    /// Puts (or replaces) an object in the server's S3.
    pub fn put_s3_object(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        self.shared.lock().s3.put(bucket, key, bytes);
    }

    /// The keys of `bucket` under `prefix` in the server's S3, in order.
    pub fn s3_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        self.shared.lock().s3.list(bucket, prefix)
    }

    /// How many keys the server's S3 returns in one ListObjectsV2 page (at
    /// least 1; at most S3's 1,000, the default). S3 "might contain fewer
    /// keys" than asked for: a small page plays that, so a client must
    /// follow the continuation token.
    pub fn set_s3_page_size(&self, keys: usize) {
        self.shared.lock().s3.page = keys.clamp(1, MAX_KEYS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_bodies_are_unwrapped() {
        let body = b"5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n";
        assert_eq!(unchunk(body), b"hello world");
    }
}
