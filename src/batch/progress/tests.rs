use std::time::Duration;

use super::*;
use crate::batch::RecordError;
use crate::model::{Response, Usage};

/// A model the catalogue prices: $0.06 per million input tokens.
const PRICED: &str = "us.amazon.nova-lite-v1:0";

fn reply(usage: Option<Usage>) -> RecordResult {
    RecordResult {
        id: "r".into(),
        model_input: serde_json::json!({}),
        outcome: Ok(Response {
            usage,
            ..Response::default()
        }),
        attempts: 1,
    }
}

fn failure() -> RecordResult {
    RecordResult {
        id: "r".into(),
        model_input: serde_json::json!({}),
        outcome: Err(RecordError::new("bad")),
        attempts: 1,
    }
}

#[test]
fn a_new_run_counts_its_total_and_nothing_else() {
    let p = BatchStats::new(7);
    assert_eq!(
        p,
        BatchStats {
            total: 7,
            ..BatchStats::default()
        }
    );
    assert_eq!((p.done(), p.remaining()), (0, 7));
}

#[test]
fn replies_add_up_their_tokens_and_their_cost_failures_count_apart() {
    let mut p = BatchStats::new(10);
    p.count(&reply(Some(Usage::new(1_000_000, 0, 1_000_000))), PRICED);
    assert_eq!((p.succeeded, p.failed), (1, 0));
    assert_eq!((p.input_tokens, p.output_tokens), (1_000_000, 0));
    assert!((p.spend_usd - 0.06).abs() < 1e-9, "{}", p.spend_usd);

    let second = reply(Some(Usage::new(3, 5, 8)));
    let second_cost = match &second.outcome {
        Ok(r) => r.cost(PRICED).unwrap().total(),
        Err(_) => unreachable!(),
    };
    assert!(second_cost > 0.0);
    p.count(&second, PRICED);
    p.count(&failure(), PRICED);
    p.count(&failure(), PRICED);
    assert_eq!((p.succeeded, p.failed, p.done()), (2, 2, 4));
    assert_eq!((p.input_tokens, p.output_tokens), (1_000_003, 5));
    assert!((p.spend_usd - (0.06 + second_cost)).abs() < 1e-12);
    assert_eq!(p.unpriced, 0);
}

#[test]
fn a_reply_the_table_cannot_price_is_counted_unpriced_with_its_tokens() {
    let mut p = BatchStats::new(3);
    p.count(&reply(Some(Usage::new(10, 20, 30))), "no.such-model");
    p.count(&reply(Some(Usage::new(1, 2, 3))), "no.such-model");
    assert_eq!((p.succeeded, p.unpriced), (2, 2));
    assert_eq!((p.input_tokens, p.output_tokens), (11, 22));
    assert_eq!(p.spend_usd, 0.0);
    // A reply without usage is neither priced nor unpriced.
    p.count(&reply(None), PRICED);
    assert_eq!((p.succeeded, p.unpriced, p.input_tokens), (3, 2, 11));
}

#[test]
fn remaining_leaves_out_the_skipped_and_the_done() {
    let p = BatchStats {
        total: 10,
        skipped: 2,
        succeeded: 2,
        failed: 1,
        ..BatchStats::default()
    };
    assert_eq!(p.done(), 3);
    assert_eq!(p.remaining(), 5);
    let finished = BatchStats {
        total: 4,
        skipped: 1,
        succeeded: 2,
        failed: 1,
        ..BatchStats::default()
    };
    assert_eq!(finished.remaining(), 0);
}

#[test]
fn rate_and_eta_come_from_the_records_done_in_the_time_so_far() {
    let p = BatchStats {
        total: 10,
        skipped: 2,
        succeeded: 2,
        failed: 1,
        elapsed: Duration::from_secs(2),
        ..BatchStats::default()
    };
    assert_eq!(p.rate(), 1.5);
    // 5 remaining at 1.5 a second.
    assert_eq!(p.eta(), Some(Duration::from_secs_f64(5.0 / 1.5)));
    let slow = BatchStats {
        elapsed: Duration::from_secs(4),
        ..p.clone()
    };
    assert_eq!(slow.rate(), 0.75);
    assert_eq!(slow.eta(), Some(Duration::from_secs_f64(5.0 / 0.75)));
}

#[test]
fn no_rate_at_the_start_and_no_eta_before_a_record_finished() {
    let at_start = BatchStats {
        total: 10,
        succeeded: 1,
        ..BatchStats::default()
    };
    assert_eq!(at_start.rate(), 0.0, "no time elapsed");
    assert_eq!(at_start.eta(), None);
    let waiting = BatchStats {
        total: 10,
        elapsed: Duration::from_secs(3),
        ..BatchStats::default()
    };
    assert_eq!(waiting.rate(), 0.0);
    assert_eq!(waiting.eta(), None);
}

#[test]
fn the_line_says_it_all() {
    let p = BatchStats {
        total: 10,
        skipped: 2,
        succeeded: 2,
        failed: 1,
        in_flight: 4,
        retries: 1,
        input_tokens: 1000,
        output_tokens: 234,
        spend_usd: 0.0012,
        elapsed: Duration::from_secs(2),
        ..BatchStats::default()
    };
    assert_eq!(
        p.to_string(),
        "5/10 done (1 failed, 2 skipped), 4 in flight, 1 retries, 1.5 rec/s, 1234 tokens, $0.0012, ETA 3s"
    );
    let unpriced = BatchStats {
        unpriced: 1,
        ..p.clone()
    };
    assert!(
        unpriced
            .to_string()
            .ends_with(", $0.0012 (+1 unpriced), ETA 3s"),
        "{unpriced}"
    );
    assert_eq!(
        BatchStats::new(3).to_string(),
        "0/3 done (0 failed, 0 skipped), 0 in flight, 0 retries, 0.0 rec/s, 0 tokens, $0.0000"
    );
}
