//! `cargo bench`: the wrapper against the raw async SDK (and the original
//! Python wrapper, when python3 with boto3 is installed), side by side, in one
//! run, against the bundled local server. See BENCHMARKS.md.
//!
//! 1. per-call latency of a tiny streamed reply (criterion);
//! 2. streaming throughput of a 20,000-delta reply;
//! 3. concurrency: 1, 8 and 64 threads vs as many tasks;
//! 4. the delay from the SDK receiving an event to the handler seeing it;
//! 5. memory: RSS after 10,000 calls, peak RSS of a 10 MiB streamed reply
//!    (each in a fresh child process);
//!
//! and the local server's own capacity, read by a raw HTTP reader.
//!
//! The wrapper's streaming side is measured through both of its calls, the
//! same handler each time: `converse_with` (the handler runs on the calling
//! thread) and `converse_with_on_runtime` (the handler runs on the `Converser`'s
//! runtime thread). Items 1 to 4 report each beside the raw SDK.
//!
//! Filters: `cargo bench -- per_call` runs only the criterion benches and
//! sections whose name contains the filter (`per_call`, `capacity`,
//! `throughput`, `concurrency`, `delay`, `memory`). `BEDROCK_BENCH_PYTHON=0`
//! skips the Python baseline. `cargo test --benches` runs everything once,
//! briefly, as a smoke test.

mod common;
mod memory;
mod profile;
mod python;
mod reader;
mod report;
mod stamps;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bedrock_converse_mock::{MockServer, Reply};
use criterion::Criterion;
use serde_json::{json, Value};

use common::*;
use report::Report;

/// How long each part runs.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Full measurement (`cargo bench`), or a brief smoke run.
    full: bool,
}

impl Plan {
    fn pick<T>(&self, full: T, smoke: T) -> T {
        if self.full {
            full
        } else {
            smoke
        }
    }
}

/// Criterion's command-line options that take a value (so that their value
/// is not mistaken for a filter).
const VALUE_FLAGS: &[&str] = &[
    "--color",
    "-c",
    "--save-baseline",
    "-s",
    "--baseline",
    "-b",
    "--baseline-lenient",
    "--format",
    "--profile-time",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
];

struct Args {
    plan: Plan,
    /// Skip the custom sections (`--list`, `--profile-time`).
    skip_custom: bool,
    filter: Option<String>,
}

fn args() -> Args {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |f: &str| args.iter().any(|a| a == f);
    let mut filter = None;
    let mut skip_next = false;
    for a in &args {
        if skip_next {
            skip_next = false;
        } else if a.starts_with('-') {
            skip_next = VALUE_FLAGS.contains(&a.as_str());
        } else if filter.is_none() {
            filter = Some(a.clone());
        }
    }
    Args {
        plan: Plan {
            full: has("--bench") && !has("--test"),
        },
        skip_custom: has("--list") || args.iter().any(|a| a.starts_with("--profile-time")),
        filter,
    }
}

