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
//! # fail over to another model, then another Region, when the first throttles:
//! cargo run --example batch -- --input in.jsonl --output out.jsonl --rpm 150 \
//!     --fallback-model amazon.nova-pro-v1:0 --fallback-region us-west-2
//! # Bedrock Batch Inference (a job in AWS, records in S3), with the feature:
//! cargo run --features batch-inference --example batch -- --input in.jsonl --output out.jsonl \
//!     --bedrock-batch s3://bucket/prefix --role-arn ARN [--no-wait | --collect JOB_ARN]
//! ```
//!
//! Each input line is `{"recordId": "...", "modelInput": {...}}` with a
//! Converse request body (no `modelId`) as `modelInput`; each output line adds
//! `modelOutput` (the Converse response body) or `error`. With `--resume`, the
//! records already in the output file are skipped. Without credentials (or
//! with `--local`) the bundled local server answers, echoing each prompt.
//!
//! `--fallback-model ID` and `--fallback-region REGION` (each repeatable)
//! add failover targets after the first (`--model` in `--region`): the
//! fallback models in the first Region, then the fallback Regions with
//! `--model`. `--rpm`/`--tpm` are each target's own quota (quotas are per
//! model and per Region). A call that is throttled or finds the service
//! unavailable before anything arrived moves to the next target; the summary
//! line says how many records each target answered. Locally, each fallback
//! Region is a local server of its own.
//! Progress goes to stderr: a progress bar when stderr is a terminal, one
//! plain line a second otherwise (a log file, a pipe, CI).

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::batch::{Batch, Progress, Record};
use bedrock_converse::client::{Quota, Target};
use bedrock_converse_mock::{MockServer, Reply};
use indicatif::{ProgressBar, ProgressStyle};

const DEFAULT_MODEL: &str = "amazon.nova-lite-v1:0";

struct Args {
    input: String,
    output: String,
    model: String,
    concurrency: usize,
    /// `None`: throttled records are sent again as long as it takes.
    max_attempts: Option<u32>,
    rpm: Option<u32>,
    tpm: Option<u32>,
    resume: bool,
    /// `--budget-usd N`: start no record that could take the spend past N dollars.
    budget_usd: Option<f64>,
    target: common::Target,
    /// `--fallback-model ID`, repeatable.
    fallback_models: Vec<String>,
    /// `--fallback-region REGION`, repeatable.
    fallback_regions: Vec<String>,
    /// `--bedrock-batch s3://bucket/prefix`, `--role-arn`, `--no-wait`,
    /// `--collect JOB_ARN`: a Bedrock Batch Inference job instead.
    bedrock_batch: Option<String>,
    role_arn: Option<String>,
    no_wait: bool,
    collect: Option<String>,
}

const USAGE: &str = "usage: batch --input IN.jsonl --output OUT.jsonl [--model ID] [--region R] \
[--local] [--aws] [--concurrency N] [--max-attempts N] [--rpm N] [--tpm N] [--resume] [--budget-usd N] \
[--fallback-model ID]... [--fallback-region REGION]... \
[--bedrock-batch s3://bucket/prefix --role-arn ARN [--no-wait | --collect JOB_ARN]]";

