//! Runs a JSONL file of Converse requests as one Bedrock Batch Inference job
//! (CreateModelInvocationJob, records in S3), waits for it, and writes its
//! results, joined by record id, in the batch inference output format.
//!
//! ```text
//! cargo run --features batch-inference --example batch_inference -- \
//!     --input in.jsonl --output out.jsonl --bedrock-batch s3://bucket/prefix --role-arn ARN
//! # submit only, and print the job's ARN; collect its results later:
//! cargo run --features batch-inference --example batch_inference -- ... --no-wait
//! cargo run --features batch-inference --example batch_inference -- \
//!     --input in.jsonl --output out.jsonl --collect JOB_ARN
//! ```
//!
//! The input is the format of `examples/batch.rs`, which runs the records
//! through the Converse API instead. Offline, the bundled server plays S3
//! and the Bedrock control plane too, and finishes a job in a few polls.

mod common;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::batch::inference::{BatchInference, JobArn, JobRequest, Limits};
use clap::Parser;

/// A JSONL file of Converse requests as a Bedrock Batch Inference job.
#[derive(Parser)]
#[command(name = "batch_inference")]
struct Args {
    /// The records, one JSON object a line
    #[arg(long, value_name = "IN.jsonl")]
    input: String,
    /// The results
    #[arg(long, value_name = "OUT.jsonl")]
    output: String,
    /// The model id or inference profile
    #[arg(long, value_name = "ID", default_value = "amazon.nova-lite-v1:0")]
    model: String,
    #[command(flatten)]
    target: common::Target,
    /// Where the job's records go in S3
    #[arg(
        long,
        value_name = "s3://bucket/prefix",
        required_unless_present = "collect"
    )]
    bedrock_batch: Option<String>,
    /// The service role the job runs as
    #[arg(long, value_name = "ARN", required_unless_present = "collect")]
    role_arn: Option<String>,
    /// Submit the job, print its ARN and leave
    #[arg(long, conflicts_with = "collect")]
    no_wait: bool,
    /// Wait for this job (submitted earlier) and collect its results
    #[arg(long, value_name = "JOB_ARN")]
    collect: Option<String>,
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("batch inference: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let records = common::read_records(&args.input)?;
    let backend = args.target.connect()?;
    let mut jobs = BatchInference::new(&backend.converser);
    let mut limits = Limits::default();
    if let Some(url) = backend.local_endpoint() {
        // The bundled server takes jobs of any size, and polls need not be slow.
        limits.min_records = 1;
        jobs = jobs
            .endpoint(url)
            .poll_interval(Duration::from_millis(50), Duration::from_millis(200));
    }
    let arn = match &args.collect {
        Some(arn) => JobArn::new(arn),
        None => {
            // clap requires both unless --collect is given.
            let (Some(s3), Some(role)) = (&args.bedrock_batch, &args.role_arn) else {
                return Err("--bedrock-batch and --role-arn are required to submit".into());
            };
            let job = JobRequest::new(&args.model, s3.as_str(), role).limits(limits);
            let arn = jobs.submit(&job, records)?;
            eprintln!("submitted {arn}");
            arn
        }
    };
    if args.no_wait {
        println!("{arn}");
        eprintln!("collect it later with --collect {arn}");
        return Ok(());
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
    Ok(())
}
