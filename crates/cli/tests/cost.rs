//! `--cost` end to end: the real binary reads a history written by the engine's store.

use std::process::Command;

use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::events::Sample;
use bitaxe_core::history::{History, HISTORY_FILE};
use chrono::{DateTime, Duration, Utc};

fn miner(name: &str, port: u16) -> MinerConfig {
    MinerConfig {
        name: name.into(),
        ip: format!("127.0.0.1:{port}"),
        enabled: true,
        day_settings: None,
        night_settings: None,
        limits: None,
        profiles: Default::default(),
    }
}

fn bin(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bitaxe-scheduler"))
        .arg("--config")
        .arg(dir.join("multi_scheduler_config.json"))
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cost_prints_a_line_per_miner_and_a_total_and_refuses_bad_dates() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = Config {
        miners: vec![miner("rig-a", 9), miner("rig-b", 10)],
        timezone: "UTC".into(),
        ..Config::default()
    };
    cfg.save(&dir.path().join("multi_scheduler_config.json"))
        .expect("config");
    // rig-a: 36 W for an hour on 2026-11-10 (0.036 kWh); rig-b: 18 W for an hour on 2026-11-11.
    let t0: DateTime<Utc> = "2026-11-10T10:00:00Z".parse().expect("t0");
    let mut history = History::open(&dir.path().join(HISTORY_FILE)).expect("history");
    let run = |name: &str, start: DateTime<Utc>, watts: f64| -> Vec<Sample> {
        (0..=120)
            .map(|i| Sample {
                miner: name.into(),
                at: start + Duration::seconds(30 * i),
                profile: bitaxe_core::schedule::Profile::day(),
                hashrate: 1000.0,
                power: watts,
                temp: Some(50.0),
                vr_temp: None,
                voltage: Some(1150),
                frequency: Some(525.0),
            })
            .collect()
    };
    history.insert(&run("rig-a", t0, 36.0)).expect("a");
    history
        .insert(&run("rig-b", t0 + Duration::days(1), 18.0))
        .expect("b");
    drop(history);

    let (code, out, err) = bin(
        dir.path(),
        &["--cost", "--from", "2026-11-01", "--to", "2026-11-30"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert!(lines[0].contains("2026-11-01 to 2026-11-30"), "{out}");
    assert_eq!(
        lines[1..],
        [
            "rig-a 0.036 kWh -",
            "rig-b 0.018 kWh -",
            "TOTAL: 0.054 kWh -"
        ],
        "{out}"
    );
    // One day only: rig-b's day.
    let (code, out, _) = bin(
        dir.path(),
        &["--cost", "--from", "2026-11-11", "--to", "2026-11-11"],
    );
    assert_eq!(code, 0);
    let words: Vec<&str> = out.split_whitespace().collect();
    let joined = words.join(" ");
    assert!(joined.contains("rig-a 0.000 kWh -"), "{out}");
    assert!(joined.contains("TOTAL: 0.018 kWh -"), "{out}");

    let (code, out, err) = bin(dir.path(), &["--cost", "--from", "2026-11-31"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let (code, _, err) = bin(
        dir.path(),
        &["--cost", "--from", "2026-11-12", "--to", "2026-11-11"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("after"), "{err}");
}

#[test]
fn cost_is_priced_by_the_feed_cache_and_the_fixed_tariff_without_fetching() {
    use bitaxe_core::prices::{cache_path, save_cache, PriceSeries, Slot};
    let dir = tempfile::tempdir().expect("dir");
    let config_path = dir.path().join("multi_scheduler_config.json");
    // The feed's URL is a closed loopback port: --cost must not need it.
    std::fs::write(
        &config_path,
        r#"{
          "miners": [{"name": "rig-a", "ip": "127.0.0.1:9"}, {"name": "rig-b", "ip": "127.0.0.1:10"}],
          "timezone": "UTC",
          "tariff": {
            "currency": "EUR",
            "fixed": [{"from": "00:00", "to": "00:00", "price_per_kwh": 0.20}],
            "source": {"type": "awattar", "url": "http://127.0.0.1:9/prices"}
          }
        }"#,
    )
    .expect("config");
    let cfg = Config::load(&config_path).expect("loads");
    let label = cfg
        .tariff
        .as_ref()
        .and_then(|t| t.source.as_ref())
        .expect("source")
        .label();
    // Yesterday (inside the cache's retention), 10:00-11:00 UTC.
    let day = (Utc::now() - Duration::days(1)).date_naive();
    let t0 = day.and_hms_opt(10, 0, 0).expect("t0").and_utc();
    // The feed knew 10:00-10:30 at 0.50; the fixed tariff answers for the rest.
    let series = PriceSeries::new(
        label,
        "EUR",
        t0,
        vec![Slot {
            start: t0,
            end: t0 + Duration::minutes(30),
            price: 0.50,
        }],
    );
    save_cache(&cache_path(&config_path), &series).expect("cache");
    let mut history = History::open(&dir.path().join(HISTORY_FILE)).expect("history");
    // 3.6 kW for an hour: 1.8 kWh at 0.50 and 1.8 kWh at 0.20.
    let samples: Vec<Sample> = (0..=120)
        .map(|i| Sample {
            miner: "rig-a".into(),
            at: t0 + Duration::seconds(30 * i),
            profile: bitaxe_core::schedule::Profile::new("performance"),
            hashrate: 1000.0,
            power: 3600.0,
            temp: Some(50.0),
            vr_temp: None,
            voltage: Some(1150),
            frequency: Some(525.0),
        })
        .collect();
    history.insert(&samples).expect("insert");
    drop(history);
    let d = day.format("%Y-%m-%d").to_string();
    let (code, out, err) = bin(dir.path(), &["--cost", "--from", &d, "--to", &d]);
    assert_eq!(code, 0, "{out}{err}");
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("rig-a 3.600 kWh 1.26 EUR"), "{out}{err}");
    assert!(words.contains("rig-b 0.000 kWh 0.00 EUR"), "{out}{err}");
    assert!(words.contains("TOTAL: 3.600 kWh 1.26 EUR"), "{out}{err}");
}
