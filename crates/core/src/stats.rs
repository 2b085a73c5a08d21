//! Day/night averages per miner, written in the seed's `multi_bitaxe_stats.json` shape and
//! reloaded on start so averages continue across restarts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::write_atomic;
use crate::events::Sample;
use crate::schedule::Profile;

pub const STATS_FILE: &str = "multi_bitaxe_stats.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Performance {
    /// GH/s
    pub avg_hashrate: f64,
    /// W
    pub avg_power: f64,
    /// J/TH (from the averages)
    pub avg_efficiency: Option<f64>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub samples: u64,
}

impl Performance {
    fn add(&mut self, hashrate: f64, power: f64) {
        let n = self.samples as f64;
        self.avg_hashrate = (self.avg_hashrate * n + hashrate) / (n + 1.0);
        self.avg_power = (self.avg_power * n + power) / (n + 1.0);
        self.samples += 1;
        self.avg_efficiency = axeos::efficiency(self.avg_power, self.avg_hashrate)
            .map(|e| (e * 100.0).round() / 100.0);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MinerStats {
    pub ip: String,
    pub online: bool,
    pub day_performance: Performance,
    pub night_performance: Performance,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stats {
    pub timestamp: Option<DateTime<Utc>>,
    pub miners: BTreeMap<String, MinerStats>,
}

impl Stats {
    pub fn path_for(config: &Path) -> PathBuf {
        config.with_file_name(STATS_FILE)
    }

    /// Load the file if there is one; an unreadable file is kept aside (never overwritten) and
    /// statistics start fresh.
    pub fn load(path: &Path) -> (Stats, Option<String>) {
        match std::fs::read_to_string(path) {
            Ok(text) => match serde_json::from_str(&text) {
                Ok(stats) => (stats, None),
                Err(e) => {
                    let aside = path.with_extension("json.unreadable");
                    let _ = std::fs::rename(path, &aside);
                    (
                        Stats::default(),
                        Some(format!(
                            "{} could not be read ({e}); kept as {} and started fresh",
                            path.display(),
                            aside.display()
                        )),
                    )
                }
            },
            Err(_) => (Stats::default(), None),
        }
    }

    pub fn save(&mut self, path: &Path, now: DateTime<Utc>) -> std::io::Result<()> {
        self.timestamp = Some(now);
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        write_atomic(path, text.as_bytes())
    }

    /// Count one sample in its miner's day or night average.
    pub fn record(&mut self, sample: &Sample, ip: &str) {
        let entry = self.miners.entry(sample.miner.clone()).or_default();
        entry.ip = ip.to_string();
        entry.online = true;
        match &sample.profile {
            p if *p == Profile::day() => entry.day_performance.add(sample.hashrate, sample.power),
            p if *p == Profile::night() => {
                entry.night_performance.add(sample.hashrate, sample.power)
            }
            _ => {}
        }
    }

    pub fn set_online(&mut self, miner: &str, ip: &str, online: bool) {
        let entry = self.miners.entry(miner.to_string()).or_default();
        entry.ip = ip.to_string();
        entry.online = online;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(profile: Profile, hashrate: f64, power: f64) -> Sample {
        Sample {
            miner: "a".into(),
            at: Utc::now(),
            profile,
            hashrate,
            power,
            temp: Some(50.0),
            vr_temp: None,
            voltage: Some(1150),
            frequency: Some(525.0),
        }
    }

    #[test]
    fn averages_split_by_period_and_survive_a_reload() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(STATS_FILE);
        let mut s = Stats::default();
        s.record(&sample(Profile::day(), 800.0, 14.0), "http://127.0.0.1:1");
        s.record(&sample(Profile::day(), 1000.0, 16.0), "http://127.0.0.1:1");
        s.record(
            &sample(Profile::night(), 1200.0, 22.0),
            "http://127.0.0.1:1",
        );
        s.save(&path, Utc::now()).expect("save");
        let raw: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let day = &raw["miners"]["a"]["day_performance"];
        assert_eq!(day["avg_hashrate"], 900.0);
        assert_eq!(day["avg_power"], 15.0);
        assert_eq!(day["samples"], 2);
        assert_eq!(raw["miners"]["a"]["ip"], "http://127.0.0.1:1");
        assert_eq!(raw["miners"]["a"]["online"], true);
        assert!(raw["timestamp"].is_string());
        let (mut back, warn) = Stats::load(&path);
        assert!(warn.is_none());
        back.record(&sample(Profile::day(), 1200.0, 18.0), "http://127.0.0.1:1");
        assert_eq!(back.miners["a"].day_performance.avg_hashrate, 1000.0);
        assert_eq!(back.miners["a"].day_performance.samples, 3);
        assert_eq!(back.miners["a"].day_performance.avg_efficiency, Some(16.0));
    }

    #[test]
    fn an_unreadable_file_is_kept_aside() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(STATS_FILE);
        std::fs::write(&path, "{not json").expect("write");
        let (s, warn) = Stats::load(&path);
        assert!(s.miners.is_empty());
        assert!(warn.expect("warned").contains("unreadable"));
        assert_eq!(
            std::fs::read_to_string(path.with_extension("json.unreadable")).expect("kept"),
            "{not json"
        );
    }
}