fn parse_args() -> Result<Args, String> {
    let mut input = None;
    let mut output = None;
    let mut args = Args {
        input: String::new(),
        output: String::new(),
        model: DEFAULT_MODEL.to_string(),
        concurrency: 8,
        max_attempts: None,
        rpm: None,
        tpm: None,
        resume: false,
        budget_usd: None,
        target: common::Target::default(),
        fallback_models: Vec::new(),
        fallback_regions: Vec::new(),
        bedrock_batch: None,
        role_arn: None,
        no_wait: false,
        collect: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--input" => input = Some(value("--input")?),
            "--output" => output = Some(value("--output")?),
            "--model" => args.model = value("--model")?,
            "--concurrency" => args.concurrency = number(&value("--concurrency")?)?,
            "--max-attempts" => args.max_attempts = Some(number(&value("--max-attempts")?)?),
            "--rpm" => args.rpm = Some(number(&value("--rpm")?)?),
            "--tpm" => args.tpm = Some(number(&value("--tpm")?)?),
            "--resume" => args.resume = true,
            "--fallback-model" => args.fallback_models.push(value("--fallback-model")?),
            "--fallback-region" => args.fallback_regions.push(value("--fallback-region")?),
            "--budget-usd" => {
                let v = value("--budget-usd")?;
                args.budget_usd = Some(
                    v.parse()
                        .ok()
                        .filter(|d: &f64| d.is_finite() && *d >= 0.0)
                        .ok_or(format!("--budget-usd takes a number of dollars, not {v:?}"))?,
                );
            }
            "--bedrock-batch" => args.bedrock_batch = Some(value("--bedrock-batch")?),
            "--role-arn" => args.role_arn = Some(value("--role-arn")?),
            "--no-wait" => args.no_wait = true,
            "--collect" => args.collect = Some(value("--collect")?),
            "--help" | "-h" => return Err(USAGE.to_string()),
            other if args.target.parse_flag(other, &mut it)? => {}
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    args.input = input.ok_or(format!("--input is required\n{USAGE}"))?;
    args.output = output.ok_or(format!("--output is required\n{USAGE}"))?;
    Ok(args)
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a number"))
}

fn read_records(path: &str) -> Result<Vec<Record>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut records = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        records.push(Record::from_json_line(&line, i + 1).map_err(|e| format!("{path}: {e}"))?);
    }
    Ok(records)
}