fn main() {
    // Never let anything here reach for the EC2 instance metadata service
    // (children and the Python baseline inherit this).
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    if let Ok(kind) = std::env::var(memory::CHILD_VAR) {
        memory::child(&kind);
        return;
    }
    if let Ok(kind) = std::env::var(profile::PROFILE_VAR) {
        profile::run(&kind);
        return;
    }
    let args = args();
    let plan = args.plan;
    let wants = |section: &str| match &args.filter {
        None => true,
        Some(f) => section.contains(f.as_str()),
    };

    let server = MockServer::start().expect("the mock server starts");
    server.set_recording(false);
    let tiny = tiny_reply();
    server.set_default(tiny.clone());
    let config = sdk_config_builder(&server.endpoint()).build();
    let converser = wrapper(config.clone());
    let client = raw_client(config.clone());
    let ct = current_thread_runtime();
    let req = request();
    let raw_req = RawRequest::new();
    let mut report = Report::new(plan.full);

    // 1. Per-call latency (criterion).
    let latency = per_call(&converser, &client, &ct, &req, &raw_req);
    if args.skip_custom {
        return;
    }
    report.latency(latency);
    let python = python::available();
    if wants("per_call") {
        if let Some(py) = &python {
            report.python_latency(py.run(
                &server.endpoint(),
                &["--phase", "latency", "--seconds", plan.pick("4", "0.3")],
            ));
        }
    }

    // The server's own capacity.
    let long = long_reply(LONG_DELTAS * LONG_DELTA_BYTES, LONG_DELTAS);
    if wants("capacity") || wants("throughput") || wants("concurrency") {
        report.capacity(capacity(&server, &long, &tiny, plan));
    }

    // 2. Streaming throughput.
    if wants("throughput") {
        server.set_default(long.clone());
        report.throughput(throughput(&converser, &client, &ct, &req, &raw_req, plan));
        if let Some(py) = &python {
            report.python_throughput(py.run(
                &server.endpoint(),
                &["--phase", "throughput", "--rounds", plan.pick("3", "1")],
            ));
        }
        server.set_default(tiny.clone());
    }

    // 3. Concurrency.
    if wants("concurrency") {
        report.concurrency(concurrency(&converser, &config, &req, &raw_req, plan));
        if let Some(py) = &python {
            report.python_concurrency(py.run(
                &server.endpoint(),
                &[
                    "--phase",
                    "concurrency",
                    "--threads",
                    "1,8,64",
                    "--seconds",
                    plan.pick("2", "0.2"),
                ],
            ));
        }
    }

    // 4. Event-to-handler delay.
    if wants("delay") {
        report.delay(delay(&server, &req, &raw_req, plan));
        server.set_default(tiny.clone());
    }

    // 5. Memory, each figure from a fresh child process.
    if wants("memory") {
        report.memory(memory::measure(&server, &tiny, plan.full));
    }

    report.finish();
}

/// Per-sample times (µs per call) of each criterion bench, by name.
type Recorded = Vec<(String, Vec<f64>)>;

/// Criterion: per-call latency of the tiny streamed reply (raw SDK,
/// `converse_with`, `converse_with_on_runtime`), and of the same reply through
/// `converse`. Each routine also keeps its own per-sample times,
/// so that the summary table can quote criterion's medians.
fn per_call(
    converser: &bedrock_converse::Converser,
    client: &aws_sdk_bedrockruntime::Client,
    ct: &tokio::runtime::Runtime,
    req: &bedrock_converse::ConverseRequest,
    raw_req: &RawRequest,
) -> Recorded {
    let samples = 60;
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(samples)
        .nresamples(20_000)
        .configure_from_args();
    let recorded: Arc<Mutex<Recorded>> = Arc::default();
    {
        let mut group = c.benchmark_group("per_call");
        let mut bench = |name: &str, call: &mut dyn FnMut()| {
            let times = Arc::new(Mutex::new(Vec::new()));
            let t = times.clone();
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        call();
                    }
                    let elapsed = start.elapsed();
                    t.lock().unwrap().push(micros(elapsed) / iters as f64);
                    elapsed
                })
            });
            // Warm-up calls come first; the last `samples` are the measurement.
            let mut all = times.lock().unwrap().clone();
            let keep = all.len().saturating_sub(samples);
            all.drain(..keep);
            recorded.lock().unwrap().push((name.to_owned(), all));
        };
        bench("raw_sdk_converse_stream", &mut || {
            let mut touch = Touch::default();
            ct.block_on(raw_stream(client, raw_req, &mut touch));
            assert_eq!(touch.deltas, TINY_DELTAS as u64);
        });
        bench("wrapper_converse_with", &mut || {
            let mut touch = Touch::default();
            Path::With.stream(converser, req, &mut touch);
            assert_eq!(touch.deltas, TINY_DELTAS as u64);
        });
        bench("wrapper_converse_with_on_runtime", &mut || {
            let mut touch = Touch::default();
            Path::Send.stream(converser, req, &mut touch);
            assert_eq!(touch.deltas, TINY_DELTAS as u64);
        });
        bench("raw_sdk_converse", &mut || {
            assert_eq!(ct.block_on(raw_converse(client, raw_req)), TINY_TEXT.len());
        });
        bench("wrapper_converse", &mut || {
            let reply = converser.converse(req).expect("wrapper converse");
            // Summed like `raw_converse`, without copying the text.
            let len: usize = reply
                .content()
                .iter()
                .map(|b| b.as_text().map(|t| t.len()).unwrap_or(0))
                .sum();
            assert_eq!(len, TINY_TEXT.len());
        });
        group.finish();
    }
    c.final_summary();
    Arc::try_unwrap(recorded)
        .map(|m| m.into_inner().unwrap())
        .unwrap_or_default()
}

