//! Collects the figures, prints each section as it ends and a summary table
//! with the ratios at the end, one row per wrapper path (`converse_with` and
//! `converse_with_on_runtime`), then the targets evaluated for each path on its
//! own, and writes them all as JSON to `target/bench-results/converse.json`
//! (read by `benches/chart.py`).

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Map, Value};

use crate::common::median;

/// One of the wrapper's two streaming calls: its labels, and its keys in
/// the JSON (`wrapper` is `converse_with`, kept from before
/// `converse_with_on_runtime` existed; `wrapper_send` is `converse_with_on_runtime`).
struct WrapperPath {
    short: &'static str,
    long: &'static str,
    /// Its criterion bench in `per_call`.
    per_call: &'static str,
    /// Its side in `throughput` and `delay`.
    side: &'static str,
    /// Its side in `concurrency`.
    threads: &'static str,
}

const PATHS: [WrapperPath; 2] = [
    WrapperPath {
        short: "converse_with",
        long: "converse_with (handler on your thread)",
        per_call: "wrapper_converse_with",
        side: "wrapper",
        threads: "wrapper_threads",
    },
    WrapperPath {
        short: "converse_with_on_runtime",
        long: "converse_with_on_runtime (handler on the runtime thread)",
        per_call: "wrapper_converse_with_on_runtime",
        side: "wrapper_send",
        threads: "wrapper_send_threads",
    },
];

