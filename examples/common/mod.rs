//! What the examples share: the `--region`, `--local` and `--aws` flags, and
//! the choice between real Bedrock and the bundled local server; the quota
//! and failover flags; reading records and parsing seconds.
//!
//! Not an example itself (cargo builds only `examples/*.rs` and
//! `examples/*/main.rs` as examples); each example declares `mod common;`.
//!
//! Real Bedrock is configured the way the AWS CLI is: `AWS_REGION`,
//! `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
//! `AWS_BEARER_TOKEN_BEDROCK`, `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` (or
//! `AWS_ENDPOINT_URL`) and the profile files, read by the library's
//! [`Converser::builder`] through `aws-config`. Offline, the bundled server
//! answers with the example's own replies, `examples/local/NAME.json`, in
//! `bedrock-local --script`'s format, then echoes the last user message.

use std::io::BufRead;

use bedrock_converse::batch::Record;
use bedrock_converse::client::{self, Quota};
use bedrock_converse::{Converser, ConverserBuilder};
use bedrock_converse_mock::{MockServer, Reply};

/// The replies the bundled server gives this example (the example's name is
/// the binary's), in order.
const LOCAL_REPLIES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/local/",
    env!("CARGO_BIN_NAME"),
    ".json"
));

/// Where an example sends its requests: its share of the command line.
#[derive(Debug, Default, clap::Args)]
pub struct Target {
    /// The AWS Region (overrides AWS_REGION and the profile's)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Always use the bundled local Bedrock-compatible server
    #[arg(long, conflicts_with = "aws")]
    pub local: bool,
    /// Use the AWS configuration even when no credentials are visible
    /// (e.g. an EC2 instance role)
    #[arg(long)]
    pub aws: bool,
}

/// A connected `Converser`, and the local server behind it if there is one
/// (kept alive as long as this value).
pub struct Backend {
    pub converser: Converser,
    server: Option<MockServer>,
}

impl Backend {
    /// The bundled local server's URL, when that is what answers.
    #[allow(dead_code)] // only the batch examples aim more clients at it
    pub fn local_endpoint(&self) -> Option<String> {
        self.server.as_ref().map(MockServer::endpoint)
    }
}

impl Target {
    /// Real Bedrock when credentials are configured (decided from the
    /// environment and profile files, never by probing the network) or with
    /// `--aws`; otherwise, or with `--local`, the bundled local server. Says
    /// on stderr which it is.
    #[allow(dead_code)] // the batch examples configure the builder
    pub fn connect(&self) -> Result<Backend, String> {
        self.connect_with(|builder, _| builder)
    }

    /// [`connect`](Target::connect), or the error on stderr and exit 1: for
    /// the interactive examples, which have nothing to do without it.
    #[allow(dead_code)] // the batch examples report errors their own way
    pub fn connect_or_exit(&self) -> Backend {
        self.connect().unwrap_or_else(|e| {
            eprintln!("An error occurred: {e}");
            std::process::exit(1)
        })
    }

    /// [`connect`](Target::connect), with `configure` applied to the builder
    /// either way (a quota, fallback targets); its second argument is the
    /// local server's URL when that is what answers.
    pub fn connect_with(
        &self,
        configure: impl FnOnce(ConverserBuilder, Option<&str>) -> ConverserBuilder,
    ) -> Result<Backend, String> {
        let local =
            self.local || (!self.aws && !bedrock_converse::client::credentials_configured());
        let server = if local {
            Some(start_local(self.local)?)
        } else {
            None
        };
        let builder = match &server {
            Some(server) => server.converser_builder(),
            None => Converser::builder(),
        };
        let builder = match &self.region {
            Some(region) => builder.region(region.clone()),
            None => builder,
        };
        let endpoint = server.as_ref().map(MockServer::endpoint);
        let converser = configure(builder, endpoint.as_deref())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Backend { converser, server })
    }
}

/// The bundled server, with this example's replies queued.
fn start_local(asked: bool) -> Result<MockServer, String> {
    let server =
        MockServer::start().map_err(|e| format!("could not start the local server: {e}"))?;
    eprintln!(
        "{}; using the bundled local Bedrock-compatible server at {}",
        if asked {
            "--local given"
        } else {
            "no AWS credentials found"
        },
        server.endpoint()
    );
    let replies = Reply::script_from_json(LOCAL_REPLIES)
        .map_err(|e| format!("examples/local/{}.json: {e}", env!("CARGO_BIN_NAME")))?;
    for reply in replies {
        server.push(reply);
    }
    // It takes Batch Inference jobs of any size (the service wants 100
    // records or more), so the sample file makes a job.
    server.set_batch_min_records(1);
    Ok(server)
}

/// The records of a JSONL file in the record format of Bedrock batch
/// inference (blank lines skipped), for the batch examples.
#[allow(dead_code)] // only the batch examples read records
pub fn read_records(path: &str) -> Result<Vec<Record>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut records = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{path}: {e}"))?;
        if !line.trim().is_empty() {
            records.push(Record::from_json_line(&line, i + 1).map_err(|e| format!("{path}: {e}"))?);
        }
    }
    Ok(records)
}

/// A `--flag SECS` value: a number of seconds, fractions allowed.
#[allow(dead_code)] // only the worker example takes seconds
pub fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let secs = text
        .parse()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok());
    secs.ok_or(format!("not a number of seconds: {text:?}"))
}

/// Quotas and failover targets: `--rpm`, `--tpm`, `--fallback-model`,
/// `--fallback-region`.
#[derive(Debug, Default, clap::Args)]
#[allow(dead_code)] // only the batch example fails over
pub struct Failover {
    /// Requests per minute, per target
    #[arg(long, value_name = "N")]
    pub rpm: Option<u32>,
    /// Tokens per minute, per target
    #[arg(long, value_name = "N")]
    pub tpm: Option<u32>,
    /// A model to fail over to, in the first Region (repeatable)
    #[arg(long, value_name = "ID")]
    pub fallback_model: Vec<String>,
    /// A Region to fail over to, with --model (repeatable)
    #[arg(long, value_name = "REGION")]
    pub fallback_region: Vec<String>,
}

#[allow(dead_code)] // only the batch example fails over
impl Failover {
    /// `builder` with the quota (each target gets its own: quotas are per
    /// model and per Region) and the fallback targets; a fallback Region is
    /// the local server at `local` when that is what answers.
    pub fn configure(
        &self,
        mut builder: ConverserBuilder,
        local: Option<&str>,
    ) -> ConverserBuilder {
        let quota = (self.rpm.is_some() || self.tpm.is_some()).then(|| {
            let q = self
                .rpm
                .map_or(Quota::new(), |n| Quota::new().requests_per_minute(n));
            self.tpm.map_or(q, |n| q.tokens_per_minute(n))
        });
        let with_quota = |target: client::Target| match quota {
            Some(quota) => target.quota(quota),
            None => target,
        };
        if let Some(quota) = quota {
            builder = builder.quota(quota);
        }
        for model in &self.fallback_model {
            builder = builder.fallback(with_quota(client::Target::new().model_id(model)));
        }
        for region in &self.fallback_region {
            let target = match local {
                Some(url) => client::Target::new().region(region).endpoint_url(url),
                None => client::Target::new().region(region),
            };
            builder = builder.fallback(with_quota(target));
        }
        builder
    }
}
