//! Typed extraction: the playlist prompt, answered as a Rust value.
//!
//! ```text
//! cargo run --example extract                  # real Bedrock if credentials exist, else local
//! cargo run --example extract -- --local       # always the bundled local server
//! cargo run --example extract -- --mode tool   # a forced tool instead of outputConfig
//! cargo run --example extract -- --model anthropic.claude-haiku-4-5-20251001-v1:0 --region us-west-2
//! ```
//!
//! `--mode native` (the default) sends the schema as `outputConfig.textFormat`,
//! for models with native structured output (Claude Haiku 4.5, Sonnet 4.5+,
//! Opus 4.5+, several open-weight families); `--mode tool` forces one tool
//! whose input schema is `Playlist`'s, for models with tool use only (Claude
//! 3.x, Nova, …). `Song::catchiness` is bounded (1 to 10): the service's
//! grammar cannot hold the bound, so it is sent as the field's description
//! and checked on the reply; the local server's first answer breaks it, and
//! `retries(1)` re-asks once with the breach quoted. `--aws` uses the AWS
//! configuration even when no credentials are visible;
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` points it at any Bedrock-compatible
//! endpoint.

#[path = "common/mod.rs"]
mod common;

use std::process::ExitCode;

use bedrock_converse::client::{Extract, ExtractMode};
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::Reply;
use serde_json::json;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const INPUT: &str = "Create a list of 3 pop songs.";

/// A song, as the model must answer it.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)] // read through Debug
struct Song {
    title: String,
    artist: String,
    /// How catchy the song is.
    #[schemars(range(min = 1, max = 10))]
    catchiness: u8,
}

/// What we ask for.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Playlist {
    songs: Vec<Song>,
}

struct Args {
    model: String,
    mode: ExtractMode,
    target: common::Target,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: DEFAULT_MODEL.into(),
        mode: ExtractMode::Native,
        target: common::Target::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => args.model = it.next().ok_or("--model needs a value")?,
            "--mode" => {
                args.mode = match it.next().as_deref() {
                    Some("native") => ExtractMode::Native,
                    Some("tool") => ExtractMode::Tool,
                    _ => return Err("--mode is native or tool".into()),
                }
            }
            "-h" | "--help" => return Err(
                "usage: extract [--model ID] [--region REGION] [--mode native|tool] [--local | --aws]"
                    .into(),
            ),
            other if args.target.parse_flag(other, &mut it)? => {}
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    env_logger::init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let playlist = |catchiness: u8| {
        json!({"songs": [
            {"title": "Blinding Lights", "artist": "The Weeknd", "catchiness": 9},
            {"title": "Shape of You", "artist": "Ed Sheeran", "catchiness": catchiness},
            {"title": "Levitating", "artist": "Dua Lipa", "catchiness": 8}
        ]})
    };
    let backend = args.target.connect(|server| {
        // What a model answers (the JSON as text, or as the forced tool's
        // input): first a catchiness of 11, past the bound the grammar
        // could not hold, which the client catches; then, re-asked, a valid one.
        server.push(Reply::json(&playlist(11)).usage(61, 48));
        server.push(Reply::json(&playlist(10)).usage(95, 48));
    });
    let backend = match backend {
        Ok(b) => b,
        Err(e) => {
            eprintln!("An error occurred: {e}");
            return ExitCode::FAILURE;
        }
    };

    let request = ConverseRequest::new(&args.model)
        .user(INPUT)
        .max_tokens(1000);
    let extract = Extract::new(&request).mode(args.mode).retries(1);
    match backend.converser.extract::<Playlist>(extract) {
        Ok(extracted) => {
            println!("{:#?}", extracted.value);
            if let Some(usage) = extracted.response.usage {
                println!("({} tokens)", usage.total_tokens);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("An error occurred: {e}");
            if let bedrock_converse::Error::InvalidOutput { raw, .. } = &e {
                eprintln!("The model said: {raw}");
            }
            ExitCode::FAILURE
        }
    }
}
