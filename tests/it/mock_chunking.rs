//! `Reply::chunk_bytes`: the local server joins whole frames into larger HTTP
//! chunks without changing a byte of the stream.

use bedrock_converse::stream::NoopHandler;
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::{MockServer, Reply};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

const MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

/// Posts one `converse-stream` request over a bare HTTP/1 connection and
/// returns the body's data frames as hyper delivered them (never more than
/// one HTTP chunk each).
fn read_stream(server: &MockServer) -> Vec<Bytes> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(server.addr())
            .await
            .expect("connect");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        let body = r#"{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}"#;
        let request = hyper::Request::post(format!("/model/{MODEL}/converse-stream"))
            .header("host", server.addr().to_string())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut chunks = Vec::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.expect("body frame").into_data() {
                chunks.push(data);
            }
        }
        chunks
    })
}

/// Splits a stream into its frames by their 4-byte length preludes.
fn frames(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = stream;
    while rest.len() >= 4 {
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        assert!(len >= 16 && len <= rest.len(), "a whole frame");
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    assert!(rest.is_empty(), "no trailing bytes");
    out
}

#[test]
fn chunk_bytes_joins_whole_frames_without_changing_the_stream() {
    let server = MockServer::start().expect("server");
    let text = "la ".repeat(500);
    server.push(Reply::text(text.clone()).deltas(500));
    server.push(Reply::text(text.clone()).deltas(500).chunk_bytes(4096));
    let one_per_chunk = read_stream(&server);
    let joined = read_stream(&server);

    let a: Vec<u8> = one_per_chunk.concat();
    let b: Vec<u8> = joined.concat();
    assert_eq!(a, b, "the same bytes either way");
    // messageStart, 500 deltas, contentBlockStop, messageStop, metadata
    assert_eq!(frames(&a).len(), 504);
    assert!(one_per_chunk.len() >= 504, "{} chunks", one_per_chunk.len());
    assert!(joined.len() < 504 / 4, "{} chunks", joined.len());
    for chunk in &joined {
        assert!(chunk.len() <= 4096, "a chunk of {} bytes", chunk.len());
    }

    // And the SDK reads it the same: the whole text, in order.
    server.push(Reply::text(text.clone()).deltas(500).chunk_bytes(4096));
    let converser = server.converser().expect("converser");
    let reply = converser
        .converse_with(&ConverseRequest::new(MODEL).user("Hi"), &mut NoopHandler)
        .expect("the chunked stream");
    assert_eq!(reply.text(), text);
}
