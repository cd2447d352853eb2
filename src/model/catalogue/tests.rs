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

#[test]
fn each_lifecycle_status_comes_with_its_dates_and_source() {
    let c = Catalogue::bundled();
    // Legacy, from the lifecycle page: every date it gives, the Regions they
    // cover, found through a profile id too.
    let opus = c
        .lifecycle("us.anthropic.claude-opus-4-1-20250805-v1:0")
        .unwrap();
    assert_eq!(opus.status, Status::Legacy);
    assert_eq!(opus.legacy.as_deref(), Some("2026-07-08"));
    assert_eq!(opus.public_extended_access.as_deref(), Some("2026-10-08"));
    assert_eq!(opus.end_of_life.as_deref(), Some("2027-01-08"));
    assert_eq!(opus.regions, ["us-east-1", "us-east-2", "us-west-2"]);
    assert_eq!(opus.launched, None);
    let page = &c.sources[&opus.source];
    assert!(
        page.url.ends_with("/model-lifecycle-legacy.html"),
        "{page:?}"
    );
    assert!(page.read.is_some());
    // Active, from a model card: its launch date, no end of life.
    let haiku = c
        .lifecycle("anthropic.claude-haiku-4-5-20251001-v1:0")
        .unwrap();
    assert_eq!(haiku.status, Status::Active);
    assert_eq!(haiku.launched.as_deref(), Some("2025-10-16"));
    assert_eq!(
        (haiku.legacy.as_ref(), haiku.end_of_life.as_ref()),
        (None, None)
    );
    assert!(c.sources[&haiku.source].url.contains("model-card-"));
    // End of life, from a recording: when it was seen.
    let retired = c
        .lifecycle("anthropic.claude-3-5-sonnet-20240620-v1:0")
        .unwrap();
    assert_eq!(retired.status, Status::EndOfLife);
    assert_eq!(retired.seen.as_deref(), Some("2026-12-04"));
    assert_eq!(retired.source, "recorded-model-ids");
    // End of life, from a model card: its dates, found through a profile too.
    let ended = c
        .lifecycle("us.anthropic.claude-3-haiku-20240307-v1:0")
        .unwrap();
    assert_eq!(ended.status, Status::EndOfLife);
    assert_eq!(
        (ended.launched.as_deref(), ended.end_of_life.as_deref()),
        (Some("2024-03-13"), Some("2026-09-10"))
    );
    assert!(c.sources[&ended.source]
        .url
        .ends_with("/model-card-anthropic-claude-3-haiku.html"));
}

#[test]
fn the_bundled_lifecycles_are_consistent() {
    let c = Catalogue::from_json(BUNDLED).unwrap();
    let mut counted = 0;
    for m in &c.models {
        let Some(l) = &m.lifecycle else { continue };
        counted += 1;
        // Legacy means an end-of-life date is set.
        if l.status == Status::Legacy {
            assert!(l.end_of_life.is_some(), "{}: legacy without EOL", m.id);
        }
        let dates = [
            &l.launched,
            &l.legacy,
            &l.public_extended_access,
            &l.end_of_life,
        ];
        let known: Vec<&str> = dates.iter().filter_map(|d| d.as_deref()).collect();
        assert!(
            known.windows(2).all(|w| w[0] < w[1]),
            "{}: dates out of order {known:?}",
            m.id
        );
    }
    assert!(counted >= 15, "{counted} lifecycles");
}

#[test]
fn an_unknown_or_unsourced_lifecycle_is_none_never_a_guess() {
    let c = Catalogue::bundled();
    assert!(c.lifecycle("example.unknown-v1:0").is_none());
    // Listed, but no source gives its state.
    assert!(c.model("amazon.nova-lite-v1:0").is_some());
    assert!(c.lifecycle("amazon.nova-lite-v1:0").is_none());
    let json = r#"{"format": 1, "date": "2027-01-01",
        "sources": {"s": {"title": "t", "url": "https://x"}},
        "models": [{"id": "a.b"},
                   {"id": "a.c", "lifecycle": {"status": "legacy", "end_of_life": "2027-06-01", "source": "s"}}]}"#;
    let c = Catalogue::from_json(json).unwrap();
    assert_eq!(c.lifecycle("a.b"), None);
    let l = c.lifecycle("a.c").unwrap();
    assert_eq!((l.status, l.launched.as_deref()), (Status::Legacy, None));
    assert!(l.regions.is_empty());
    assert_eq!(l.public_extended_access, None);
}

#[test]
fn ended_by_compares_the_end_of_life_date_and_is_false_without_one() {
    let json = r#"{"format": 1, "date": "2027-01-01",
        "sources": {"s": {"title": "t", "url": "https://x"}},
        "models": [{"id": "a.b", "lifecycle": {"status": "legacy", "legacy": "2026-12-01",
                     "public_extended_access": "2027-03-01", "end_of_life": "2027-06-01",
                     "regions": ["us-east-1", "eu-west-1"], "source": "s"}},
                   {"id": "a.c", "lifecycle": {"status": "active", "launched": "2026-01-02", "source": "s"}}]}"#;
    let c = Catalogue::from_json(json).unwrap();
    let l = c.lifecycle("a.b").unwrap();
    assert_eq!(l.regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(l.public_extended_access.as_deref(), Some("2027-03-01"));
    assert!(!l.ended_by("2027-05-31"));
    assert!(l.ended_by("2027-06-01"));
    assert!(l.ended_by("2027-06-02"));
    let active = c.lifecycle("a.c").unwrap();
    assert_eq!(active.launched.as_deref(), Some("2026-01-02"));
    assert!(!active.ended_by("9999-12-31"));
}

#[test]
fn a_lifecycle_date_not_yyyy_mm_dd_is_a_config_error_naming_the_field() {
    let with = |field: &str, value: &str| {
        format!(
            r#"{{"format": 1, "date": "d", "sources": {{"s": {{"title": "t", "url": "https://x"}}}},
            "models": [{{"id": "a.b", "lifecycle": {{"status": "legacy", "{field}": "{value}", "source": "s"}}}}]}}"#
        )
    };
    for field in [
        "launched",
        "legacy",
        "public_extended_access",
        "end_of_life",
        "seen",
    ] {
        assert!(
            Catalogue::from_json(&with(field, "2026-11-26")).is_ok(),
            "{field}"
        );
        for bad in [
            "November 26, 2026",
            "2026/11/26",
            "2026-11/26",
            "2026-11-2x",
            "2026-1x-26",
            "x026-11-26",
            "2026-11-260",
            "26-11-2026",
            "2026-11-26 ",
            "20261-1-26",
            "2026-111-26",
        ] {
            match Catalogue::from_json(&with(field, bad)) {
                Err(Error::Config { message }) => {
                    assert!(message.contains(&format!("lifecycle.{field}")), "{message}");
                    assert!(message.contains("YYYY-MM-DD"), "{message}");
                }
                other => panic!("{field} = {bad:?}: {other:?}"),
            }
        }
    }
}
