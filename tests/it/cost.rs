//! What calls cost (`bedrock_converse::model::Cost`): each usage field and
//! each tier priced at the catalogue's price table, replies from the local
//! server priced by `Response::cost`, conversations and batches summing
//! them, and an unknown price reported as unknown, never as zero.

use bedrock_converse::batch::{Batch, Record};
use bedrock_converse::model::catalogue::{Catalogue, Price};
use bedrock_converse::model::{Cost, Tier, Usage};
use bedrock_converse::{Conversation, ConverseRequest, Error};
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::json;

const HAIKU: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA_LITE: &str = "amazon.nova-lite-v1:0";
const GPT_OSS: &str = "openai.gpt-oss-120b-1:0";
/// A model the catalogue knows but does not price.
const UNPRICED: &str = "amazon.nova-2-omni-v1:0";
const M: f64 = 1_000_000.0;

fn price(model: &str) -> Price {
    Catalogue::bundled().price(model).unwrap().clone()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// The reply `reply` to a Converse call on `model`, from the local server.
fn reply_cost(model: &str, reply: Reply) -> Option<Cost> {
    let server = MockServer::start().unwrap();
    server.push(reply);
    let converser = server.converser().unwrap();
    let response = converser
        .converse(&ConverseRequest::new(model).user("hi"))
        .unwrap();
    response.cost(model)
}

#[test]
fn the_table_has_the_published_figures_dated_and_sourced() {
    let catalogue = Catalogue::bundled();
    let haiku = price(HAIKU);
    // Claude Haiku 4.5: $1 / $5 per million; cache writes 1.25x (5 min) and
    // 2x (1 h), reads 0.1x; batch at half price.
    assert_eq!((haiku.standard.input, haiku.standard.output), (1.0, 5.0));
    assert_eq!(haiku.standard.cache_write_5m, Some(1.25));
    assert_eq!(haiku.standard.cache_write_1h, Some(2.0));
    assert_eq!(haiku.standard.cache_read, Some(0.1));
    assert_eq!(haiku.batch_discount, Some(0.5));
    let source = &catalogue.sources[&haiku.source];
    assert!(source.url.contains("aws.amazon.com/bedrock/pricing"));
    assert!(!catalogue.date.is_empty());
    // Claude, Nova, Llama and Mistral models are priced, and every model
    // the README names that is text-in, text-out.
    for model in [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-sonnet-20240229-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "amazon.nova-micro-v1:0",
        NOVA_LITE,
        "amazon.nova-pro-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "meta.llama4-maverick-17b-instruct-v1:0",
        "mistral.mistral-large-2402-v1:0",
        "mistral.mixtral-8x7b-instruct-v0:1",
    ] {
        assert!(catalogue.price(model).is_some(), "{model} is not priced");
    }
}

#[test]
fn input_tokens_cost_the_input_rate() {
    let cost = reply_cost(HAIKU, Reply::text("ok").usage(250_000, 0)).unwrap();
    assert!(close(
        cost.input,
        250_000.0 * price(HAIKU).standard.input / M
    ));
    assert!(close(cost.input, 0.25), "{cost:?}");
    assert_eq!(
        (cost.output, cost.cache_read, cost.cache_write),
        (0.0, 0.0, 0.0)
    );
}

#[test]
fn output_tokens_cost_the_output_rate() {
    let cost = reply_cost(HAIKU, Reply::text("ok").usage(0, 100_000)).unwrap();
    assert!(close(cost.output, 0.5), "{cost:?}");
    assert_eq!(cost.input, 0.0);
    assert!(close(cost.total(), 0.5));
}

#[test]
fn cache_reads_cost_the_cache_read_rate() {
    let reply = Reply::text("ok").usage(10, 0).cache_tokens(1_000_000, 0);
    let cost = reply_cost(HAIKU, reply).unwrap();
    assert!(close(cost.cache_read, 0.1), "{cost:?}");
    assert!(close(cost.input, 10.0 / M));
    // Nova reads at a quarter of its input price.
    let reply = Reply::text("ok").usage(0, 0).cache_tokens(1_000_000, 0);
    let cost = reply_cost(NOVA_LITE, reply).unwrap();
    assert!(close(cost.cache_read, 0.015), "{cost:?}");
}

#[test]
fn cache_writes_without_a_breakdown_cost_the_five_minute_rate() {
    let reply = Reply::text("ok").usage(0, 0).cache_tokens(0, 1_000_000);
    let cost = reply_cost(HAIKU, reply).unwrap();
    assert!(close(cost.cache_write, 1.25), "{cost:?}");
}

#[test]
fn cache_writes_by_ttl_cost_their_own_rates() {
    let reply = Reply::text("ok")
        .usage(0, 0)
        .cache_tokens(0, 3_000_000)
        .cache_details(&[("5m", 1_000_000), ("1h", 2_000_000)]);
    let cost = reply_cost(HAIKU, reply).unwrap();
    assert!(close(cost.cache_write, 1.25 + 2.0 * 2.0), "{cost:?}");
    // A TTL this version does not know is priced at the 1-hour rate.
    let mut usage = Usage::new(0, 0, 0);
    usage.cache_write_input_tokens = Some(1_000_000);
    let mut details = bedrock_converse::model::CacheDetails::new(0, 0);
    details.other = 1_000_000;
    usage.cache_details = Some(details);
    let cost = Cost::of(&usage, HAIKU, &Tier::Standard).unwrap();
    assert!(close(cost.cache_write, 2.0), "{cost:?}");
}

#[test]
fn service_tiers_cost_their_own_rates() {
    let standard = reply_cost(GPT_OSS, Reply::text("ok").usage(1_000_000, 1_000_000)).unwrap();
    let priority = reply_cost(
        GPT_OSS,
        Reply::text("ok")
            .usage(1_000_000, 1_000_000)
            .service_tier("priority"),
    )
    .unwrap();
    let flex = reply_cost(
        GPT_OSS,
        Reply::text("ok")
            .usage(1_000_000, 1_000_000)
            .service_tier("flex"),
    )
    .unwrap();
    let p = price(GPT_OSS);
    assert!(close(standard.total(), 0.15 + 0.6), "{standard:?}");
    let tier = |name: &str| p.tiers[name].input + p.tiers[name].output;
    assert!(close(priority.total(), tier("priority")), "{priority:?}");
    assert!(close(flex.total(), tier("flex")), "{flex:?}");
    assert!(priority.total() > standard.total() && flex.total() < standard.total());
    // "default" is the standard tier.
    let default = reply_cost(
        GPT_OSS,
        Reply::text("ok")
            .usage(1_000_000, 1_000_000)
            .service_tier("default"),
    )
    .unwrap();
    assert!(close(default.total(), standard.total()));
}

#[test]
fn batch_inference_costs_the_discounted_price() {
    let usage = Usage::new(1_000_000, 1_000_000, 2_000_000);
    let batch = Cost::of(&usage, HAIKU, &Tier::Batch).unwrap();
    assert!(close(batch.total(), (1.0 + 5.0) * 0.5), "{batch:?}");
}

#[test]
fn an_unknown_cost_is_none_never_zero() {
    let usage = Usage::new(1000, 1000, 2000);
    // A model the table does not price.
    assert!(Cost::of(&usage, "example.unknown-v1:0", &Tier::Standard).is_none());
    assert!(reply_cost(UNPRICED, Reply::text("ok").usage(1000, 1000)).is_none());
    // A tier the table does not price for the model.
    assert!(Cost::of(&usage, HAIKU, &Tier::from_service("priority")).is_none());
    // Cache writes on a model with no cache price.
    let old = "anthropic.claude-3-haiku-20240307-v1:0";
    let mut cached = usage;
    cached.cache_write_input_tokens = Some(10);
    assert!(Cost::of(&cached, old, &Tier::Standard).is_none());
    // None of them is a zero: with no cache tokens the same model is priced.
    assert!(Cost::of(&usage, old, &Tier::Standard).unwrap().total() > 0.0);
    // A reply without usage has no cost.
    assert!(bedrock_converse::Response::default().cost(HAIKU).is_none());
}

#[test]
fn profiles_and_arns_cost_what_their_model_costs() {
    let usage = Usage::new(1_000_000, 0, 1_000_000);
    let base = Cost::of(&usage, HAIKU, &Tier::Standard).unwrap();
    for id in [
        format!("us.{HAIKU}"),
        format!("global.{HAIKU}"),
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"),
    ] {
        assert_eq!(Cost::of(&usage, &id, &Tier::Standard), Some(base), "{id}");
    }
}

const OVERRIDE: &str = r#"{"format": 1, "date": "2027-01-01",
  "sources": {"mine": {"title": "Our negotiated prices", "url": "https://example.com/prices"}},
  "profile_prefixes": ["us."],
  "models": [{"id": "example.model-v1:0", "name": "Example"}],
  "prices": [{"model": "example.model-v1:0", "input": 2.0, "output": 8.0,
              "cache_read": 0.2, "batch_discount": 0.4, "source": "mine", "confirmed": true,
              "tiers": {"priority": {"input": 4.0, "output": 16.0}}}]}"#;

