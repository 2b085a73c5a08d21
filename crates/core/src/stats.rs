//! Averages per miner and profile, written in the seed's `multi_bitaxe_stats.json` shape and
//! reloaded on start so averages continue across restarts.
//!
//! The seed's keys keep their meaning: `day_performance` and `night_performance` average the
//! samples of the `day` and `night` profiles. Added keys (absent until there is something to say):
//! `profiles` per miner (one entry per other profile that ran, same fields, plus today's
//! `energy_kwh` and `cost`), `today` per miner and at the top (the fleet): today's measured
//! energy, its cost where a price is known, and both per profile, for the local day `date`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::write_atomic;
use crate::cost::{self, CostReport, PriceSource, Totals};
use crate::events::Sample;
use crate::history::{History, HistoryError};

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

/// A profile other than the seed's two: its averages and today's energy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileStats {
    #[serde(flatten)]
    pub performance: Performance,
    /// kWh measured today under this profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_kwh: Option<f64>,
    /// What that cost (where a price is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

/// Energy and cost of one profile today.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileEnergy {
    pub energy_kwh: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
}

/// Today's measured energy and cost (a miner's or the fleet's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnergyToday {
    /// The local day.
    pub date: Option<NaiveDate>,
    pub energy_kwh: f64,
    /// Money for the priced part; absent when no price is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    /// Energy in slots without a price.
    pub unpriced_kwh: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Per profile name, the seed's two included.
    pub profiles: BTreeMap<String, ProfileEnergy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MinerStats {
    pub ip: String,
    pub online: bool,
    pub day_performance: Performance,
    pub night_performance: Performance,
    /// Every other profile that ran, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, ProfileStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub today: Option<EnergyToday>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stats {
    pub timestamp: Option<DateTime<Utc>>,
    pub miners: BTreeMap<String, MinerStats>,
    /// The fleet's energy and cost today.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub today: Option<EnergyToday>,
}

impl EnergyToday {
    fn from_report(
        date: NaiveDate,
        total: &Totals,
        profiles: &BTreeMap<String, Totals>,
        currency: Option<&str>,
    ) -> EnergyToday {
        EnergyToday {
            date: Some(date),
            energy_kwh: total.kwh,
            cost: total.cost,
            unpriced_kwh: total.unpriced_kwh,
            currency: currency.map(str::to_string),
            profiles: profiles
                .iter()
                .map(|(name, t)| {
                    (
                        name.clone(),
                        ProfileEnergy {
                            energy_kwh: t.kwh,
                            cost: t.cost,
                        },
                    )
                })
                .collect(),
        }
    }
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

    /// Count one sample in its miner's average for its profile.
    pub fn record(&mut self, sample: &Sample, ip: &str) {
        let entry = self.miners.entry(sample.miner.clone()).or_default();
        entry.ip = ip.to_string();
        entry.online = true;
        let perf = match sample.profile.name() {
            "day" => &mut entry.day_performance,
            "night" => &mut entry.night_performance,
            other => {
                &mut entry
                    .profiles
                    .entry(other.to_string())
                    .or_default()
                    .performance
            }
        };
        perf.add(sample.hashrate, sample.power);
    }

    /// Today's energy and cost from a report over today (local day `date`).
    pub fn set_today(&mut self, date: NaiveDate, report: &CostReport, currency: Option<&str>) {
        self.today = Some(EnergyToday::from_report(
            date,
            &report.fleet.total,
            &report.fleet.profiles,
            currency,
        ));
        let empty = cost::Breakdown::default();
        for (name, m) in &mut self.miners {
            let b = report.miners.get(name).unwrap_or(&empty);
            m.today = Some(EnergyToday::from_report(
                date,
                &b.total,
                &b.profiles,
                currency,
            ));
            for (profile, p) in &mut m.profiles {
                let t = b.profiles.get(profile);
                p.energy_kwh = Some(t.map_or(0.0, |t| t.kwh));
                p.cost = t.and_then(|t| t.cost);
            }
        }
    }

