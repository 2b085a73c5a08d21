//! The engine test harness: a config on disk, simulated miners on loopback, a fake clock, and
//! the event bus. Shared by the engine test files.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bitaxe_core::clock::FakeClock;
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::events::Event;
use bitaxe_core::safety::Settings;
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::{Personality, SimMiner};
use chrono::{DateTime, NaiveDateTime, Utc};
use tokio::sync::broadcast;

pub const DAY: &str = "2026-06-01 12:00";
pub const NIGHT: &str = "2026-06-01 23:00";

pub fn utc(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
        .expect("time")
        .and_utc()
}

pub struct Harness {
    pub _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub miners: Vec<SimMiner>,
    pub clock: Arc<FakeClock>,
    pub engine: EngineHandle,
    pub events: broadcast::Receiver<Event>,
}

/// Fast intervals so tests take seconds; the logic is the same at 60 s.
pub fn quick_config(miners: &[SimMiner]) -> Config {
    Config {
        miners: miners
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
        check_interval: 0.2,
        temp_check_interval: 0.2,
        log_stats_interval: 0.5,
        transition_delay: 0.05,
        retry_delay: 0.05,
        timezone: "UTC".into(),
        ..Config::default()
    }
}

pub async fn sims(n: usize, personality: Personality) -> Vec<SimMiner> {
    bitaxe_sim::fleet("sim", n, |s| {
        s.personality = personality;
        s.speed = 20.0;
    })
    .await
    .expect("sims")
}

impl Harness {
    pub async fn start(
        miners: Vec<SimMiner>,
        at: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> Harness {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("multi_scheduler_config.json");
        let mut cfg = quick_config(&miners);
        tweak(&mut cfg);
        cfg.save(&path).expect("save config");
        let clock = Arc::new(FakeClock::new(utc(at)));
        let mut opts = EngineOptions::new(&path);
        opts.clock = clock.clone();
        opts.http = bitaxe_core::axeos::Http::new(bitaxe_core::axeos::Timeouts {
            connect: Duration::from_millis(300),
            total: Duration::from_millis(500),
        });
        opts.watch_every = Duration::from_millis(50);
        opts.price_refresh = Duration::from_millis(300);
        let engine = EngineHandle::start(opts).expect("engine");
        let events = engine.subscribe();
        Harness {
            _dir: dir,
            path,
            miners,
            clock,
            engine,
            events,
        }
    }

    /// Wait for an event matching `pred`, failing with what was seen if it does not come.
    pub async fn expect(
        &mut self,
        what: &str,
        secs: u64,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> Event {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(e)) => {
                    if pred(&e) {
                        return e;
                    }
                    if !matches!(e, Event::Sampled(_)) {
                        seen.push(e.describe());
                    }
                }
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(e)) => panic!("bus closed: {e}"),
                Err(_) => panic!("timed out waiting for {what}; saw: {seen:#?}"),
            }
        }
    }

    /// Wait until every named miner finished a transition, in any order.
    pub async fn expect_done(&mut self, names: &[&str]) {
        let mut left: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        while !left.is_empty() {
            let e = self
                .expect("transitions done", 15, |e| {
                    matches!(e, Event::TransitionDone { .. })
                })
                .await;
            if let Event::TransitionDone { miner, .. } = e {
                left.retain(|n| *n != miner);
            }
        }
    }

    /// The clock never ran ahead of the voltage on any miner (the sim's power-loop detector).
    pub fn assert_no_brownouts(&self) {
        for m in &self.miners {
            let s = m.state();
            assert_eq!(s.brownouts, 0, "{}: {:#?}", m.name(), s.brownout_log);
        }
    }

    pub fn miner_settings(&self, i: usize) -> Settings {
        let s = self.miners[i].state();
        Settings::new(s.nvs.core_voltage, s.nvs.frequency)
    }
}

/// Every engine test also proves the write order: no miner saw the clock run ahead of the voltage.
impl Drop for Harness {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_no_brownouts();
        }
    }
}

pub fn done(name: &str) -> impl FnMut(&Event) -> bool + '_ {
    move |e| matches!(e, Event::TransitionDone { miner, .. } if miner == name)
}