/// The raw HTTP reader on the same endpoint: calls/s of the tiny reply with
/// 1, 8 and 64 connections, and the long reply's frames/s and wire MB/s.
fn capacity(server: &MockServer, long: &Reply, tiny: &Reply, plan: Plan) -> Value {
    let addr = server.addr();
    let warm = plan.pick(Duration::from_millis(300), Duration::from_millis(50));
    let run = plan.pick(Duration::from_secs(2), Duration::from_millis(200));
    let mut calls = serde_json::Map::new();
    for n in [1usize, 8, 64] {
        let rate = reader::calls_per_second(addr, n, warm, run);
        calls.insert(n.to_string(), json!(rate));
    }
    server.set_default(long.clone());
    let rt = current_thread_runtime();
    let rounds = plan.pick(5, 1);
    let (mut rates, mut wire) = (Vec::new(), Vec::new());
    rt.block_on(async {
        let mut r = reader::Reader::connect(addr).await;
        r.stream().await; // warm
        for _ in 0..rounds {
            let t = Instant::now();
            let read = r.stream().await;
            let s = t.elapsed().as_secs_f64();
            assert_eq!(read.frames as usize, LONG_DELTAS + 4);
            rates.push(read.frames as f64 / s);
            wire.push(read.bytes as f64 / s / 1e6);
        }
    });
    server.set_default(tiny.clone());
    json!({
        "tiny_calls_per_s": calls,
        "long_events_per_s": median(&rates),
        "long_wire_mb_per_s": median(&wire),
    })
}

/// Streaming throughput of the long reply: rounds rotate the order of the
/// three sides (raw SDK, `converse_with`, `converse_with_on_runtime`), medians
/// reported.
fn throughput(
    converser: &bedrock_converse::Converser,
    client: &aws_sdk_bedrockruntime::Client,
    ct: &tokio::runtime::Runtime,
    req: &bedrock_converse::ConverseRequest,
    raw_req: &RawRequest,
    plan: Plan,
) -> Value {
    let rounds = plan.pick(7, 1);
    // Per side (raw, converse_with, converse_with_on_runtime): (events/s, MB/s,
    // client CPU µs per event) of each round.
    let mut sides: [Vec<(f64, f64, f64)>; 3] = Default::default();
    // One warm-up call each.
    ct.block_on(raw_stream(client, raw_req, &mut Touch::default()));
    Path::With.stream(converser, req, &mut Touch::default());
    Path::Send.stream(converser, req, &mut Touch::default());
    for round in 0..rounds {
        // Rotate the order so that no side always runs first.
        for k in 0..3 {
            let side = (k + round) % 3;
            let mut touch = Touch::default();
            // The CPU counter reads /proc for every thread: read it before
            // the clock starts (and after it stops, below).
            let cpu = client_cpu_ns();
            let t = Instant::now();
            match side {
                0 => ct.block_on(raw_stream(client, raw_req, &mut touch)),
                1 => Path::With.stream(converser, req, &mut touch),
                _ => Path::Send.stream(converser, req, &mut touch),
            }
            let (s, cpu) = (t.elapsed().as_secs_f64(), client_cpu_ns() - cpu);
            assert_eq!(touch.deltas, LONG_DELTAS as u64);
            sides[side].push((
                touch.events as f64 / s,
                touch.bytes as f64 / s / 1e6,
                cpu as f64 / 1e3 / touch.events as f64,
            ));
        }
    }
    let summary = |v: &[(f64, f64, f64)]| {
        let events: Vec<f64> = v.iter().map(|f| f.0).collect();
        let mb: Vec<f64> = v.iter().map(|f| f.1).collect();
        let cpu: Vec<f64> = v.iter().map(|f| f.2).collect();
        json!({
            "events_per_s": median(&events),
            "mb_per_s": median(&mb),
            "client_cpu_us_per_event": median(&cpu),
            "rounds": events,
        })
    };
    json!({
        "raw": summary(&sides[0]),
        "wrapper": summary(&sides[1]),
        "wrapper_send": summary(&sides[2]),
    })
}

