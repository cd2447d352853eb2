//! One `Converser` shared: by threads, by clones that outlive each other, and
//! from inside async runtimes of either flavour.

use crate::support::{request, setup, songs_request, SONNET_3};
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::{MockServer, Reply};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn eight_threads_share_one_converser() {
    let (server, converser) = setup();
    server.set_default(Reply::echo("echo:").deltas(3));
    let converser = Arc::new(converser);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let c = converser.clone();
            std::thread::spawn(move || {
                for i in 0..20 {
                    let nonce = format!("thread {t} call {i}");
                    let req = ConverseRequest::new(SONNET_3).user(nonce.clone());
                    let r = if i % 2 == 0 {
                        c.converse(&req).unwrap()
                    } else {
                        c.converse_with(&req, &mut NoopHandler).unwrap()
                    };
                    assert_eq!(r.text(), format!("echo:{nonce}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(server.request_count(), 160);
}

#[test]
fn clones_share_the_runtime_and_survive_each_other() {
    let (_server, converser) = setup();
    let clone = converser.clone();
    drop(converser);
    assert!(clone.converse(&songs_request()).is_ok());
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_tokio_runtime() {
    let (_server, converser) = setup();
    let r = converser
        .converse_with(&songs_request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "You said: Create a list of 3 pop songs.");
    assert!(converser.converse(&songs_request()).is_ok());
    drop(converser); // dropping inside an async context must not panic
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_tokio_runtime() {
    let (_server, converser) = setup();
    let r = converser.converse(&songs_request()).unwrap();
    assert_eq!(r.text(), "You said: Create a list of 3 pop songs.");
    drop(converser);
}

#[test]
fn dropping_a_clone_while_another_thread_streams_does_not_disturb_it() {
    let (server, converser) = setup();
    server.push(
        Reply::text("slow but sure")
            .deltas(5)
            .frame_delay(Duration::from_millis(30)),
    );
    let c = converser.clone();
    let worker = std::thread::spawn(move || c.converse_with(&songs_request(), &mut NoopHandler));
    std::thread::sleep(Duration::from_millis(50));
    drop(converser);
    assert_eq!(worker.join().unwrap().unwrap().text(), "slow but sure");
}

#[test]
fn dropping_the_last_handle_inside_an_async_context_does_not_panic() {
    let server = MockServer::start().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let converser = server.converser().unwrap();
    rt.block_on(async move {
        let r = converser.converse(&request()).unwrap();
        assert_eq!(r.text(), "You said: hello");
        drop(converser);
    });
}
