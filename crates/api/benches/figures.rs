//! The API's figures for the README (a measurement, not a test): `cargo bench -p bitaxe-api
//! --bench figures`.
//!
//! - overview latency: `GET /api/v1/overview` over HTTP (keep-alive, one client) with 100
//!   simulated miners polled every `BITAXE_FIG_POLL` seconds (default 2), p50/p90/p99/max;
//! - SSE fan-out: 10 clients on `/api/v1/events` while the engine streams the fleet's samples;
//!   for each event, the time from the engine publishing it to the last of the 10 clients
//!   receiving it (p50/p99/max) and the events per second each client got.
//!
//! Everything runs on loopback in this process (sims, engine, API), so the numbers include the
//! sims' and the clients' own CPU on the same cores. `BITAXE_FIG_MINERS`, `BITAXE_FIG_REQUESTS`
//! and `BITAXE_FIG_SECONDS` change the sizes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitaxe_api::{ApiOptions, ApiServer, RateCap, Tokens};
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::{EngineHandle, EngineOptions};
use futures::StreamExt;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it too: keep that one short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: usize = env_or("BITAXE_FIG_MINERS", 100);
    let requests: usize = env_or("BITAXE_FIG_REQUESTS", if quick { 50 } else { 2000 });
    let seconds: u64 = env_or("BITAXE_FIG_SECONDS", if quick { 2 } else { 15 });
    let poll: f64 = env_or("BITAXE_FIG_POLL", 2.0);

    let sims = bitaxe_sim::fleet("sim", n, |s| s.speed = 20.0)
        .await
        .expect("sims");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    let cfg = Config {
        miners: sims
            .iter()
            .map(|m| MinerConfig {
                profiles: Default::default(),
                name: m.name().to_string(),
                ip: m.url(),
                enabled: true,
                day_settings: None,
                night_settings: None,
                limits: None,
            })
            .collect(),
        check_interval: poll,
        temp_check_interval: poll,
        timezone: "UTC".into(),
        ..Config::default()
    };
    cfg.save(&path).expect("save");
    let engine = EngineHandle::start(EngineOptions::new(&path)).expect("engine");
    let (tokens, _) = Tokens::load_or_create(&path).expect("tokens");
    let options = ApiOptions {
        // The benchmark is one client asking as fast as it can.
        rate: RateCap {
            burst: 1_000_000.0,
            per_second: 1_000_000.0,
        },
        ..ApiOptions::default()
    };
    let server = ApiServer::start(
        engine.clone(),
        "127.0.0.1:0".parse().expect("addr"),
        tokens.clone(),
        options,
    )
    .await
    .expect("serve");
    let base = format!("http://{}", server.local_addr());
    let deadline = Instant::now() + Duration::from_secs(60);
    while engine.status().totals.online < n {
        assert!(Instant::now() < deadline, "the sims were not all polled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("{n} simulated miners online, polled every {poll} s");

    // Overview latency.
    let http = reqwest::Client::new();
    let url = format!("{base}/api/v1/overview");
    let mut times = Vec::with_capacity(requests);
    let mut bytes = 0;
    for i in 0..requests + 20 {
        let t = Instant::now();
        let r = http
            .get(&url)
            .bearer_auth(tokens.read())
            .send()
            .await
            .expect("send");
        assert!(r.status().is_success(), "{}", r.status());
        let body = r.bytes().await.expect("body");
        // The first few warm the connection and the allocator.
        if i >= 20 {
            times.push(t.elapsed());
            bytes = body.len();
        }
    }
    times.sort();
    println!(
        "overview over HTTP, {n} miners ({bytes} bytes), {requests} requests: p50 {} p90 {} p99 {} max {}",
        ms(pct(&times, 0.5)),
        ms(pct(&times, 0.9)),
        ms(pct(&times, 0.99)),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );

    // SSE fan-out to 10 clients.
    const CLIENTS: usize = 10;
    let published: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut bus = engine.subscribe();
    let log = published.clone();
    let recorder = tokio::spawn(async move {
        while let Ok(e) = bus.recv().await {
            if let Ok(json) = serde_json::to_string(&e) {
                log.lock().expect("lock").insert(json, Instant::now());
            }
        }
    });
    let received: Arc<Mutex<HashMap<String, Vec<Instant>>>> = Arc::default();
    let stop = Instant::now() + Duration::from_secs(seconds);
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let r = http
            .get(format!("{base}/api/v1/events"))
            .bearer_auth(tokens.read())
            .send()
            .await
            .expect("events");
        assert!(r.status().is_success());
        let got = received.clone();
        clients.push(tokio::spawn(async move {
            let mut body = r.bytes_stream();
            let mut buf = String::new();
            let mut count = 0usize;
            while Instant::now() < stop {
                let chunk = match tokio::time::timeout_at(stop.into(), body.next()).await {
                    Ok(Some(Ok(c))) => c,
                    _ => break,
                };
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                        got.lock()
                            .expect("lock")
                            .entry(data.to_string())
                            .or_default()
                            .push(now);
                        count += 1;
                    }
                }
            }
            count
        }));
    }
    let mut counts = Vec::new();
    for c in clients {
        counts.push(c.await.expect("client"));
    }
    recorder.abort();
    let published = published.lock().expect("lock").clone();
    let received = received.lock().expect("lock").clone();
    let mut fanout: Vec<Duration> = received
        .iter()
        .filter(|(_, at)| at.len() == CLIENTS)
        .filter_map(|(json, at)| {
            let sent = published.get(json)?;
            let last = at.iter().max()?;
            Some(last.saturating_duration_since(*sent))
        })
        .collect();
    fanout.sort();
    let per_client = counts.iter().sum::<usize>() as f64 / CLIENTS as f64 / seconds as f64;
    println!(
        "SSE fan-out to {CLIENTS} clients over {seconds} s: {:.0} events/s per client, {} events \
         seen by all {CLIENTS}; publish to last client p50 {} p99 {} max {}",
        per_client,
        fanout.len(),
        ms(pct(&fanout, 0.5)),
        ms(pct(&fanout, 0.99)),
        ms(*fanout.last().unwrap_or(&Duration::ZERO))
    );
    server.stop().await;
    engine.shutdown(Duration::from_secs(10)).await;
}
