//! Runs a JSONL file of Converse requests, in the record format of Bedrock
//! batch inference, through the Converse API with bounded concurrency, and
//! writes the results in the batch inference output format.
//!
//! ```text
//! cargo run --example batch -- --input examples/batch-input.jsonl --output /tmp/out.jsonl
//! cargo run --example batch -- --input in.jsonl --output out.jsonl --model amazon.nova-lite-v1:0 \
//!     --region us-west-2 --concurrency 16 --rpm 200 --tpm 200000
//! cargo run --example batch -- --input in.jsonl --output out.jsonl --resume   # after a crash or ^C
//! cargo run --example batch -- --input in.jsonl --output out.jsonl --budget-usd 0.50   # stop before $0.50
//! # when the first throttles, fail over to another model, then another Region:
//! cargo run --example batch -- ... --rpm 150 --fallback-model amazon.nova-pro-v1:0 --fallback-region us-west-2
//! ```
//!
//! Each input line is `{"recordId": "...", "modelInput": {...}}` with a
//! Converse request body (no `modelId`) as `modelInput`; each output line adds
//! `modelOutput` (the Converse response body) or `error`. Offline, the
//! bundled server echoes each prompt and plays every fallback Region.
//! (`examples/batch_inference.rs` runs the same file as a Bedrock Batch
//! Inference job instead.)

mod common;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::batch::{Batch, BatchStats};
use bedrock_converse::Converser;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

/// A JSONL file of Converse requests, run with bounded concurrency.
#[derive(Parser)]
#[command(name = "batch")]
struct Args {
    /// The records, one JSON object a line
    #[arg(long, value_name = "IN.jsonl")]
    input: String,
    /// The results (also the journal `--resume` reads)
    #[arg(long, value_name = "OUT.jsonl")]
    output: String,
    /// The model id or inference profile
    #[arg(long, value_name = "ID", default_value = "amazon.nova-lite-v1:0")]
    model: String,
    #[command(flatten)]
    target: common::Target,
    /// Calls in flight at once
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,
    /// Attempts per record (default: a throttled record is sent again as long as it takes)
    #[arg(long, value_name = "N")]
    max_attempts: Option<u32>,
    /// Skip the records already in the output file
    #[arg(long)]
    resume: bool,
    /// Start no record that could take the spend past this many dollars
    #[arg(long, value_name = "N", value_parser = dollars)]
    budget_usd: Option<f64>,
    #[command(flatten)]
    failover: common::Failover,
}

fn dollars(text: &str) -> Result<f64, String> {
    let amount = text
        .parse()
        .ok()
        .filter(|d: &f64| d.is_finite() && *d >= 0.0);
    amount.ok_or(format!(
        "--budget-usd takes a number of dollars, not {text:?}"
    ))
}

fn main() -> ExitCode {
    env_logger::init();
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let records = common::read_records(&args.input)?;
    let backend = args
        .target
        .connect_with(|builder, local| args.failover.configure(builder, local))?;
    eprintln!(
        "{} records from {}, model {}, {} at a time{}",
        records.len(),
        args.input,
        args.model,
        args.concurrency,
        if args.resume { ", resuming" } else { "" }
    );
    let reporter = Reporter::new(records.len());
    let mut batch = Batch::new(&backend.converser, &args.model).concurrency(args.concurrency);
    if let Some(n) = args.max_attempts {
        batch = batch.max_attempts(n);
    }
    if let Some(dollars) = args.budget_usd {
        batch = batch.budget_usd(dollars);
    }
    let result = batch
        .journal(&args.output)
        .resume(args.resume)
        .on_progress(reporter.every(), |p| reporter.progress(p))
        .run(records, |r| {
            if let Err(e) = &r.outcome {
                reporter.say(&format!(
                    "{}: failed after {} attempt(s): {e}",
                    r.id, r.attempts
                ));
            }
        });
    reporter.finish();
    let stats = result.map_err(|e| {
        let output = &args.output;
        format!("batch stopped: {e}\nthe records finished so far are in {output}; rerun with --resume to go on")
    })?;
    summary(args, &stats, &backend.converser);
    Ok(())
}

/// The closing lines: counts, tokens and spend; what each target answered;
/// what the budget left unstarted.
fn summary(args: &Args, stats: &BatchStats, converser: &Converser) {
    let unpriced = match stats.unpriced {
        0 => String::new(),
        n => format!(" (+{n} replies the price table does not price)"),
    };
    eprintln!(
        "{} succeeded, {} failed, {} skipped (already in {}), {} retries ({} throttled), {} input + {} output tokens, spend ${:.6}{unpriced}, in {:.1}s",
        stats.succeeded,
        stats.failed,
        stats.skipped,
        args.output,
        stats.retries,
        stats.throttled,
        stats.input_tokens,
        stats.output_tokens,
        stats.spend_usd,
        stats.elapsed.as_secs_f64()
    );
    let targets = converser.target_stats();
    if targets.len() > 1 {
        let answered = targets.iter().map(|t| {
            let model = t.model_id.as_deref().unwrap_or(&args.model);
            let region = t.region.as_deref().unwrap_or("?");
            let (n, moved, throttled) = (t.answered, t.failovers, t.throttles);
            format!("{model} in {region}: {n} answered, {moved} moved away, {throttled} throttled")
        });
        eprintln!("targets: {}", answered.collect::<Vec<_>>().join("; "));
    }
    if !stats.unstarted.is_empty() {
        eprintln!(
            "budget reached: {} record(s) not started ({}); rerun with --resume and a larger --budget-usd to go on",
            stats.unstarted.len(),
            stats.unstarted.join(", ")
        );
    }
}

/// Progress on stderr: a bar on a terminal, a plain line a second elsewhere.
struct Reporter(Option<ProgressBar>);

impl Reporter {
    fn new(total: usize) -> Self {
        Reporter(std::io::stderr().is_terminal().then(|| {
            let template = "{elapsed_precise} [{wide_bar}] {pos}/{len} {per_sec} ETA {eta} {msg}";
            let bar = ProgressBar::new(total as u64);
            bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        }))
    }

    /// How often the run reports its counts.
    fn every(&self) -> Duration {
        Duration::from_millis(if self.0.is_some() { 250 } else { 1000 })
    }

    fn progress(&self, p: &BatchStats) {
        let Some(bar) = &self.0 else {
            return eprintln!("{p}");
        };
        bar.set_position((p.done() + p.skipped) as u64);
        bar.set_message(format!(
            "{} failed, {} in flight, {} retries, {} tokens, ${:.4}",
            p.failed,
            p.in_flight,
            p.retries,
            p.input_tokens + p.output_tokens,
            p.spend_usd
        ));
    }

    /// A line of its own, above the bar if there is one.
    fn say(&self, line: &str) {
        match &self.0 {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