fn main() -> ExitCode {
    env_logger::init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let records = match read_records(&args.input) {
        Ok(records) => records,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let mut quota = None;
    if args.rpm.is_some() || args.tpm.is_some() {
        let mut q = Quota::new();
        if let Some(rpm) = args.rpm {
            q = q.requests_per_minute(rpm);
        }
        if let Some(tpm) = args.tpm {
            q = q.tokens_per_minute(tpm);
        }
        quota = Some(q);
    }
    let mut local_endpoint = None;
    // Locally, each fallback Region is a server of its own.
    let region_servers: std::cell::RefCell<Vec<MockServer>> = Default::default();
    let local_reply = || {
        Reply::echo("Local reply to: ")
            .word_deltas()
            .frame_delay(Duration::from_millis(40))
    };
    let backend = args.target.connect_with(
        |server| {
            // The local server also plays S3 and the Batch Inference control plane.
            local_endpoint = Some(server.endpoint());
            server.set_batch_min_records(1);
            server.set_default(local_reply());
            for _ in &args.fallback_regions {
                match MockServer::start() {
                    Ok(other) => {
                        other.set_default(local_reply());
                        region_servers.borrow_mut().push(other);
                    }
                    Err(e) => eprintln!("could not start a local server for a Region: {e}"),
                }
            }
        },
        |mut builder| {
            let with_quota = |target: Target| match quota {
                Some(quota) => target.quota(quota),
                None => target,
            };
            if let Some(quota) = quota {
                builder = builder.quota(quota);
            }
            for model in &args.fallback_models {
                builder = builder.fallback(with_quota(Target::new().model_id(model)));
            }
            for (i, region) in args.fallback_regions.iter().enumerate() {
                let mut target = Target::new().region(region);
                if let Some(server) = region_servers.borrow().get(i) {
                    target = target.endpoint_url(server.endpoint());
                }
                builder = builder.fallback(with_quota(target));
            }
            builder
        },
    );
    let backend = match backend {
        Ok(backend) => backend,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    if args.bedrock_batch.is_some() || args.collect.is_some() {
        return bedrock_batch(&args, &backend.converser, local_endpoint, records);
    }
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
    match result {
        Ok(stats) => {
            eprintln!(
                "{} succeeded, {} failed, {} skipped (already in {}), {} retries ({} throttled), {} input + {} output tokens, spend ${:.6}{}, in {:.1}s",
                stats.succeeded,
                stats.failed,
                stats.skipped,
                args.output,
                stats.retries,
                stats.throttled,
                stats.input_tokens,
                stats.output_tokens,
                stats.spend_usd,
                if stats.unpriced > 0 {
                    format!(" (+{} replies the price table does not price)", stats.unpriced)
                } else {
                    String::new()
                },
                stats.elapsed.as_secs_f64()
            );
            let targets = backend.converser.target_stats();
            if targets.len() > 1 {
                let answered: Vec<String> = targets
                    .iter()
                    .map(|t| {
                        format!(
                            "{} in {}: {} answered, {} moved away, {} throttled",
                            t.model_id.as_deref().unwrap_or(&args.model),
                            t.region.as_deref().unwrap_or("?"),
                            t.answered,
                            t.failovers,
                            t.throttles
                        )
                    })
                    .collect();
                eprintln!("targets: {}", answered.join("; "));
            }
            if !stats.unstarted.is_empty() {
                eprintln!(
                    "budget reached: {} record(s) not started ({}); rerun with --resume and a larger --budget-usd to go on",
                    stats.unstarted.len(),
                    stats.unstarted.join(", ")
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("batch stopped: {e}");
            eprintln!(
                "the records finished so far are in {}; rerun with --resume to go on",
                args.output
            );
            ExitCode::FAILURE
        }
    }
}

/// `--bedrock-batch` / `--collect`: the records as one Bedrock Batch
/// Inference job; its results, joined by record id, to the output file.
#[cfg(feature = "batch-inference")]
fn bedrock_batch(
    args: &Args,
    converser: &bedrock_converse::Converser,
    local_endpoint: Option<String>,
    records: Vec<Record>,
) -> ExitCode {
    use bedrock_converse::batch::inference::{BatchInference, JobArn, Limits};
    use std::io::Write;
    let mut jobs = BatchInference::new(converser).model(&args.model);
    if let Some(uri) = &args.bedrock_batch {
        jobs = jobs.s3(uri);
    }
    if let Some(role) = &args.role_arn {
        jobs = jobs.role_arn(role);
    }
    if let Some(url) = local_endpoint {
        // The local server takes jobs of any size and finishes them in 3 polls.
        jobs = jobs
            .endpoint(url)
            .limits(Limits {
                min_records: 1,
                ..Limits::default()
            })
            .poll_interval(Duration::from_millis(50), Duration::from_millis(200));
    }
    let run = || -> Result<usize, Box<dyn std::error::Error>> {
        let arn = match &args.collect {
            Some(arn) => JobArn::new(arn),
            None => {
                let arn = jobs.submit(records)?;
                eprintln!("submitted {arn}");
                arn
            }
        };
        if args.no_wait {
            println!("{arn}");
            eprintln!("collect it later with --collect {arn}");
            return Ok(0);
        }
        let count = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        jobs.wait(&arn, |s| {
            eprintln!(
                "{arn}: {} ({} of {} records processed)",
                s.status,
                count(s.processed_records),
                count(s.total_records)
            )
        })?;
        let results = jobs.collect(&arn)?;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&args.output)?);
        for result in &results.results {
            writeln!(out, "{}", result.to_json_line())?;
        }
        out.flush()?;
        eprintln!(
            "{} succeeded, {} failed ({} with no output line), written to {}",
            results.succeeded(),
            results.failed(),
            results.missing.len(),
            args.output
        );
        Ok(results.failed())
    };
    match run() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("batch inference: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "batch-inference"))]
fn bedrock_batch(
    _: &Args,
    _: &bedrock_converse::Converser,
    _: Option<String>,
    _: Vec<Record>,
) -> ExitCode {
    eprintln!("--bedrock-batch and --collect need the batch-inference feature: cargo run --features batch-inference --example batch -- ...");
    ExitCode::from(2)
}

/// Progress on stderr: a bar on a terminal, plain lines elsewhere.
enum Reporter {
    Bar(ProgressBar),
    Lines,
}

impl Reporter {
    fn new(total: usize) -> Self {
        if !std::io::stderr().is_terminal() {
            return Reporter::Lines;
        }
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Reporter::Bar(bar)
    }

    /// How often the run reports its counts.
    fn every(&self) -> Duration {
        match self {
            Reporter::Bar(_) => Duration::from_millis(250),
            Reporter::Lines => Duration::from_secs(1),
        }
    }

    fn progress(&self, p: &Progress) {
        match self {
            Reporter::Bar(bar) => {
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
            Reporter::Lines => eprintln!("{p}"),
        }
    }

    /// A line of its own, above the bar if there is one.
    fn say(&self, line: &str) {
        match self {
            Reporter::Bar(bar) => bar.println(line),
            Reporter::Lines => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Reporter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
