//! The original Python wrapper's shape (boto3), run by
//! `benches/python_baseline.py` against the same local server, phase by phase,
//! while this process serves the reply each phase needs.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

pub struct Python {
    script: PathBuf,
}

/// `Some` when `python3` can import boto3 and `BEDROCK_BENCH_PYTHON` is not `0`.
pub fn available() -> Option<Python> {
    if std::env::var("BEDROCK_BENCH_PYTHON").is_ok_and(|v| v == "0") {
        eprintln!("Python baseline: skipped (BEDROCK_BENCH_PYTHON=0)");
        return None;
    }
    let ok = Command::new("python3")
        .args(["-c", "import boto3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("Python baseline: skipped (needs python3 with boto3: pip install boto3)");
        return None;
    }
    Some(Python {
        script: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/python_baseline.py"),
    })
}

impl Python {
    /// Runs one phase; its last line of output is a JSON object.
    pub fn run(&self, endpoint: &str, args: &[&str]) -> Value {
        let output = Command::new("python3")
            .arg(&self.script)
            .args(["--endpoint", endpoint])
            .args(args)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", "AKIDMOCKEXAMPLE")
            .env("AWS_SECRET_ACCESS_KEY", "mock-secret-key")
            .env_remove("AWS_PROFILE")
            .stderr(Stdio::inherit())
            .output();
        let parsed = output.ok().and_then(|o| {
            let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
            stdout
                .lines()
                .rev()
                .find(|l| l.trim_start().starts_with('{'))
                .and_then(|l| serde_json::from_str(l).ok())
        });
        match parsed {
            Some(v) => v,
            None => {
                eprintln!("Python baseline: phase {args:?} failed");
                Value::Null
            }
        }
    }
}
