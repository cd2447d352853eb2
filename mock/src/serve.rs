//! The HTTP side of the server: routing a request to its operation, Bedrock's
//! error shapes, the event-stream frames, and writing a stream out.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::channel::{Channel, Sender};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{json, Value};

use crate::reply::Kind;
use crate::reply::Script;
use crate::wire::exception_frame;
use crate::{Body, Fault, Operation, RecordedRequest, Reply, Shared};

/// Serves one accepted connection until the client closes it: HTTP/1.1, or
/// HTTP/2 in cleartext when the client opens with the HTTP/2 connection
/// preface ("prior knowledge", RFC 9113 section 3.3), as the AWS SDK for
/// JavaScript v3 does to an `http://` endpoint: its Bedrock Runtime client's
/// default request handler speaks HTTP/2 only, since
/// `InvokeModelWithBidirectionalStream` needs it
/// (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithBidirectionalStream.html>).
/// hyper-util's auto builder tells the two apart by the first bytes.
pub(crate) async fn connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(req, shared).await) }
    });
    // A connection's errors (a client that goes away mid-reply) end only it.
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

pub(crate) fn parse_path(path: &str) -> (Option<Operation>, String) {
    let Some(rest) = path.strip_prefix("/model/") else {
        return (None, String::new());
    };
    let (raw_id, op) = match rest.rsplit_once('/') {
        Some((id, "converse")) => (id, Some(Operation::Converse)),
        Some((id, "converse-stream")) => (id, Some(Operation::ConverseStream)),
        Some((id, "count-tokens")) => (id, Some(Operation::CountTokens)),
        _ => (rest, None),
    };
    let id = percent_encoding::percent_decode_str(raw_id)
        .decode_utf8_lossy()
        .into_owned();
    (op, id)
}

pub(crate) fn full(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> hyper::Response<Body> {
    let mut b = hyper::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Either::Left(Full::new(Bytes::from(body))))
        .unwrap_or_else(|_| hyper::Response::new(Either::Left(Full::new(Bytes::new()))))
}

/// An error in Bedrock's shape: the status, the `x-amzn-ErrorType` header and
/// a JSON body holding the message.
pub(crate) fn error_response(
    status: u16,
    error_type: &str,
    message: &str,
    request_id: Option<&str>,
) -> hyper::Response<Body> {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("x-amzn-ErrorType", error_type),
    ];
    if let Some(id) = request_id {
        headers.push(("x-amzn-RequestId", id));
    }
    full(
        status,
        &headers,
        json!({ "message": message }).to_string().into_bytes(),
    )
}

/// An answer of the Batch Inference path (S3, control plane) as HTTP.
fn answer(a: crate::s3::Answer) -> hyper::Response<Body> {
    let mut headers = vec![("content-type", a.content_type)];
    if let Some(error_type) = &a.error_type {
        headers.push(("x-amzn-ErrorType", error_type));
    }
    full(a.status, &headers, a.body)
}

