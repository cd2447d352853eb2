//! The local server's own capacity: a raw HTTP reader (hyper's bare HTTP/1
//! client connection, no SDK) that posts the same request and reads the
//! event-stream reply, counting frames by their length preludes only. What it
//! reaches is a lower bound of what the server can serve; when it is well
//! above what the SDK clients reach, the server is not their bottleneck.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::common::{request_json, FrameCounter, MODEL};

pub struct Reader {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    body: Bytes,
}

/// What one read returned.
#[derive(Debug, Default, Clone, Copy)]
pub struct Read {
    pub frames: u64,
    pub bytes: u64,
}

impl Reader {
    pub async fn connect(addr: SocketAddr) -> Reader {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the mock");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("http/1 handshake");
        tokio::spawn(conn);
        Reader {
            sender,
            host: addr.to_string(),
            body: Bytes::from(request_json()),
        }
    }

    /// One `converse-stream` request, read to the end.
    pub async fn stream(&mut self) -> Read {
        let path = format!("/model/{}/converse-stream", MODEL.replace(':', "%3A"));
        let request = hyper::Request::post(path)
            .header("host", &self.host)
            .header("content-type", "application/json")
            .body(Full::new(self.body.clone()))
            .expect("request");
        self.sender.ready().await.expect("connection ready");
        let response = self
            .sender
            .send_request(request)
            .await
            .expect("mock answers");
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut counter = FrameCounter::default();
        let mut read = Read::default();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.expect("body").into_data() {
                read.bytes += data.len() as u64;
                read.frames += counter.feed(&data) as u64;
            }
        }
        read
    }
}

/// Calls per second of `connections` readers, each calling in a loop, on a
/// current-thread runtime of their own (one core for the reader, one for the
/// server).
pub fn calls_per_second(
    addr: SocketAddr,
    connections: usize,
    warm: Duration,
    run: Duration,
) -> f64 {
    let rt = crate::common::current_thread_runtime();
    rt.block_on(async move {
        let done = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let mut reader = Reader::connect(addr).await;
            let (done, stop) = (done.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    reader.stream().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        tokio::time::sleep(warm).await;
        let (n0, t0) = (done.load(Ordering::Relaxed), Instant::now());
        tokio::time::sleep(run).await;
        let (n1, t1) = (done.load(Ordering::Relaxed), Instant::now());
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        (n1 - n0) as f64 / (t1 - t0).as_secs_f64()
    })
}
