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
//! and checked on the reply; `retries(1)` re-asks once with the breach
//! quoted. Offline, the bundled server answers with
//! `examples/local/extract.json`, whose first answer breaks the bound.

mod common;

use std::process::ExitCode;

use bedrock_converse::client::{Extract, ExtractMode, ExtractOptions};
use bedrock_converse::ConverseRequest;
use clap::Parser;

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

/// Typed extraction: the playlist prompt, answered as a Rust value.
#[derive(Parser)]
#[command(name = "extract")]
struct Args {
    /// The model id or inference profile
    #[arg(long, value_name = "ID", default_value = DEFAULT_MODEL)]
    model: String,
    /// native: the schema as outputConfig.textFormat; tool: a forced tool
    #[arg(long, default_value = "native", value_parser = ["native", "tool"])]
    mode: String,
    #[command(flatten)]
    target: common::Target,
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let Ok(backend) = args
        .target
        .connect()
        .map_err(|e| eprintln!("An error occurred: {e}"))
    else {
        return ExitCode::FAILURE;
    };

    let request = ConverseRequest::new(&args.model)
        .user(INPUT)
        .max_tokens(1000);
    let mode = match args.mode.as_str() {
        "tool" => ExtractMode::Tool,
        _ => ExtractMode::Native,
    };
    let extract = Extract::new(&request, ExtractOptions::new().mode(mode).retries(1));
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
