//! Plain snapshot types for front ends: one row per miner and the fleet's totals.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::events::MinerState;
use crate::safety::Settings;
use crate::schedule::{Profile, Target};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MinerStatus {
    pub name: String,
    pub url: String,
    pub enabled: bool,
    pub state: MinerState,
    /// Why it is in that state, in words ("ASIC 71.0°C above max_temp 70°C").
    pub reason: String,
    pub info: Option<axeos::Info>,
    pub target: Option<Target>,
    pub throttle_cap: Option<Settings>,
    /// After a firmware overheat: the schedule may not raise this miner before then.
    #[serde(default)]
    pub cooloff_until: Option<DateTime<Utc>>,
    /// A target given up (see `Event::GaveUp`): why, in words.
    #[serde(default)]
    pub gave_up: Option<String>,
    /// Profiles whose ceiling on this miner was lowered after repeated firmware overheats, and by
    /// how many throttle steps (cleared by the user).
    #[serde(default)]
    pub ceilings: Vec<(Profile, u32)>,
    /// A different device answers at this miner's address: not written to until confirmed.
    #[serde(default)]
    pub identity_pending: bool,
    /// What the plan says for this miner and why, with until when ("Off: price 31 ct above 25;
    /// until Tue 21:00"; the safety caps show in `state` and `reason`).
    #[serde(default)]
    pub plan_why: Option<String>,
    pub last_error: Option<String>,
    pub updated: Option<DateTime<Utc>>,
}

impl MinerStatus {
    pub fn new(name: &str, url: &str, enabled: bool) -> MinerStatus {
        MinerStatus {
            name: name.to_string(),
            url: url.to_string(),
            enabled,
            state: if enabled {
                MinerState::Unknown
            } else {
                MinerState::Disabled
            },
            reason: String::new(),
            info: None,
            target: None,
            throttle_cap: None,
            cooloff_until: None,
            gave_up: None,
            ceilings: Vec::new(),
            identity_pending: false,
            plan_why: None,
            last_error: None,
            updated: None,
        }
    }

    /// Whether the numbers are worth showing (answered its last poll).
    pub fn is_up(&self) -> bool {
        !matches!(
            self.state,
            MinerState::Offline | MinerState::Unknown | MinerState::Disabled
        ) && self.info.is_some()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Totals {
    pub online: usize,
    pub total: usize,
    /// GH/s
    pub hashrate: f64,
    /// W
    pub power: f64,
    /// J/TH
    pub efficiency: Option<f64>,
}

impl Totals {
    pub fn of(miners: &[MinerStatus]) -> Totals {
        let enabled: Vec<&MinerStatus> = miners.iter().filter(|m| m.enabled).collect();
        let up: Vec<&MinerStatus> = enabled.iter().copied().filter(|m| m.is_up()).collect();
        let hashrate: f64 = up.iter().filter_map(|m| m.info.as_ref()?.hash_rate).sum();
        let power: f64 = up.iter().filter_map(|m| m.info.as_ref()?.power).sum();
        // `+ 0.0` turns the empty sum's -0.0 into 0.0.
        let (hashrate, power) = (hashrate + 0.0, power + 0.0);
        Totals {
            online: up.len(),
            total: enabled.len(),
            hashrate,
            power,
            efficiency: axeos::efficiency(power, hashrate),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FleetStatus {
    pub miners: Vec<MinerStatus>,
    pub totals: Totals,
    /// The profile in force now, and what put it there ("schedule", "manual", "emergency").
    pub profile: Profile,
    pub source: String,
    pub next_change: Option<(DateTime<Utc>, Profile)>,
    pub paused: bool,
    pub emergency: bool,
    /// Why the engine paused by itself (a corrupt state file found at start), until resumed.
    #[serde(default)]
    pub pause_reason: Option<String>,
    /// The power budget's use now (none without `power_budget`).
    #[serde(default)]
    pub budget: Option<crate::budget::BudgetUse>,
}
