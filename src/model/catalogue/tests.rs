use super::*;

#[test]
fn the_bundled_file_is_dated_and_every_fact_is_sourced() {
    let c = Catalogue::from_json(BUNDLED).expect("the bundled catalogue reads");
    assert_eq!(c.date.len(), 10, "dated YYYY-MM-DD: {}", c.date);
    assert!(c.models.len() >= 20);
    for s in c.sources.values() {
        assert!(s.url.starts_with("https://"), "{s:?}");
    }
    // No model listed twice, by id or profile.
    let mut ids = std::collections::HashSet::new();
    for m in &c.models {
        for id in std::iter::once(&m.id).chain(&m.profiles) {
            assert!(ids.insert(id.clone()), "{id} is listed twice");
        }
    }
}

#[test]
fn ids_profiles_and_arns_resolve_to_their_model() {
    let c = Catalogue::bundled();
    let r = c.resolve("amazon.nova-lite-v1:0").unwrap();
    assert!(!r.via_profile);
    let r = c.resolve("us.amazon.nova-lite-v1:0").unwrap();
    assert!(r.via_profile);
    assert_eq!(r.model.id, "amazon.nova-lite-v1:0");
    // A geographic profile the file does not list still finds its model.
    assert_eq!(
        c.model("jp.amazon.nova-lite-v1:0").map(|m| m.id.as_str()),
        Some("amazon.nova-lite-v1:0")
    );
    assert_eq!(
        c.model("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0")
            .map(|m| m.id.as_str()),
        Some("amazon.nova-pro-v1:0")
    );
    let r = c
        .resolve("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.deepseek.r1-v1:0")
        .unwrap();
    assert_eq!(
        (r.model.id.as_str(), r.via_profile),
        ("deepseek.r1-v1:0", true)
    );
    assert!(c.model("example.unknown-v1:0").is_none());
    assert!(c.model("us.example.unknown-v1:0").is_none());
}

#[test]
fn families_and_capabilities_answer_with_their_sources() {
    let c = Catalogue::bundled();
    assert_eq!(
        c.needs_alternation("anthropic.claude-3-haiku-20240307-v1:0"),
        Some(true)
    );
    // By prefix: a Claude the file does not list is still a Claude.
    assert_eq!(
        c.needs_alternation("us.anthropic.claude-future-v9:0"),
        Some(true)
    );
    assert_eq!(c.needs_alternation("amazon.nova-lite-v1:0"), Some(false));
    assert_eq!(
        c.needs_alternation("meta.llama4-scout-17b-instruct-v1:0"),
        None
    );
    let llama = c
        .model("us.meta.llama4-maverick-17b-instruct-v1:0")
        .unwrap();
    let fact = llama
        .capabilities
        .get(Capability::ToolUseStreaming)
        .unwrap();
    assert!(!fact.value);
    assert!(c.sources.contains_key(&fact.source));
    assert_eq!(
        c.supports("openai.gpt-oss-20b-1:0", Capability::Streaming),
        Some(false)
    );
    assert_eq!(
        c.supports("amazon.nova-micro-v1:0", Capability::Images),
        Some(false)
    );
    assert_eq!(
        c.supports("amazon.nova-lite-v1:0", Capability::Images),
        Some(true)
    );
    let retired = c
        .model("anthropic.claude-3-5-sonnet-20240620-v1:0")
        .unwrap();
    assert_eq!(
        retired.lifecycle.as_ref().map(|l| l.status),
        Some(Status::EndOfLife)
    );
    let r1 = c.model("deepseek.r1-v1:0").unwrap();
    assert_eq!(r1.on_demand.as_ref().map(|f| f.value), Some(false));
}

#[test]
fn a_bad_file_is_a_config_error_naming_what_is_wrong() {
    let message = |json: &str| match Catalogue::from_json(json) {
        Err(Error::Config { message }) => message,
        other => panic!("expected Error::Config, got {other:?}"),
    };
    assert!(message("not json").contains("not a model catalogue"));
    assert!(message(r#"{"format": 2, "date": "2027-01-01"}"#).contains("format 2"));
    let unlisted = r#"{"format": 1, "date": "d", "sources": {},
        "models": [{"id": "a.b", "capabilities": {"source": "nowhere", "streaming": true}}]}"#;
    assert!(message(unlisted).contains("\"nowhere\""));
    let unsourced = r#"{"format": 1, "date": "d", "sources": {},
        "models": [{"id": "a.b", "capabilities": {"streaming": true}}]}"#;
    assert!(message(unsourced).contains("has no source"));
    // Members this version does not know (a later price table) are ignored.
    let newer = r#"{"format": 1, "date": "d", "sources": {"s": {"title": "t", "url": "https://x"}},
        "models": [{"id": "a.b", "prices": {"input": 1.0},
                    "capabilities": {"streaming": {"value": false, "source": "s"}}}]}"#;
    let c = Catalogue::from_json(newer).unwrap();
    assert_eq!(c.supports("a.b", Capability::Streaming), Some(false));
}

#[test]
fn a_catalogue_loads_from_a_file_and_a_missing_file_names_its_path() {
    let dir = std::env::temp_dir().join(format!("bc-catalogue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("models.json");
    std::fs::write(&path, BUNDLED).unwrap();
    assert_eq!(Catalogue::load(&path).unwrap(), *Catalogue::bundled());
    let missing = dir.join("missing.json");
    assert!(matches!(Catalogue::load(&missing), Err(Error::File { path, .. }) if path == missing));
    std::fs::write(&path, "{").unwrap();
    assert!(
        matches!(Catalogue::load(&path), Err(Error::Config { message }) if message.contains("models.json"))
    );
    std::fs::remove_dir_all(&dir).ok();
}