/// Calls/s of callers looping on the tiny reply, counted over `run` after
/// `warm`, and the client's CPU time per call (µs) meanwhile.
fn count_calls(
    warm: Duration,
    run: Duration,
    spawn: impl FnOnce(Arc<AtomicU64>, Arc<AtomicBool>) -> Box<dyn FnOnce()>,
) -> (f64, f64) {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let join = spawn(done.clone(), stop.clone());
    thread::sleep(warm);
    let (n0, t0, c0) = (
        done.load(Ordering::Relaxed),
        Instant::now(),
        client_cpu_ns(),
    );
    thread::sleep(run);
    let (n1, t1, c1) = (
        done.load(Ordering::Relaxed),
        Instant::now(),
        client_cpu_ns(),
    );
    stop.store(true, Ordering::Relaxed);
    join();
    let calls = (n1 - n0).max(1) as f64;
    (
        calls / (t1 - t0).as_secs_f64(),
        (c1 - c0) as f64 / 1e3 / calls,
    )
}

/// `n` threads sharing one `Converser`, each looping on `path`.
fn wrapper_threads(
    converser: &bedrock_converse::Converser,
    req: &bedrock_converse::ConverseRequest,
    path: Path,
    n: usize,
    warm: Duration,
    run: Duration,
) -> (f64, f64) {
    count_calls(warm, run, |done, stop| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (c, r, done, stop) =
                    (converser.clone(), req.clone(), done.clone(), stop.clone());
                thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let mut touch = Touch::default();
                        path.stream(&c, &r, &mut touch);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        Box::new(move || {
            handles
                .into_iter()
                .for_each(|h| h.join().expect("caller thread"))
        })
    })
}