pub struct Report {
    full: bool,
    results: Map<String, Value>,
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .next()
        .map(str::to_owned)
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu": cpu,
        "memory_gib": (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "kernel": first_line("uname", &["-sr"]),
        "rustc": first_line("rustc", &["--version"]),
        "date": first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "loadavg_start": loadavg(),
    })
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn pass(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

impl Report {
    pub fn new(full: bool) -> Report {
        let mut results = Map::new();
        results.insert("machine".into(), machine());
        results.insert(
            "mode".into(),
            json!(if full {
                "cargo bench"
            } else {
                "smoke (cargo test --benches)"
            }),
        );
        Report { full, results }
    }

    fn put(&mut self, key: &str, value: Value) {
        println!(
            "\n[{key}] {}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        self.results.insert(key.into(), value);
    }

    fn get(&self, path: &[&str]) -> &Value {
        let mut v = self.results.get(path[0]).unwrap_or(&Value::Null);
        for key in &path[1..] {
            v = v.get(key).unwrap_or(&Value::Null);
        }
        v
    }

    pub fn latency(&mut self, recorded: Vec<(String, Vec<f64>)>) {
        let mut out = Map::new();
        for (name, samples) in recorded {
            if samples.is_empty() {
                continue;
            }
            let mean = samples.iter().sum::<f64>() / samples.len() as f64;
            out.insert(
                name,
                json!({ "median_us": median(&samples), "mean_us": mean, "samples": samples.len() }),
            );
        }
        self.put("per_call", Value::Object(out));
    }

    pub fn python_latency(&mut self, v: Value) {
        self.put("python_per_call", v);
    }

    pub fn capacity(&mut self, v: Value) {
        self.put("server_capacity", v);
    }

    pub fn throughput(&mut self, v: Value) {
        self.put("throughput", v);
    }

    pub fn python_throughput(&mut self, v: Value) {
        self.put("python_throughput", v);
    }

    pub fn concurrency(&mut self, v: Value) {
        self.put("concurrency", v);
    }

    pub fn python_concurrency(&mut self, v: Value) {
        self.put("python_concurrency", v);
    }

    pub fn delay(&mut self, v: Value) {
        self.put("delay", v);
    }

    pub fn memory(&mut self, v: Value) {
        self.put("memory", v);
    }

    /// The targets of issue 5, evaluated for one of the wrapper's two
    /// streaming calls: (what, the figure, met?) each; `None` when the
    /// section was not run (or, for the Python target, Python was skipped).
    fn targets(&self, path: &WrapperPath) -> Vec<(&'static str, String, Option<bool>)> {
        let known = |x: f64| (!x.is_nan()).then_some(x);
        let raw_s = f(self.get(&["per_call", "raw_sdk_converse_stream", "median_us"]));
        let over = known(f(self.get(&["per_call", path.per_call, "median_us"])) - raw_s);
        let raw_e = f(self.get(&["throughput", "raw", "events_per_s"]));
        let w_e = f(self.get(&["throughput", path.side, "events_per_s"]));
        let py_e = f(self.get(&["python_throughput", "events_per_s"]));
        let thr = known(w_e / raw_e);
        let vs_py = known(w_e / py_e);
        let best64 = self.best_raw("64");
        let c64 = known(f(self.get(&["concurrency", "64", path.threads, "calls_per_s"])) / best64);
        let p99 = known(f(self.get(&["delay", path.side, "p99_us"])));
        let show = |x: Option<f64>, fmt: &dyn Fn(f64) -> String| x.map_or("-".to_owned(), fmt);
        vec![
            (
                "per-call overhead <= 50 µs over raw SDK",
                show(over, &|x| format!("{x:+.1} µs")),
                over.map(|x| x <= 50.0),
            ),
            (
                "streaming throughput >= 0.95x raw SDK",
                show(thr, &|x| format!("{x:.3}x")),
                thr.map(|x| x >= 0.95),
            ),
            (
                "64 threads >= 0.9x raw SDK's 64 tasks",
                show(c64, &|x| format!("{x:.3}x")),
                c64.map(|x| x >= 0.9),
            ),
            (
                "event-to-handler delay p99 <= 100 µs",
                show(p99, &|x| format!("{x:.1} µs")),
                p99.map(|x| x <= 100.0),
            ),
            (
                ">= 10x Python's streaming events/s",
                show(vs_py, &|x| format!("{x:.1}x")),
                vs_py.map(|x| x >= 10.0),
            ),
        ]
    }

    /// The raw SDK's better calls/s of its two runtimes with `n` tasks.
    fn best_raw(&self, n: &str) -> f64 {
        let mt = f(self.get(&["concurrency", n, "raw_tasks_multi_thread", "calls_per_s"]));
        let ct = f(self.get(&["concurrency", n, "raw_tasks_current_thread", "calls_per_s"]));
        mt.max(ct)
    }

    /// Prints the summary and writes the JSON file.
    pub fn finish(mut self) {
        if let Some(Value::Object(m)) = self.results.get_mut("machine") {
            m.insert("loadavg_end".into(), json!(loadavg()));
        }
        let mut lines = Vec::new();
        // The cells after the first: raw, wrapper, ratio, Python, vs Python, target.
        let mut row = |what: &str, cells: [String; 6]| {
            let [raw, wrapper, ratio, python, vs_py, target] = cells;
            let line = format!(
                "{what:<44} {raw:>12} {wrapper:>12} {ratio:>12} {python:>12} {vs_py:>12}  {target}"
            );
            lines.push(line.trim_end().to_owned());
        };
        row(
            "",
            [
                "raw SDK".into(),
                "wrapper".into(),
                "wrapper/raw".into(),
                "Python".into(),
                "wrapper/Py".into(),
                "target".into(),
            ],
        );
        let r = |x: f64, d: usize| {
            if x.is_nan() {
                "-".to_owned()
            } else {
                format!("{x:.d$}")
            }
        };
        let ratio = |a: f64, b: f64| {
            if a.is_nan() || b.is_nan() {
                "-".to_owned()
            } else {
                format!("{:.3}x", a / b)
            }
        };
        let check = |x: f64, ok: bool| if x.is_nan() { "-" } else { pass(ok) };
        // Items 1 to 4 get one row per wrapper path under a heading row.
        let sub = |p: &WrapperPath| format!("  {}", p.short);

        // 1. Per call.
        let raw_s = f(self.get(&["per_call", "raw_sdk_converse_stream", "median_us"]));
        let py_s = f(self.get(&["python_per_call", "stream_median_us"]));
        row("1. per call, streamed, median (µs)", Default::default());
        for p in &PATHS {
            let w = f(self.get(&["per_call", p.per_call, "median_us"]));
            let over = w - raw_s;
            row(
                &sub(p),
                [
                    r(raw_s, 1),
                    r(w, 1),
                    ratio(w, raw_s),
                    r(py_s, 1),
                    ratio(w, py_s),
                    format!(
                        "overhead {} µs (<= 50: {})",
                        r(over, 1),
                        check(over, over <= 50.0)
                    ),
                ],
            );
        }
        let raw_c = f(self.get(&["per_call", "raw_sdk_converse", "median_us"]));
        let wr_c = f(self.get(&["per_call", "wrapper_converse", "median_us"]));
        let py_c = f(self.get(&["python_per_call", "converse_median_us"]));
        row(
            "1. per call, converse, median (µs)",
            [
                r(raw_c, 1),
                r(wr_c, 1),
                ratio(wr_c, raw_c),
                r(py_c, 1),
                ratio(wr_c, py_c),
                format!("overhead {} µs", r(wr_c - raw_c, 1)),
            ],
        );
        // 2. Throughput.
        let raw_e = f(self.get(&["throughput", "raw", "events_per_s"]));
        let raw_m = f(self.get(&["throughput", "raw", "mb_per_s"]));
        let py_e = f(self.get(&["python_throughput", "events_per_s"]));
        let py_m = f(self.get(&["python_throughput", "mb_per_s"]));
        for (what, key, raw, py, d) in [
            (
                "2. throughput, 20,000 deltas (events/s)",
                "events_per_s",
                raw_e,
                py_e,
                0,
            ),
            (
                "2. throughput, delta text (MB/s)",
                "mb_per_s",
                raw_m,
                py_m,
                2,
            ),
        ] {
            row(what, Default::default());
            for p in &PATHS {
                let w = f(self.get(&["throughput", p.side, key]));
                let target = if key == "events_per_s" {
                    format!(
                        ">= 0.95x raw: {}; >= 10x Python: {}",
                        check(w / raw, w / raw >= 0.95),
                        check(w / py, w / py >= 10.0)
                    )
                } else {
                    String::new()
                };
                row(
                    &sub(p),
                    [
                        r(raw, d),
                        r(w, d),
                        ratio(w, raw),
                        r(py, d),
                        ratio(w, py),
                        target,
                    ],
                );
            }
        }
        // 3. Concurrency.
        for n in ["1", "8", "64"] {
            let best = self.best_raw(n);
            let py = f(self.get(&["python_concurrency", "calls_per_s", n]));
            row(
                &format!("3. {n} threads / tasks (calls/s, best raw)"),
                Default::default(),
            );
            for p in &PATHS {
                let w = f(self.get(&["concurrency", n, p.threads, "calls_per_s"]));
                let target = if n == "64" {
                    format!(">= 0.9x best raw: {}", check(w / best, w / best >= 0.9))
                } else {
                    String::new()
                };
                row(
                    &sub(p),
                    [
                        r(best, 0),
                        r(w, 0),
                        ratio(w, best),
                        r(py, 0),
                        ratio(w, py),
                        target,
                    ],
                );
            }
        }
        // 4. Delay.
        for q in ["p50_us", "p99_us"] {
            let raw = f(self.get(&["delay", "raw", q]));
            row(
                &format!("4. event-to-handler delay {} (µs)", &q[..3]),
                Default::default(),
            );
            for p in &PATHS {
                let w = f(self.get(&["delay", p.side, q]));
                let target = if q == "p99_us" {
                    format!("<= 100 µs: {}", check(w, w <= 100.0))
                } else {
                    String::new()
                };
                let over = if (w - raw).is_nan() {
                    "-".to_owned()
                } else {
                    format!("{:+.1} µs", w - raw)
                };
                row(
                    &sub(p),
                    [r(raw, 1), r(w, 1), over, "-".into(), "-".into(), target],
                );
            }
        }
        // 5. Memory.
        let mib = |v: &Value| f(v) / 1024.0;
        let calls = self.get(&["memory", "calls"]).as_u64().unwrap_or(0);
        for (what, kind, field) in [
            (
                format!("5. RSS after {calls} calls (MiB)"),
                "calls",
                "rss_kib",
            ),
            (
                "5. peak RSS, 10 MiB streamed reply (MiB)".to_owned(),
                "stream",
                "hwm_kib",
            ),
        ] {
            let raw = mib(self.get(&["memory", &format!("{kind}_raw"), field]));
            row(&what, Default::default());
            for p in &PATHS {
                let w = mib(self.get(&["memory", &format!("{kind}_{}", p.side), field]));
                row(
                    &sub(p),
                    [
                        r(raw, 1),
                        r(w, 1),
                        ratio(w, raw),
                        "-".into(),
                        "-".into(),
                        String::new(),
                    ],
                );
            }
        }
        let cap = |k: &str| f(self.get(&["server_capacity", "tiny_calls_per_s", k]));
        let cap_line = format!(
            "server capacity (raw HTTP reader, no SDK): tiny reply {} / {} / {} calls/s with 1 / 8 / 64 connections; \
             20,000-delta reply {} events/s, {} MB/s on the wire",
            r(cap("1"), 0),
            r(cap("8"), 0),
            r(cap("64"), 0),
            r(f(self.get(&["server_capacity", "long_events_per_s"])), 0),
            r(f(self.get(&["server_capacity", "long_wire_mb_per_s"])), 1),
        );

        let machine = self.get(&["machine"]).clone();
        println!(
            "\n== bedrock-converse benchmarks ({}) ==\nmachine: {} cores, {}, {} GiB; {}; {}; load average {} -> {}\n",
            self.results["mode"].as_str().unwrap_or(""),
            machine["nproc"],
            machine["cpu"].as_str().unwrap_or("?"),
            machine["memory_gib"],
            machine["rustc"].as_str().unwrap_or("?"),
            machine["date"].as_str().unwrap_or("?"),
            machine["loadavg_start"].as_str().unwrap_or("?"),
            machine["loadavg_end"].as_str().unwrap_or("?"),
        );
        println!("wrapper rows, the same handler through each of its streaming calls:");
        for p in &PATHS {
            println!("  {}", p.long);
        }
        println!("(item 1's `converse` row is the wrapper's `converse`)\n");
        for l in &lines {
            println!("{l}");
        }

        // The targets, for each path on its own.
        let mut targets = Map::new();
        for p in &PATHS {
            println!("\ntargets, {}:", p.long);
            let mut json_targets = Map::new();
            for (what, figure, met) in self.targets(p) {
                let verdict = match met {
                    Some(ok) => pass(ok),
                    None => "not measured",
                };
                println!("  {what:<42} {figure:>12}  {verdict}");
                json_targets.insert(what.into(), json!({ "figure": figure, "met": met }));
            }
            targets.insert(p.short.into(), Value::Object(json_targets));
        }
        self.results
            .insert("targets".into(), Value::Object(targets));

        println!("\n{cap_line}");
        if self.results.contains_key("concurrency") {
            println!("\nconcurrency detail: calls/s (client CPU µs per call)");
            println!(
                "{:>8} {:>22} {:>22} {:>22} {:>22} {:>10}",
                "callers",
                "converse_with threads",
                "with_send threads",
                "raw multi-thread",
                "raw current-thread",
                "Python"
            );
            for n in ["1", "8", "64"] {
                let cell = |side: &str| {
                    format!(
                        "{} ({})",
                        r(f(self.get(&["concurrency", n, side, "calls_per_s"])), 0),
                        r(
                            f(self.get(&["concurrency", n, side, "client_cpu_us_per_call"])),
                            1
                        )
                    )
                };
                println!(
                    "{n:>8} {:>22} {:>22} {:>22} {:>22} {:>10}",
                    cell("wrapper_threads"),
                    cell("wrapper_send_threads"),
                    cell("raw_tasks_multi_thread"),
                    cell("raw_tasks_current_thread"),
                    r(f(self.get(&["python_concurrency", "calls_per_s", n])), 0),
                );
            }
        }
        if self.results.contains_key("throughput") {
            let cpu = |side: &str| f(self.get(&["throughput", side, "client_cpu_us_per_event"]));
            println!(
                "\nthroughput: client CPU per event {} µs raw SDK, {} µs converse_with ({}), {} µs converse_with_on_runtime ({})",
                r(cpu("raw"), 3),
                r(cpu("wrapper"), 3),
                ratio(cpu("wrapper"), cpu("raw")),
                r(cpu("wrapper_send"), 3),
                ratio(cpu("wrapper_send"), cpu("raw")),
            );
        }

        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
            .join("bench-results");
        let file = dir.join(if self.full {
            "converse.json"
        } else {
            "converse-smoke.json"
        });
        let written = std::fs::create_dir_all(&dir).and_then(|_| {
            std::fs::write(
                &file,
                serde_json::to_string_pretty(&Value::Object(self.results)).unwrap_or_default(),
            )
        });
        match written {
            Ok(()) => println!("\nfigures written to {}", file.display()),
            Err(e) => eprintln!("could not write {}: {e}", file.display()),
        }
    }
}
