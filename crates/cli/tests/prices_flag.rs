//! `bitaxe-scheduler --prices` as a user runs it: with no tariff (a clear error), with a feed
//! served on 127.0.0.1 (its slots, its source, the cache written), and with the feed
//! unreachable (a warning, the fixed tariff printed).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use chrono::{Duration, TimeZone, Utc};

fn run(config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bitaxe-scheduler"))
        .arg("--config")
        .arg(config)
        .arg("--prices")
        .output()
        .expect("run")
}

/// A one-thread HTTP server on loopback answering every request with `body`.
fn serve(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/price")
}

/// Energy-Charts' shape: today's local quarter hours in Europe/Berlin, 100 EUR/MWh + index.
fn energy_charts_today() -> String {
    let tz = chrono_tz::Europe::Berlin;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let start = tz
        .from_local_datetime(&today.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("local midnight")
        .with_timezone(&Utc);
    let times: Vec<i64> = (0..96)
        .map(|i| (start + Duration::minutes(15 * i)).timestamp())
        .collect();
    let prices: Vec<f64> = (0..96).map(|i| 100.0 + i as f64).collect();
    serde_json::json!({"unix_seconds": times, "price": prices, "unit": "EUR / MWh"}).to_string()
}

fn config(dir: &Path, tariff: serde_json::Value) -> std::path::PathBuf {
    let path = dir.join("multi_scheduler_config.json");
    let mut v = serde_json::json!({"timezone": "Europe/Berlin"});
    if !tariff.is_null() {
        v["tariff"] = tariff;
    }
    std::fs::write(&path, v.to_string()).expect("write");
    path
}

#[test]
fn without_a_tariff_it_says_so_and_exits_1() {
    let dir = tempfile::tempdir().expect("dir");
    let out = run(&config(dir.path(), serde_json::Value::Null));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no tariff"), "{err}");
}

#[test]
fn a_feed_on_loopback_prints_its_slots_and_fills_the_cache() {
    let dir = tempfile::tempdir().expect("dir");
    let url = serve(energy_charts_today());
    let path = config(
        dir.path(),
        serde_json::json!({
            "currency": "EUR",
            "fixed": [{"from": "00:00", "to": "00:00", "price_per_kwh": 0.31}],
            "source": {"type": "energy-charts", "url": url, "charges": 0.1}
        }),
    );
    let out = run(&path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let feed: Vec<&str> = text.lines().filter(|l| l.ends_with("  feed")).collect();
    assert_eq!(feed.len(), 96, "{text}");
    assert!(
        feed[0].contains("00:00-00:15     0.2000 EUR"),
        "{}",
        feed[0]
    );
    // Tomorrow is not published: the fixed tariff fills it and the status says so.
    assert!(
        text.lines().any(|l| l.ends_with("0.3100 EUR  fixed")),
        "{text}"
    );
    let status = text.lines().last().expect("status");
    assert!(
        status.starts_with("Source: energy-charts DE-LU; last fetched: "),
        "{status}"
    );
    assert!(
        status
            .ends_with("prices for tomorrow not published yet; using the fixed tariff after 00:00"),
        "{status}"
    );
    assert!(dir
        .path()
        .join("multi_scheduler_config.json.prices.json")
        .exists());
}

#[test]
fn an_unreachable_feed_warns_and_prints_the_fixed_tariff() {
    let dir = tempfile::tempdir().expect("dir");
    let path = config(
        dir.path(),
        serde_json::json!({
            "fixed": [{"from": "00:00", "to": "00:00", "price_per_kwh": 0.31}],
            "source": {"type": "awattar", "url": "http://127.0.0.1:9/v1/marketdata"}
        }),
    );
    let out = run(&path);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Warning: awattar de: cannot reach the server"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().filter(|l| l.ends_with("  fixed")).count() >= 1,
        "{text}"
    );
    assert!(
        text.contains("no prices from awattar de yet; using the fixed tariff"),
        "{text}"
    );
}