#[test]
fn a_price_file_overrides_the_table_through_the_catalogue_loader() {
    let dir = crate::support::TempDir::new("bc-cost");
    let path = dir.join("models.json");
    std::fs::write(&path, OVERRIDE).unwrap();
    let catalogue = Catalogue::load(&path).unwrap();
    let p = catalogue.price("us.example.model-v1:0").unwrap();
    assert!(p.confirmed);
    let usage = Usage::new(1_000_000, 500_000, 1_500_000);
    let at = |tier| Cost::from_price(&usage, p, &tier).unwrap().total();
    assert!(close(at(Tier::Standard), 2.0 + 4.0));
    assert!(close(at(Tier::Batch), (2.0 + 4.0) * 0.6));
    assert!(close(at(Tier::from_service("priority")), 4.0 + 8.0));
    assert!(
        catalogue.price(HAIKU).is_none(),
        "a loaded file replaces the table"
    );
}

#[test]
fn a_bad_price_is_a_config_error() {
    for (bad, says) in [
        (
            OVERRIDE.replace("\"input\": 2.0", "\"input\": -2.0"),
            "zero or more",
        ),
        (
            OVERRIDE.replace("\"source\": \"mine\"", "\"source\": \"theirs\""),
            "theirs",
        ),
        (OVERRIDE.replace("0.4", "1.5"), "batch_discount"),
        (OVERRIDE.replace("0.4", "-0.1"), "batch_discount"),
        (
            OVERRIDE.replace("\"output\": 16.0", "\"output\": -16.0"),
            "tier \"priority\"",
        ),
        (
            OVERRIDE.replace("\"cache_read\": 0.2", "\"cache_read\": -0.2"),
            "zero or more",
        ),
    ] {
        match Catalogue::from_json(&bad) {
            Err(Error::Config { message }) => assert!(message.contains(says), "{message}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_conversation_sums_the_cost_of_its_replies() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("one").usage(1_000_000, 0));
    server.push(
        Reply::text("two")
            .usage(0, 1_000_000)
            .cache_tokens(1_000_000, 0),
    );
    let mut chat = Conversation::new(HAIKU);
    assert_eq!(chat.cost().unwrap().total(), 0.0);
    chat.send(&converser, "a").unwrap();
    chat.send(&converser, "b").unwrap();
    let cost = chat.cost().unwrap();
    assert!(close(cost.total(), 1.0 + 5.0 + 0.1), "{cost:?}");
    assert_eq!(chat.usage().input_tokens, 1_000_000);
    assert_eq!(chat.usage().output_tokens, 1_000_000);

    // One unpriced reply makes the total unknown.
    server.push(Reply::text("three").usage(10, 10));
    let mut chat = Conversation::new(UNPRICED);
    chat.send(&converser, "a").unwrap();
    assert!(chat.cost().is_none());
    assert_eq!(chat.usage().input_tokens, 10);
}

#[test]
fn a_batch_reports_its_spend() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok").usage(1000, 100));
    let converser = server.converser().unwrap();
    let records = (0..10).map(|i| {
        Record::new(
            format!("r{i}"),
            json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}),
        )
    });
    let mut lines = Vec::new();
    let progress = Batch::new(&converser, NOVA_LITE)
        .on_progress(std::time::Duration::ZERO, |p| lines.push(p.to_string()))
        .run(records, |_| {})
        .unwrap();
    let each = (1000.0 * 0.06 + 100.0 * 0.24) / M;
    assert!(close(progress.spend_usd, 10.0 * each), "{progress:?}");
    assert_eq!(progress.unpriced, 0);
    assert!(lines.last().unwrap().contains("$0.0008"), "{lines:?}");
}
