//! Collects the figures, prints each section as it ends and a summary table
//! with the ratios and targets at the end, and writes them all as JSON to
//! `target/bench-results/converse.json` (read by `benches/chart.py`).

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Map, Value};

use crate::common::median;

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

    /// Prints the summary and writes the JSON file.
    pub fn finish(mut self) {
        if let Some(Value::Object(m)) = self.results.get_mut("machine") {
            m.insert("loadavg_end".into(), json!(loadavg()));
        }
        let mut lines = Vec::new();
        let mut row = |what: &str,
                       raw: String,
                       wrapper: String,
                       ratio: String,
                       python: String,
                       vs_py: String,
                       target: String| {
            lines.push(format!(
                "{what:<44} {raw:>12} {wrapper:>12} {ratio:>12} {python:>12} {vs_py:>12}  {target}"
            ));
        };
        row(
            "",
            "raw SDK".into(),
            "wrapper".into(),
            "wrapper/raw".into(),
            "Python".into(),
            "wrapper/Py".into(),
            "target".into(),
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

        // 1. Per call.
        let raw_s = f(&self
            .get(&["per_call", "raw_sdk_converse_stream", "median_us"])
            .clone());
        let wr_s = f(self.get(&["per_call", "wrapper_converse_with", "median_us"]));
        let raw_c = f(self.get(&["per_call", "raw_sdk_converse", "median_us"]));
        let wr_c = f(self.get(&["per_call", "wrapper_converse", "median_us"]));
        let py_s = f(self.get(&["python_per_call", "stream_median_us"]));
        let py_c = f(self.get(&["python_per_call", "converse_median_us"]));
        let over_s = wr_s - raw_s;
        row(
            "1. per call, streamed, median (µs)",
            r(raw_s, 1),
            r(wr_s, 1),
            ratio(wr_s, raw_s),
            r(py_s, 1),
            ratio(wr_s, py_s),
            format!(
                "overhead {} µs (<= 50: {})",
                r(over_s, 1),
                pass(over_s <= 50.0)
            ),
        );
        row(
            "1. per call, converse, median (µs)",
            r(raw_c, 1),
            r(wr_c, 1),
            ratio(wr_c, raw_c),
            r(py_c, 1),
            ratio(wr_c, py_c),
            format!("overhead {} µs", r(wr_c - raw_c, 1)),
        );
        // 2. Throughput.
        let raw_e = f(self.get(&["throughput", "raw", "events_per_s"]));
        let wr_e = f(self.get(&["throughput", "wrapper", "events_per_s"]));
        let raw_m = f(self.get(&["throughput", "raw", "mb_per_s"]));
        let wr_m = f(self.get(&["throughput", "wrapper", "mb_per_s"]));
        let py_e = f(self.get(&["python_throughput", "events_per_s"]));
        let py_m = f(self.get(&["python_throughput", "mb_per_s"]));
        row(
            "2. throughput, 20,000 deltas (events/s)",
            r(raw_e, 0),
            r(wr_e, 0),
            ratio(wr_e, raw_e),
            r(py_e, 0),
            ratio(wr_e, py_e),
            format!(
                ">= 0.95x raw: {}; >= 10x Python: {}",
                pass(wr_e / raw_e >= 0.95),
                if py_e.is_nan() {
                    "-"
                } else {
                    pass(wr_e / py_e >= 10.0)
                }
            ),
        );
        row(
            "2. throughput, delta text (MB/s)",
            r(raw_m, 2),
            r(wr_m, 2),
            ratio(wr_m, raw_m),
            r(py_m, 2),
            ratio(wr_m, py_m),
            String::new(),
        );
        // 3. Concurrency.
        for n in ["1", "8", "64"] {
            let mt = f(self.get(&["concurrency", n, "raw_tasks_multi_thread", "calls_per_s"]));
            let ct = f(self.get(&["concurrency", n, "raw_tasks_current_thread", "calls_per_s"]));
            let best = mt.max(ct);
            let w = f(self.get(&["concurrency", n, "wrapper_threads", "calls_per_s"]));
            let py = f(self.get(&["python_concurrency", "calls_per_s", n]));
            let target = if n == "64" {
                format!(">= 0.9x best raw: {}", pass(w / best >= 0.9))
            } else {
                String::new()
            };
            row(
                &format!("3. {n} threads / tasks (calls/s, best raw)"),
                r(best, 0),
                r(w, 0),
                ratio(w, best),
                r(py, 0),
                ratio(w, py),
                target,
            );
        }
        // 4. Delay.
        for q in ["p50_us", "p99_us"] {
            let raw = f(self.get(&["delay", "raw", q]));
            let w = f(self.get(&["delay", "wrapper", q]));
            let target = if q == "p99_us" {
                format!("<= 100 µs: {}", pass(w <= 100.0))
            } else {
                String::new()
            };
            row(
                &format!("4. event-to-caller delay {} (µs)", &q[..3]),
                r(raw, 1),
                r(w, 1),
                format!("+{} µs", r(w - raw, 1)),
                "-".into(),
                "-".into(),
                target,
            );
        }
        // 5. Memory.
        let mib = |v: &Value| f(v) / 1024.0;
        let calls = self.get(&["memory", "calls"]).as_u64().unwrap_or(0);
        let raw_rss = mib(self.get(&["memory", "calls_raw", "rss_kib"]));
        let w_rss = mib(self.get(&["memory", "calls_wrapper", "rss_kib"]));
        row(
            &format!("5. RSS after {calls} calls (MiB)"),
            r(raw_rss, 1),
            r(w_rss, 1),
            ratio(w_rss, raw_rss),
            "-".into(),
            "-".into(),
            String::new(),
        );
        let raw_hwm = mib(self.get(&["memory", "stream_raw", "hwm_kib"]));
        let w_hwm = mib(self.get(&["memory", "stream_wrapper", "hwm_kib"]));
        row(
            "5. peak RSS, 10 MiB streamed reply (MiB)",
            r(raw_hwm, 1),
            r(w_hwm, 1),
            ratio(w_hwm, raw_hwm),
            "-".into(),
            "-".into(),
            String::new(),
        );
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
        for l in &lines {
            println!("{l}");
        }
        println!("\n{cap_line}");
        if self.results.contains_key("concurrency") {
            println!("\nconcurrency detail: calls/s (client CPU µs per call)");
            println!(
                "{:>8} {:>22} {:>22} {:>22} {:>10}",
                "callers", "wrapper threads", "raw multi-thread", "raw current-thread", "Python"
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
                    "{n:>8} {:>22} {:>22} {:>22} {:>10}",
                    cell("wrapper_threads"),
                    cell("raw_tasks_multi_thread"),
                    cell("raw_tasks_current_thread"),
                    r(f(self.get(&["python_concurrency", "calls_per_s", n])), 0),
                );
            }
        }
        if self.results.contains_key("throughput") {
            println!(
                "\nthroughput: client CPU per event {} µs raw SDK, {} µs wrapper ({})",
                r(
                    f(self.get(&["throughput", "raw", "client_cpu_us_per_event"])),
                    3
                ),
                r(
                    f(self.get(&["throughput", "wrapper", "client_cpu_us_per_event"])),
                    3
                ),
                ratio(
                    f(self.get(&["throughput", "wrapper", "client_cpu_us_per_event"])),
                    f(self.get(&["throughput", "raw", "client_cpu_us_per_event"]))
                ),
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