fn raw_tasks(
    config: &aws_sdk_bedrockruntime::Config,
    raw_req: &RawRequest,
    n: usize,
    multi: bool,
    warm: Duration,
    run: Duration,
) -> (f64, f64) {
    let config = config.clone();
    let raw_req = raw_req.clone();
    count_calls(warm, run, move |done, stop| {
        let handle = thread::spawn(move || {
            let rt = if multi {
                multi_thread_runtime()
            } else {
                current_thread_runtime()
            };
            rt.block_on(async move {
                let client = raw_client(config);
                let tasks: Vec<_> = (0..n)
                    .map(|_| {
                        let (client, raw_req, done, stop) =
                            (client.clone(), raw_req.clone(), done.clone(), stop.clone());
                        tokio::spawn(async move {
                            while !stop.load(Ordering::Relaxed) {
                                let mut touch = Touch::default();
                                raw_stream(&client, &raw_req, &mut touch).await;
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("raw task");
                }
            });
        });
        Box::new(move || handle.join().expect("runtime thread"))
    })
}

/// 1, 8 and 64 threads sharing one `Converser` (through `converse_with`, and
/// through `converse_with_on_runtime`) vs the raw SDK with as many tasks on a
/// multi-thread runtime (`#[tokio::main]`'s) and on a current-thread runtime;
/// rounds in rotated order, medians.
fn concurrency(
    converser: &bedrock_converse::Converser,
    config: &aws_sdk_bedrockruntime::Config,
    req: &bedrock_converse::ConverseRequest,
    raw_req: &RawRequest,
    plan: Plan,
) -> Value {
    let warm = plan.pick(Duration::from_millis(300), Duration::from_millis(50));
    let run = plan.pick(Duration::from_secs(1), Duration::from_millis(200));
    let rounds = plan.pick(4, 1);
    let mut out = serde_json::Map::new();
    for n in [1usize, 8, 64] {
        // Per side: (calls/s, client CPU µs per call) of each round.
        let mut sides: [Vec<(f64, f64)>; 4] = Default::default();
        for round in 0..rounds {
            // Rotate the order so that no side always runs first.
            for k in 0..4 {
                let side = (k + round) % 4;
                let figures = match side {
                    0 => wrapper_threads(converser, req, Path::With, n, warm, run),
                    1 => raw_tasks(config, raw_req, n, true, warm, run),
                    2 => raw_tasks(config, raw_req, n, false, warm, run),
                    _ => wrapper_threads(converser, req, Path::Send, n, warm, run),
                };
                sides[side].push(figures);
            }
        }
        let summary = |v: &[(f64, f64)]| {
            let calls: Vec<f64> = v.iter().map(|f| f.0).collect();
            let cpu: Vec<f64> = v.iter().map(|f| f.1).collect();
            json!({ "calls_per_s": median(&calls), "client_cpu_us_per_call": median(&cpu), "rounds": calls })
        };
        out.insert(
            n.to_string(),
            json!({
                "wrapper_threads": summary(&sides[0]),
                "raw_tasks_multi_thread": summary(&sides[1]),
                "raw_tasks_current_thread": summary(&sides[2]),
                "wrapper_send_threads": summary(&sides[3]),
            }),
        );
    }
    Value::Object(out)
}

/// Delay from the SDK receiving each event's bytes to the consumer seeing the
/// event (the raw SDK's `recv` returning it, or the wrapper's handler
/// callback: on the calling thread for `converse_with`, on the runtime thread
/// for `converse_with_on_runtime`), on a reply paced at one frame per millisecond
/// (so each event arrives alone and finds its reader waiting, as LLM tokens
/// do).
fn delay(
    server: &MockServer,
    req: &bedrock_converse::ConverseRequest,
    raw_req: &RawRequest,
    plan: Plan,
) -> Value {
    let deltas = plan.pick(1000, 50);
    server.set_default(
        Reply::text(prose(deltas * 8))
            .deltas(deltas)
            .usage(25, deltas as u32)
            .frame_delay(Duration::from_millis(1)),
    );
    let stamps = stamps::FrameStamps::default();
    let config = sdk_config_builder(&server.endpoint())
        .interceptor(stamps::StampInterceptor(stamps.clone()))
        .build();
    let converser = wrapper(config.clone());
    let client = raw_client(config);
    let ct = current_thread_runtime();

    /// Notes the time of every callback (`Send`, so it serves both paths).
    struct Seen(Vec<Instant>);
    impl bedrock_converse::StreamHandler for Seen {
        fn on_message_start(
            &mut self,
            _: &bedrock_converse::model::Role,
        ) -> std::ops::ControlFlow<()> {
            self.0.push(Instant::now());
            ControlFlow::Continue(())
        }
        fn on_delta(&mut self, _: u32, _: &bedrock_converse::Delta) -> std::ops::ControlFlow<()> {
            self.0.push(Instant::now());
            ControlFlow::Continue(())
        }
        fn on_block_stop(&mut self, _: u32) -> std::ops::ControlFlow<()> {
            self.0.push(Instant::now());
            ControlFlow::Continue(())
        }
        fn on_stop(&mut self, _: &bedrock_converse::stream::Stop) -> std::ops::ControlFlow<()> {
            self.0.push(Instant::now());
            ControlFlow::Continue(())
        }
        fn on_metadata(
            &mut self,
            _: &bedrock_converse::stream::Metadata,
        ) -> std::ops::ControlFlow<()> {
            self.0.push(Instant::now());
            ControlFlow::Continue(())
        }
    }

    let rounds = plan.pick(3, 1);
    // Per side (raw, converse_with, converse_with_on_runtime): every event's delay.
    let mut sides: [Vec<f64>; 3] = Default::default();
    for round in 0..rounds {
        // Rotate the order so that no side always runs first.
        for k in 0..3 {
            let side = (k + round) % 3;
            stamps.take();
            let seen = match side {
                0 => {
                    let mut seen = Vec::with_capacity(deltas + 8);
                    ct.block_on(raw_stream_each(&client, raw_req, |_event| {
                        seen.push(Instant::now())
                    }));
                    seen
                }
                _ => {
                    let path = if side == 1 { Path::With } else { Path::Send };
                    let mut seen = Seen(Vec::with_capacity(deltas + 8));
                    path.call(&converser, req, &mut seen)
                        .unwrap_or_else(|e| panic!("wrapper {} stream: {e:?}", path.name()));
                    seen.0
                }
            };
            let got = stamps.take();
            assert_eq!(got.len(), seen.len(), "one stamp per event");
            assert_eq!(seen.len(), deltas + 4);
            sides[side].extend(
                got.iter()
                    .zip(&seen)
                    .map(|(g, s)| micros(s.saturating_duration_since(*g))),
            );
        }
    }
    let summary = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        json!({
            "events": v.len(),
            "p50_us": quantile(v, 0.5),
            "p90_us": quantile(v, 0.9),
            "p99_us": quantile(v, 0.99),
            "p999_us": quantile(v, 0.999),
            "max_us": v.last().copied().unwrap_or(f64::NAN),
        })
    };
    let [raw, wrap, send] = &mut sides;
    json!({
        "raw": summary(raw),
        "wrapper": summary(wrap),
        "wrapper_send": summary(send),
    })
}
