//! The firmware's own overheat protection (reference §5.3), recognised with or without its flag.
//!
//! v2.11+ stops mining (hashrate 0, clock 50 MHz, core off), forces the fan to manual 100 %
//! (`autofanspeed` 0, `manualFanSpeed` 100), cools for at least 30 s, then stores and resumes at
//! -100 mV / -100 MHz. On v2.14+ the `overheat_mode` flag may never show. A poll can miss the stop
//! entirely; the persisted -100 mV / -100 MHz from what the engine last confirmed, together with
//! the forced fan, is then enough.

use chrono::{DateTime, Duration, Utc};

use super::{Decision, Finding, Goal, Memory, Observation};
use crate::config::Config;
use crate::safety::{Envelope, Settings};
use crate::schedule::Profile;

/// Two overheats at one profile within this lower that profile's ceiling by a throttle step.
pub const REPEAT_WINDOW_HOURS: i64 = 24;
/// How many times a fan restore is written before it is left alone.
const FAN_RESTORE_ATTEMPTS: u32 = 2;
/// The firmware's overheat recovery lowers both settings by exactly this much.
const FIRMWARE_DROP_MV: u32 = 100;
const FIRMWARE_DROP_MHZ: f64 = 100.0;

/// The fan's mode: automatic (PID to the target temperature) or a fixed duty.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FanMode {
    pub auto: bool,
    /// The manual duty, %, when the firmware reports it.
    pub manual_percent: Option<f64>,
}

impl FanMode {
    pub fn of(info: &axeos::Info) -> Option<FanMode> {
        Some(FanMode {
            auto: info.auto_fan?,
            manual_percent: info.manual_fan_percent,
        })
    }

    /// `other` runs this mode (the manual duty matters only in manual mode).
    pub fn matches(&self, other: &FanMode) -> bool {
        self.auto == other.auto && (self.auto || self.manual_percent == other.manual_percent)
    }

    /// What the firmware's overheat protection leaves behind: manual at 100 %.
    pub fn forced(&self) -> bool {
        !self.auto && self.manual_percent.is_none_or(|m| m >= 99.5)
    }
}

/// What the overheat logic remembers between polls.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Tracker {
    /// The fan as last seen while the miner ran normally.
    fan_before: Option<FanMode>,
    /// An overheat under way: the fan it had before, and the profile it happened at.
    episode: Option<(Option<FanMode>, Option<Profile>)>,
    /// A fan restore still to be confirmed, and how often it was written.
    fan_restore: Option<(FanMode, u32)>,
    /// When overheats happened, and at which profile.
    log: Vec<(Option<Profile>, Option<DateTime<Utc>>)>,
}

/// The firmware stopped the ASIC: nothing written now would do any good.
fn stopped(obs: &Observation) -> bool {
    if obs.paused {
        return false;
    }
    let idle = obs.hashrate.unwrap_or(0.0) <= 0.0;
    obs.overheat_flag
        || (idle && (obs.temp.is_none() || obs.actual_frequency.is_some_and(|a| a <= 50.5)))
}

/// The settings are exactly the firmware's -100 mV / -100 MHz from `confirmed`.
fn firmware_reduced(confirmed: Settings, reported: Settings) -> bool {
    confirmed.voltage.saturating_sub(FIRMWARE_DROP_MV) == reported.voltage
        && confirmed.voltage > FIRMWARE_DROP_MV
        && ((confirmed.frequency - FIRMWARE_DROP_MHZ) - reported.frequency).abs() < 1.0
}

/// Rule 1 of [`super::decide`]. `Some` decides this poll; `None` lets the other rules run.
pub(crate) fn track(
    cfg: &Config,
    env: &Envelope,
    goal: &Goal,
    obs: &Observation,
    mem: &mut Memory,
    found: &mut Vec<Finding>,
) -> Option<Decision> {
    let forced = obs.fan.is_some_and(|f| f.forced());
    let stop = stopped(obs);
    let missed = !stop
        && forced
        && mem.heat.episode.is_none()
        && matches!((mem.confirmed, obs.reported), (Some(c), Some(r)) if firmware_reduced(c, r));
    if mem.heat.episode.is_none() && ((stop && (obs.overheat_flag || forced)) || missed) {
        begin(goal, mem, found);
    }
    if stop {
        return Some(Decision::Wait);
    }
    if mem.heat.episode.is_some() {
        resume(cfg, env, goal, obs, mem, found);
    }
    if let Some((fan, attempts)) = mem.heat.fan_restore.filter(|_| !goal.emergency) {
        if obs.fan.is_some_and(|f| fan.matches(&f)) || attempts >= FAN_RESTORE_ATTEMPTS {
            mem.heat.fan_restore = None;
        } else {
            mem.heat.fan_restore = Some((fan, attempts + 1));
            return Some(Decision::RestoreFan(fan));
        }
    }
    if mem.heat.fan_restore.is_none() && mem.heat.episode.is_none() {
        if let Some(f) = obs.fan {
            mem.heat.fan_before = Some(f);
        }
    }
    None
}

fn begin(goal: &Goal, mem: &mut Memory, found: &mut Vec<Finding>) {
    mem.heat.episode = Some((mem.heat.fan_before, goal.profile.clone()));
    mem.firmware_overheat = true;
    found.push(Finding::FirmwareOverheat);
    let window = Duration::hours(REPEAT_WINDOW_HOURS);
    if let (Some(profile), Some(now)) = (goal.profile.clone(), goal.now) {
        mem.heat
            .log
            .retain(|(_, at)| at.is_some_and(|t| now - t < window));
        let before = mem
            .heat
            .log
            .iter()
            .filter(|(p, _)| p.as_ref() == Some(&profile))
            .count();
        if before >= 1 {
            let steps = mem.lower_ceiling(profile.clone());
            found.push(Finding::CeilingLowered { profile, steps });
        }
    }
    mem.heat.log.push((goal.profile.clone(), goal.now));
}

fn resume(
    cfg: &Config,
    env: &Envelope,
    goal: &Goal,
    obs: &Observation,
    mem: &mut Memory,
    found: &mut Vec<Finding>,
) {
    let Some((fan_before, _)) = mem.heat.episode.take() else {
        return;
    };
    mem.firmware_overheat = false;
    if let Some(r) = obs.reported {
        let at = env.clamp(r).get();
        let cap = match mem.throttle_cap {
            Some(c) => Settings::new(c.voltage.min(at.voltage), c.frequency.min(at.frequency)),
            None => at,
        };
        mem.throttle_cap = Some(cap);
        mem.cool_streak = 0;
        mem.confirmed = None;
        mem.drift_fixes = 0;
        mem.drift_given_up = false;
        let minutes = cfg.overheat_cooloff_minutes.clamp(0.0, 7.0 * 24.0 * 60.0);
        mem.cooloff_until = goal
            .now
            .map(|n| n + Duration::milliseconds((minutes * 60_000.0) as i64));
        found.push(Finding::FirmwareResumed {
            at: r,
            cooloff_until: mem.cooloff_until,
        });
    }
    if let (Some(before), Some(now)) = (fan_before, obs.fan) {
        if !before.matches(&now) {
            mem.heat.fan_restore = Some((before, 0));
        }
    }
}