    /// Measure today (local, in `tz`) from the history with `prices`, then
    /// [`Stats::set_today`].
    pub fn measure_today(
        &mut self,
        history: &History,
        prices: &PriceSource,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<(), HistoryError> {
        let date = now.with_timezone(&tz).date_naive();
        let from = cost::local_day_start(tz, date);
        let to = date
            .succ_opt()
            .map_or(now, |next| cost::local_day_start(tz, next));
        let report = cost::report(history, from, to, &*prices.price, tz)?;
        self.set_today(date, &report, prices.currency.as_deref());
        Ok(())
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
    use crate::schedule::Profile;

    fn profile(name: &str) -> Profile {
        Profile::new(name)
    }

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
        s.record(&sample(profile("day"), 800.0, 14.0), "http://127.0.0.1:1");
        s.record(&sample(profile("day"), 1000.0, 16.0), "http://127.0.0.1:1");
        s.record(
            &sample(profile("night"), 1200.0, 22.0),
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
        back.record(&sample(profile("day"), 1200.0, 18.0), "http://127.0.0.1:1");
        assert_eq!(back.miners["a"].day_performance.avg_hashrate, 1000.0);
        assert_eq!(back.miners["a"].day_performance.samples, 3);
        assert_eq!(back.miners["a"].day_performance.avg_efficiency, Some(16.0));
    }

    fn at(mut s: Sample, t: DateTime<Utc>) -> Sample {
        s.at = t;
        s
    }

    #[test]
    fn other_profiles_get_their_own_block_and_the_seed_keys_stay() {
        let mut s = Stats::default();
        s.record(&sample(profile("day"), 800.0, 14.0), "http://127.0.0.1:1");
        let only_seed = serde_json::to_value(&s).expect("json");
        let keys: Vec<&String> = only_seed["miners"]["a"]
            .as_object()
            .expect("miner")
            .keys()
            .collect();
        assert_eq!(
            keys,
            ["day_performance", "ip", "night_performance", "online"],
            "a seed-only fleet writes the seed's keys only"
        );
        assert!(only_seed.get("today").is_none());
        s.record(&sample(profile("quiet"), 400.0, 10.0), "http://127.0.0.1:1");
        s.record(&sample(profile("quiet"), 600.0, 12.0), "http://127.0.0.1:1");
        let raw = serde_json::to_value(&s).expect("json");
        let quiet = &raw["miners"]["a"]["profiles"]["quiet"];
        assert_eq!(quiet["avg_hashrate"], 500.0);
        assert_eq!(quiet["avg_power"], 11.0);
        assert_eq!(quiet["samples"], 2);
        assert_eq!(quiet["avg_efficiency"], 22.0);
        assert_eq!(raw["miners"]["a"]["day_performance"]["samples"], 1);
        assert_eq!(raw["miners"]["a"]["night_performance"]["samples"], 0);
    }

    #[test]
    fn a_seed_statistics_file_loads_and_keeps_its_meaning() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(STATS_FILE);
        let seed = r#"{"timestamp": "2026-11-01T10:00:00Z", "miners": {"a": {"ip": "192.0.2.1",
            "online": true, "day_performance": {"avg_hashrate": 900.0, "avg_power": 15.0,
            "avg_efficiency": 16.67, "samples": 2}, "night_performance": {"avg_hashrate": 1200.0,
            "avg_power": 22.0, "avg_efficiency": 18.33, "samples": 1}}}}"#;
        std::fs::write(&path, seed).expect("seed");
        let (mut s, warn) = Stats::load(&path);
        assert!(warn.is_none());
        s.record(&sample(profile("night"), 1200.0, 22.0), "192.0.2.1");
        s.save(&path, Utc::now()).expect("save");
        let raw: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let night = &raw["miners"]["a"]["night_performance"];
        assert_eq!(night["avg_hashrate"], 1200.0);
        assert_eq!(night["samples"], 2);
        assert_eq!(
            raw["miners"]["a"]["day_performance"]["avg_efficiency"],
            16.67
        );
    }

    #[test]
    fn today_energy_and_cost_per_miner_profile_and_fleet() {
        let tz: Tz = "Europe/Berlin".parse().expect("tz");
        // 2026-11-25 09:00 Berlin; an hour of `day` at 36 W and a quarter of `quiet` at 20 W.
        let start: DateTime<Utc> = "2026-11-25T08:00:00Z".parse().expect("t");
        let mut samples: Vec<Sample> = (0..=120)
            .map(|i| {
                at(
                    sample(profile("day"), 1000.0, 36.0),
                    start + chrono::Duration::seconds(30 * i),
                )
            })
            .collect();
        let later = start + chrono::Duration::hours(2);
        samples.extend((0..=30).map(|i| {
            at(
                sample(profile("quiet"), 500.0, 20.0),
                later + chrono::Duration::seconds(30 * i),
            )
        }));
        // Yesterday (local) counts for nothing today.
        let yesterday = start - chrono::Duration::days(1);
        samples.extend((0..=10).map(|i| {
            at(
                sample(profile("day"), 1000.0, 50.0),
                yesterday + chrono::Duration::seconds(30 * i),
            )
        }));
        samples.sort_by_key(|s| s.at);
        let mut h = History::in_memory().expect("db");
        h.insert(&samples).expect("insert");
        let mut s = Stats::default();
        for x in &samples {
            s.record(x, "http://127.0.0.1:1");
        }
        let now = later + chrono::Duration::hours(1);
        s.measure_today(&h, &PriceSource::none(), tz, now)
            .expect("measure");
        let today = s.today.clone().expect("fleet today");
        assert_eq!(today.date, NaiveDate::from_ymd_opt(2026, 11, 25));
        assert!(
            (today.energy_kwh - (0.036 + 0.005)).abs() < 1e-9,
            "{today:?}"
        );
        assert_eq!(today.cost, None, "no tariff: no money");
        assert!((today.profiles["day"].energy_kwh - 0.036).abs() < 1e-9);
        let miner = &s.miners["a"];
        assert!((miner.profiles["quiet"].energy_kwh.expect("kwh") - 0.005).abs() < 1e-9);
        // With a price (the report as the prices module will hand it over).
        let date = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let report = cost::report(&h, cost::local_day_start(tz, date), now, &|_| Some(0.5), tz)
            .expect("report");
        s.set_today(date, &report, Some("EUR"));
        let raw = serde_json::to_value(&s).expect("json");
        let cost = raw["today"]["cost"].as_f64().expect("cost");
        assert!((cost - 0.041 * 0.5).abs() < 1e-9, "{cost}");
        assert_eq!(raw["today"]["currency"], "EUR");
        let quiet = &raw["miners"]["a"]["profiles"]["quiet"];
        assert!((quiet["cost"].as_f64().expect("cost") - 0.0025).abs() < 1e-9);
        assert!(raw["miners"]["a"]["today"]["profiles"]["day"]["cost"].is_number());
        assert!(raw["miners"]["a"]["day_performance"].get("cost").is_none());
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
