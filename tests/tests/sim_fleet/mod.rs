//! Small simulated fleets for the robustness suites (fault matrix, kill -9): miners placed at a
//! known starting point, a config whose night window surrounds now, and the checks every run
//! ends with (brownouts, the envelope, the write bound).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bitaxe_sim::{MinerSpec, Personality, SimMiner};
use chrono::{Timelike, Utc};
use serde_json::{json, Value};

/// Transition steps in every config here.
pub const STEPS: u32 = 2;
/// The night profile (the schedule's current one): a fractional clock, so truncation shows.
pub const NIGHT: (u32, f64) = (1200, 562.5);
/// The day profile.
pub const DAY: (u32, f64) = (1100, 425.0);
/// Stock settings of a Gamma.
pub const STOCK: (u32, f64) = (1150, 525.0);
/// The envelope the configs set: mV and MHz, inclusive.
pub const MIN_V: u32 = 1000;
pub const MAX_V: u32 = 1250;
pub const MIN_F: f64 = 100.0;
pub const MAX_F: f64 = 600.0;
/// Sim time runs this much faster than real time.
pub const SPEED: f64 = 20.0;

/// Writes of the settings allowed per miner for one profile change.
pub fn write_bound() -> usize {
    2 * (STEPS as usize + 1)
}

/// The scheduler binary, built once per test process.
pub fn exe() -> PathBuf {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| bitaxe_e2e::binary("bitaxe-scheduler", "bitaxe-scheduler"))
        .clone()
}

/// Start a miner whose firmware already runs `at` (stored, applied and clocked), with a clean
/// brownout counter.
pub async fn miner(name: &str, personality: Personality, at: (u32, f64)) -> SimMiner {
    let mut spec = MinerSpec::new(name, "127.0.0.1:0".parse().expect("addr"));
    spec.personality = personality;
    spec.speed = SPEED;
    let m = SimMiner::start(spec).await.expect("sim");
    m.update(|s| {
        s.nvs.core_voltage = at.0;
        s.nvs.frequency = at.1;
        s.applied_voltage = f64::from(at.0);
        s.actual_frequency = at.1;
        s.loop_frequency = at.1;
        s.ramp_target = None;
        s.brownouts = 0;
        s.brownout_log.clear();
    });
    m
}

/// A config for `miners` with fast intervals, night now; `extra` keys override.
pub fn write_config(dir: &Path, miners: &[&SimMiner], extra: Value) -> PathBuf {
    let h = Utc::now().hour();
    let hm = |h: u32| format!("{:02}:00", h % 24);
    let mut v = json!({
        "miners": miners.iter().map(|m| json!({"name": m.name(), "ip": m.url(), "enabled": true})).collect::<Vec<_>>(),
        "global_day_settings": {"start_time": hm(h + 2), "end_time": hm(h + 23), "voltage": DAY.0, "frequency": DAY.1},
        "global_night_settings": {"start_time": hm(h + 23), "end_time": hm(h + 2), "voltage": NIGHT.0, "frequency": NIGHT.1},
        "timezone": "UTC",
        "min_voltage": MIN_V, "max_voltage": MAX_V, "min_frequency": MIN_F, "max_frequency": MAX_F,
        "check_interval": 0.5, "temp_check_interval": 0.5, "log_stats_interval": 1,
        "transition_steps": STEPS, "transition_delay": 0.1, "retry_attempts": 2, "retry_delay": 0.1
    });
    if let (Some(base), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in more {
            base.insert(k.clone(), val.clone());
        }
    }
    let path = dir.join("multi_scheduler_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&v).expect("json")).expect("write config");
    path
}

/// Stored voltage and frequency.
pub fn settings(m: &SimMiner) -> (u32, f64) {
    let s = m.state();
    (s.nvs.core_voltage, s.nvs.frequency)
}

fn inside(v: Option<f64>, f: Option<f64>) -> bool {
    let volts_ok = !matches!(v, Some(v) if !(f64::from(MIN_V)..=f64::from(MAX_V)).contains(&v));
    let clock_ok = !matches!(f, Some(f) if !(MIN_F..=MAX_F).contains(&f));
    volts_ok && clock_ok
}

/// The value of `key` in a PATCH body, matched as the firmware does (case-insensitively).
fn key(body: &Value, key: &str) -> Option<f64> {
    body.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .and_then(|(_, v)| v.as_f64())
}

/// PATCH requests that carried a voltage or a frequency.
pub fn settings_writes(m: &SimMiner) -> usize {
    m.patches()
        .iter()
        .filter(|b| key(b, "coreVoltage").is_some() || key(b, "frequency").is_some())
        .count()
        + m.requests()
            .iter()
            .filter(|r| r.method == "PATCH" && serde_json::from_str::<Value>(&r.body).is_err())
            .count()
}

/// Everything about `m` that breaks the rules: brownouts, writes or stored values outside the
/// envelope, more settings writes (PATCHes carrying a voltage or a frequency) than `bound`, more
/// than two other PATCHes.
pub fn violations(m: &SimMiner, bound: usize) -> Vec<String> {
    let mut out = Vec::new();
    let s = m.state();
    if s.brownouts > 0 {
        out.push(format!(
            "{}: {} brownout(s), first: {:?}",
            m.name(),
            s.brownouts,
            &s.brownout_log[..s.brownout_log.len().min(2)]
        ));
    }
    for p in m.patches() {
        if !inside(key(&p, "coreVoltage"), key(&p, "frequency")) {
            out.push(format!("{}: wrote outside the envelope: {p}", m.name()));
        }
    }
    if !inside(Some(f64::from(s.nvs.core_voltage)), Some(s.nvs.frequency)) {
        out.push(format!(
            "{}: stored {} mV / {} MHz, outside the envelope",
            m.name(),
            s.nvs.core_voltage,
            s.nvs.frequency
        ));
    }
    let writes = settings_writes(m);
    if writes > bound {
        out.push(format!(
            "{}: {writes} settings writes, bound {bound}: {:?}",
            m.name(),
            m.patches()
        ));
    }
    // Other writes (the fan given back after the firmware's overheat recovery) are rare too.
    let all = m.requests().iter().filter(|r| r.method == "PATCH").count();
    if all > bound.saturating_add(2) {
        out.push(format!(
            "{}: {all} PATCHes in all, bound {bound} + 2: {:?}",
            m.name(),
            m.patches()
        ));
    }
    out
}

/// Watch the stored settings of `miners` every 25 ms until `stop` is set; any value outside
/// the envelope is reported (a write the miner took and then lost would not show at the end).
pub fn watch_envelope(
    miners: Vec<SimMiner>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            for m in &miners {
                let (v, f) = settings(m);
                if !inside(Some(f64::from(v)), Some(f)) {
                    let what = format!("{}: stored {v} mV / {f} MHz", m.name());
                    if !seen.contains(&what) {
                        seen.push(what);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        seen
    })
}
