//! A batch's budget in dollars (`Batch::budget_usd`): no record starts once
//! the spend plus the worst case of the calls in flight could pass it, the
//! run ends listing what it did not start, and a resumed run with a larger
//! budget carries on.

use crate::support::TempDir;
use std::collections::HashSet;
use std::path::PathBuf;

use bedrock_converse::batch::{Batch, Record};
use bedrock_converse::Error;
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

const MODEL: &str = "amazon.nova-lite-v1:0";
/// Nova Lite's standard prices, per token.
const INPUT: f64 = 0.06 / 1e6;
const OUTPUT: f64 = 0.24 / 1e6;

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::new(
                format!("rec-{i:02}"),
                json!({"messages": [{"role": "user", "content": [{"text": format!("record {i}")}]}],
                       "inferenceConfig": {"maxTokens": 1000}}),
            )
        })
        .collect()
}

/// A temporary directory (removed when dropped) and its `out.jsonl`.
fn out_path(name: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(&format!("budget-{name}"));
    let path = dir.join("out.jsonl");
    (dir, path)
}

fn ids_in(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["recordId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn spend_stays_within_the_budget_and_a_resume_carries_on() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok").usage(100, 500));
    let converser = server.converser().unwrap();
    let each = 100.0 * INPUT + 500.0 * OUTPUT;
    let budget = 0.001;
    let (_dir, path) = out_path("resume");
    let first = Batch::new(&converser, MODEL)
        .concurrency(4)
        .budget_usd(budget)
        .journal(&path)
        .run(records(20), |_| {})
        .unwrap();
    assert!(first.spend_usd <= budget, "{first:?}");
    assert!(first.succeeded > 0 && first.succeeded < 20, "{first:?}");
    assert_eq!(first.failed, 0);
    assert!((first.spend_usd - first.succeeded as f64 * each).abs() < 1e-12);
    // The run stopped because one more call could have passed the budget:
    // its worst case is a few input tokens and all its max_tokens.
    let worst = 10.0 * INPUT + 1000.0 * OUTPUT;
    assert!(first.spend_usd + worst > budget, "{first:?}");
    assert_eq!(first.succeeded + first.unstarted.len(), 20);
    assert_eq!(server.request_count(), first.succeeded as u64);
    let done: HashSet<String> = ids_in(&path).into_iter().collect();
    assert_eq!(done.len(), first.succeeded);
    for id in &first.unstarted {
        assert!(!done.contains(id), "{id} is unstarted and in the file");
    }
    let mut sorted = first.unstarted.clone();
    sorted.sort();
    assert_eq!(sorted, first.unstarted, "listed in input order");

    // The same budget again: the file's spend counts, nothing more starts.
    let again = Batch::new(&converser, MODEL)
        .budget_usd(budget)
        .journal(&path)
        .resume(true)
        .run(records(20), |_| {})
        .unwrap();
    assert_eq!(again.succeeded, 0, "{again:?}");
    assert_eq!(again.unstarted, first.unstarted);

    // A larger budget carries on, each record once.
    let second = Batch::new(&converser, MODEL)
        .concurrency(4)
        .budget_usd(1.0)
        .journal(&path)
        .resume(true)
        .run(records(20), |_| {})
        .unwrap();
    assert_eq!(second.skipped, first.succeeded);
    assert_eq!(second.succeeded, first.unstarted.len());
    assert!(second.unstarted.is_empty());
    assert!((second.spend_usd - 20.0 * each).abs() < 1e-12, "{second:?}");
    let ids = ids_in(&path);
    assert_eq!(ids.len(), 20);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 20);
}

#[test]
fn a_budget_too_small_for_one_call_starts_nothing() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let progress = Batch::new(&converser, MODEL)
        .budget_usd(0.0001) // one call's worst case is 0.00024
        .run(records(3), |_| panic!("nothing runs"))
        .unwrap();
    assert_eq!(progress.unstarted, vec!["rec-00", "rec-01", "rec-02"]);
    assert_eq!((progress.succeeded, progress.spend_usd), (0, 0.0));
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_budget_on_a_model_without_a_price_fails_before_sending() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    for (model, budget, says) in [
        ("amazon.nova-2-omni-v1:0", 1.0, "no price"),
        (MODEL, -1.0, "number of dollars"),
        (MODEL, f64::NAN, "number of dollars"),
    ] {
        let result = Batch::new(&converser, model)
            .budget_usd(budget)
            .run(records(2), |_| {});
        match result {
            Err(Error::Config { message }) => assert!(message.contains(says), "{message}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.request_count(), 0);
}

#[test]
fn with_a_dearer_fallback_model_a_call_is_reserved_at_its_price() {
    use bedrock_converse::client::Target;
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok").usage(10, 10));
    // A call's worst case (1,000 output tokens): $0.00024 on Nova Lite,
    // $0.0032 on Nova Pro. $0.001 covers the first, not the second.
    let budget = 0.001;
    let lite_only = server.converser().unwrap();
    let progress = Batch::new(&lite_only, MODEL)
        .budget_usd(budget)
        .run(records(2), |_| {})
        .unwrap();
    assert_eq!((progress.succeeded, progress.unstarted.len()), (2, 0));
    // The same batch may be answered by Nova Pro: nothing starts.
    let with_pro = server
        .converser_builder()
        .fallback(Target::new().model_id("amazon.nova-pro-v1:0"))
        .build()
        .unwrap();
    let progress = Batch::new(&with_pro, MODEL)
        .budget_usd(budget)
        .run(records(2), |_| panic!("nothing runs"))
        .unwrap();
    assert_eq!(progress.unstarted, vec!["rec-00", "rec-01"]);
    // A fallback to the same model changes nothing.
    let same = server
        .converser_builder()
        .fallback(Target::new().model_id(MODEL))
        .build()
        .unwrap();
    let progress = Batch::new(&same, MODEL)
        .budget_usd(budget)
        .run(records(2), |_| {})
        .unwrap();
    assert_eq!((progress.succeeded, progress.unstarted.len()), (2, 0));
    // A fallback model the price table cannot price: no budget can be kept.
    let unpriced = server
        .converser_builder()
        .fallback(Target::new().model_id("amazon.nova-2-omni-v1:0"))
        .build()
        .unwrap();
    match Batch::new(&unpriced, MODEL)
        .budget_usd(1.0)
        .run(records(1), |_| {})
    {
        Err(Error::Config { message }) => {
            assert!(message.contains("amazon.nova-2-omni-v1:0"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 4);
}
