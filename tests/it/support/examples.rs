//! Running the built examples as a user does: the binaries `cargo test`
//! builds beside the test binaries, with nothing from this process's
//! environment (no credentials, profile or region), an empty `HOME` that is
//! removed afterwards, and the instance metadata service off.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::TempDir;

/// What every example prints on stderr when it falls back to the local
/// server (examples/common/mod.rs), before the server's URL.
pub const NO_CREDENTIALS: &str =
    "no AWS credentials found; using the bundled local Bedrock-compatible server at http://127.0.0.1:";
/// The same line when `--local` asked for it.
pub const LOCAL_GIVEN: &str =
    "--local given; using the bundled local Bedrock-compatible server at http://127.0.0.1:";
/// The part of those lines that does not depend on why.
pub const BUNDLED: &str = "using the bundled local Bedrock-compatible server";

/// The examples that talk to Bedrock (all but `mock_server`, which is a
/// server, and the GUI, a package of its own).
pub const CLIENTS: [&str; 6] = ["playlist", "chat", "tools", "worker", "extract", "batch"];

/// The built example `name`, beside this test binary's directory
/// (`target/debug/deps/it-…` → `target/debug/examples/name`).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds the examples; with a narrower \
         command run `cargo build --examples` first",
        path.display()
    );
    path
}

/// A fresh, empty directory for one run's `HOME` and files, removed when
/// dropped.
pub fn scratch() -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    TempDir::new(&format!("examples-{}", N.fetch_add(1, Ordering::SeqCst)))
}

/// The example `name` with `args`, nothing from this process's environment
/// (so no credentials, profile or region), `HOME` an empty directory and the
/// instance metadata service off.
pub fn command(name: &str, args: &[&str], home: &Path) -> Command {
    let mut cmd = Command::new(binary(name));
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `cmd` with `input` on its stdin, killing it after a minute.
pub fn run(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The example's stdout and stderr, for assertion messages.
pub fn shown(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `name` and asserts it succeeded, saying on stderr (exactly once)
/// which local-server line `expected` is.
pub fn run_ok(name: &str, args: &[&str], input: &str, expected: &str) -> Output {
    let home = scratch();
    let out = run(command(name, args, &home), input);
    assert!(out.status.success(), "{name} {args:?}: {}", shown(&out));
    let err = stderr(&out);
    assert_eq!(
        err.lines().filter(|l| l.starts_with(expected)).count(),
        1,
        "{name} {args:?}: {}",
        shown(&out)
    );
    out
}
