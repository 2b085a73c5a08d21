//! Fleet benchmark: one poll round and one profile change over 10, 100 and 1000 simulated miners,
//! each answering after 50 ms. Reports wall time, CPU time and peak memory of the engine process.
//!
//! Run: `cargo bench -p bitaxe-core --bench fleet` (add `-- 10 100` to choose fleet sizes).
//! The simulated miners run in a separate child process, and each fleet size gets a fresh engine
//! process, so CPU and memory figures are the engine's own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::events::Event;
use bitaxe_core::schedule::Profile;
use bitaxe_core::{EngineHandle, EngineOptions};

const LATENCY_MS: u64 = 50;

fn main() {
    match std::env::var("BENCH_ROLE").as_deref() {
        Ok("sims") => sims(),
        Ok("engine") => engine(),
        _ => drive(),
    }
}

fn sizes() -> Vec<usize> {
    let picked: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if picked.is_empty() {
        vec![10, 100, 1000]
    } else {
        picked
    }
}

/// The parent: for each size, a sim process and an engine process; print a table.
fn drive() {
    let exe = std::env::current_exe().expect("bench exe");
    println!(
        "fleet benchmark: {LATENCY_MS} ms latency per miner request, engine in its own process"
    );
    println!(
        "{:>6} {:>8} | {:>11} {:>9} {:>9} | {:>13} {:>9} | {:>9}",
        "miners", "workers", "poll round", "cpu", "seed est.", "night change", "cpu", "peak RSS"
    );
    for n in sizes() {
        let mut sim = Command::new(&exe)
            .env("BENCH_ROLE", "sims")
            .env("BENCH_N", n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sims");
        let mut urls = Vec::new();
        let out = sim.stdout.take().expect("stdout");
        for line in BufReader::new(out).lines() {
            let line = line.expect("line");
            if line == "READY" {
                break;
            }
            urls.push(line);
        }
        let dir = tempfile::tempdir().expect("dir");
        let urls_file = dir.path().join("urls.txt");
        std::fs::write(&urls_file, urls.join("\n")).expect("urls");
        // The seed ran 5 workers; show that setting too where it matters.
        let worker_counts = if n == 100 { vec![5, n] } else { vec![n] };
        for workers in worker_counts {
            let result = Command::new(&exe)
                .env("BENCH_ROLE", "engine")
                .env("BENCH_URLS", &urls_file)
                .env("BENCH_WORKERS", workers.to_string())
                .output()
                .expect("engine");
            let text = String::from_utf8_lossy(&result.stdout);
            let v: Vec<f64> = text
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if v.len() < 5 {
                eprintln!(
                    "engine run failed: {text} {}",
                    String::from_utf8_lossy(&result.stderr)
                );
                continue;
            }
            let seed = n as f64 * LATENCY_MS as f64 / 5.0 / 1000.0;
            println!(
                "{n:>6} {workers:>8} | {:>9.3} s {:>7.3} s {:>7.2} s | {:>11.3} s {:>7.3} s | {:>6.1} MB",
                v[0], v[1], seed, v[2], v[3], v[4] / 1024.0
            );
        }
        if let Some(mut stdin) = sim.stdin.take() {
            let _ = stdin.write_all(b"done\n");
        }
        let _ = sim.kill();
        let _ = sim.wait();
    }
}

/// A child hosting N simulated miners with added latency; prints their URLs, then READY.
fn sims() {
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let miners = bitaxe_sim::fleet("bench", n, |_| {}).await.expect("sims");
        for m in &miners {
            m.set_faults(bitaxe_sim::Faults {
                latency_ms: LATENCY_MS,
                ..Default::default()
            });
            println!("{}", m.url());
        }
        println!("READY");
        let _ = std::io::stdout().flush();
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .ok();
        drop(miners);
    });
}

/// A child running the engine: prints "poll_s poll_cpu change_s change_cpu peak_kb".
fn engine() {
    let urls =
        std::fs::read_to_string(std::env::var("BENCH_URLS").expect("urls")).expect("read urls");
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    let miners: Vec<MinerConfig> = urls
        .lines()
        .enumerate()
        .map(|(i, u)| MinerConfig {
            profiles: Default::default(),
            name: format!("m{i}"),
            ip: u.to_string(),
            enabled: true,
            day_settings: None,
            night_settings: None,
            limits: None,
        })
        .collect();
    let n = miners.len();
    let config = Config {
        miners,
        check_interval: 3600.0,
        temp_check_interval: 3600.0,
        smooth_transition: false,
        max_workers: workers,
        timezone: "UTC".into(),
        ..Config::default()
    };
    config.save(&path).expect("config");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let out = rt.block_on(async {
        let mut opts = EngineOptions::new(&path);
        // Day at 12:00 UTC, so the first round finds every miner (at stock 525 MHz) needing day.
        opts.clock = Arc::new(bitaxe_core::clock::FakeClock::new(
            chrono::DateTime::from_timestamp(1_780_315_200, 0).expect("noon"),
        ));
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let engine = EngineHandle::start(opts).expect("engine");
        let mut rx = engine.subscribe();
        count(&mut rx, n, |e| matches!(e, Event::Sampled(_))).await;
        let poll = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
        // Let the first round's day transitions finish, then time a change to night.
        count(&mut rx, n, |e| {
            matches!(
                e,
                Event::TransitionDone { .. } | Event::TransitionFailed { .. }
            )
        })
        .await;
        let cpu1 = cpu_seconds();
        let t1 = Instant::now();
        engine.apply(Profile::night()).expect("apply");
        count(&mut rx, n, |e| {
            matches!(
                e,
                Event::TransitionDone { .. } | Event::TransitionFailed { .. }
            )
        })
        .await;
        let change = (t1.elapsed().as_secs_f64(), cpu_seconds() - cpu1);
        engine.shutdown(Duration::from_secs(10)).await;
        (poll, change)
    });
    println!(
        "{} {} {} {} {}",
        out.0 .0,
        out.0 .1,
        out.1 .0,
        out.1 .1,
        peak_rss_kb()
    );
}

async fn count(
    rx: &mut tokio::sync::broadcast::Receiver<Event>,
    n: usize,
    pred: impl Fn(&Event) -> bool,
) {
    let mut seen = 0;
    while seen < n {
        match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
            Ok(Ok(e)) if pred(&e) => seen += 1,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            _ => panic!("gave up after {seen} of {n}"),
        }
    }
}

/// User + system CPU seconds of this process (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory in KiB (Linux `VmHWM`; 0 elsewhere).
fn peak_rss_kb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}
