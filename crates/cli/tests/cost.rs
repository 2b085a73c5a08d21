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