pub(crate) async fn handle(
    req: hyper::Request<Incoming>,
    shared: Arc<Shared>,
) -> hyper::Response<Body> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let bytes = match req.into_body().collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let (operation, model_id) = parse_path(&path);
    // The Batch Inference path: S3 and the Bedrock control plane.
    let s3_request = crate::s3::request(&method, &path, &query, &headers);
    let n = shared.counter.fetch_add(1, Ordering::SeqCst) + 1;
    // As the service does, a request that breaks its rules (or has a bad
    // structured-output schema) is refused before any reply is taken (a
    // queued one stays queued).
    let invalid = crate::rules::refusal(&shared, operation, &model_id, &body);
    let reply = {
        let mut state = shared.lock();
        // Past its quota a request is throttled, and takes no reply.
        let throttled = operation.is_some_and(Operation::is_inference)
            && method == "POST"
            && invalid.is_none()
            && state
                .quota
                .as_mut()
                .is_some_and(|m| !m.admit(&model_id, &body, std::time::Instant::now()));
        if state.record {
            state.requests.push(RecordedRequest {
                method: method.clone(),
                path: path.clone(),
                operation,
                model_id,
                headers,
                body: body.clone(),
            });
        }
        match operation {
            _ if throttled => Some(Reply::throttling()),
            // A replaying server answers from its recording instead.
            Some(op)
                if op.is_inference()
                    && method == "POST"
                    && shared.replay.is_none()
                    && invalid.is_none() =>
            {
                Some(
                    state
                        .queue
                        .pop_front()
                        .unwrap_or_else(|| state.default.clone()),
                )
            }
            _ => None,
        }
    };
    if let Some(request) = s3_request {
        return answer(crate::s3::serve(request, &bytes, &mut shared.lock().s3));
    }
    if crate::control::is_control(&path) {
        return answer(crate::control::serve(
            &method,
            &path,
            &body,
            &mut shared.lock(),
        ));
    }
    if let Some(player) = &shared.replay {
        return player.serve(&method, &path, &body);
    }
    if let Some((status, error_type, message)) = invalid {
        return error_response(status, &error_type, &message, Some(&format!("mock-{n}")));
    }
    if operation == Some(Operation::CountTokens) && method == "POST" {
        let id = format!("mock-{n}");
        return match crate::content::count_tokens(&parse_path(&path).1, &body) {
            Ok(count) => full(
                200,
                &[
                    ("content-type", "application/json"),
                    ("x-amzn-RequestId", &id),
                ],
                count.to_string().into_bytes(),
            ),
            Err(message) => error_response(400, "ValidationException", &message, Some(&id)),
        };
    }
    let Some(reply) = reply else {
        return error_response(
            404,
            "UnknownOperationException",
            &format!("no such operation: {method} {path}"),
            None,
        );
    };
    let reply = crate::content::answer_forced_tool(reply.resolve(&body), &body);
    let request_id = reply
        .request_id
        .clone()
        .unwrap_or_else(|| format!("mock-{n}"));
    match reply.kind {
        Kind::Error {
            status,
            error_type,
            message,
        } => error_response(status, &error_type, &message, Some(&request_id)),
        Kind::Raw {
            status,
            content_type,
            body,
        } => full(
            status,
            &[
                ("content-type", &content_type),
                ("x-amzn-RequestId", &request_id),
            ],
            body,
        ),
        Kind::Success(script) | Kind::Echo(script, _) => {
            if !script.first_frame_delay.is_zero() {
                tokio::time::sleep(script.first_frame_delay).await;
            }
            if operation == Some(Operation::Converse) {
                if !script.frame_delay.is_zero() {
                    tokio::time::sleep(script.frame_delay).await;
                }
                full(
                    200,
                    &[
                        ("content-type", "application/json"),
                        ("x-amzn-RequestId", &request_id),
                    ],
                    script.converse_body().to_string().into_bytes(),
                )
            } else {
                let (tx, body) = Channel::<Bytes, std::io::Error>::new(4);
                tokio::spawn(write_stream(script, tx, shared));
                hyper::Response::builder()
                    .status(200)
                    .header("content-type", "application/vnd.amazon.eventstream")
                    .header("x-amzn-RequestId", request_id)
                    .body(Either::Right(body))
                    .unwrap_or_else(|_| hyper::Response::new(Either::Left(Full::new(Bytes::new()))))
            }
        }
    }
}

async fn write_stream(script: Script, mut tx: Sender<Bytes, std::io::Error>, shared: Arc<Shared>) {
    let frames = script.stream_frames();
    let fault_at = script.fault.as_ref().map(Fault::after);
    let mut ok = true;
    // Frames before the fault, if any.
    let end = fault_at.unwrap_or(frames.len()).min(frames.len());
    let mut next = 0;
    while next < end {
        if !script.frame_delay.is_zero() {
            tokio::time::sleep(script.frame_delay).await;
        }
        let (first, mut len) = (next, frames[next].len());
        next += 1;
        while next < end && len + frames[next].len() <= script.chunk_bytes {
            len += frames[next].len();
            next += 1;
        }
        let chunk = if next - first == 1 {
            frames[first].clone()
        } else {
            let mut joined = Vec::with_capacity(len);
            frames[first..next]
                .iter()
                .for_each(|f| joined.extend_from_slice(f));
            Bytes::from(joined)
        };
        if tx.send_data(chunk).await.is_err() {
            ok = false;
            break;
        }
    }
    if ok {
        match &script.fault {
            Some(Fault::Exception {
                exception_type,
                message,
                ..
            }) => {
                ok = tx
                    .send_data(exception_frame(exception_type, message))
                    .await
                    .is_ok();
            }
            Some(Fault::Stall { .. }) => {
                // Hold the response open until the client goes away; an empty
                // chunk is not written on the wire but fails once the body is
                // dropped.
                while tx.send_data(Bytes::new()).await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                ok = false;
            }
            Some(Fault::Drop { .. }) => {
                // Let hyper write what was queued, so that the client has
                // received every frame before the connection goes.
                for _ in 0..1000 {
                    if tx.capacity() == tx.max_capacity() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                tx.abort(std::io::Error::other("mock: connection dropped"));
                shared.lock().stats.aborted += 1;
                return;
            }
            Some(Fault::BadCrc { after }) => {
                let mut bytes = frames[(*after).min(frames.len() - 1)].to_vec();
                if let Some(last) = bytes.last_mut() {
                    *last ^= 0xff;
                }
                ok = tx.send_data(Bytes::from(bytes)).await.is_ok();
            }
            Some(Fault::Truncated { after }) => {
                let bytes = frames[(*after).min(frames.len() - 1)].clone();
                ok = tx.send_data(bytes.slice(..bytes.len() / 2)).await.is_ok();
            }
            None => {}
        }
    }
    let mut state = shared.lock();
    if ok {
        state.stats.completed += 1;
    } else {
        state.stats.aborted += 1;
    }
}
