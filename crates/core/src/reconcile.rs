//! What to do about one miner after one poll: a pure decision from the config, the target, what
//! the miner reported and what the engine remembers about it. The worker carries it out.
//!
//! Policy, in priority order:
//! 1. Firmware overheat (overheat flag, or ASIC off while not paused): wait, do not fight the
//!    firmware's cool-down. When it resumes (at -100 mV / -100 MHz), hold those settings as a
//!    throttle cap until the miner has stayed cool.
//! 2. Outside the envelope: bring it inside at once, in one step, before anything else.
//! 3. Over `max_temp`, `max_vr_temp` or `max_power`: step down (-25 MHz, -10 mV, never below the
//!    safe settings) and cap the schedule there. Each further hot check steps down again.
//! 4. Throttled and cool (temperature `temp_hysteresis` below the limit, power 5 % below) for
//!    `restore_after` checks in a row: lift the cap, the schedule returns smoothly.
//! 5. Otherwise move to the (capped) target. If the miner already had that target confirmed and now
//!    reports something else, the firmware or a person changed it: that is drift, re-applied at
//!    most `max_drift_fixes` times per target, then reported and left alone.
//!
//! Stalls (hashrate frozen and shares not moving for `stall_after` polls) are reported only.

use crate::config::Config;
use crate::safety::{Envelope, SafeSettings, Settings};

const THROTTLE_STEP_MHZ: f64 = 25.0;
const THROTTLE_STEP_MV: u32 = 10;

/// The numbers a decision needs from one poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    pub reported: Option<Settings>,
    pub temp: Option<f64>,
    pub vr_temp: Option<f64>,
    pub power: Option<f64>,
    pub hashrate: Option<f64>,
    pub shares_accepted: Option<u64>,
    pub overheat_flag: bool,
    pub paused: bool,
}

impl Observation {
    pub fn from_info(info: &axeos::Info) -> Observation {
        Observation {
            reported: match (info.core_voltage, info.frequency) {
                (Some(v), Some(f)) => Some(Settings::new(v, f)),
                _ => None,
            },
            temp: info.temp,
            vr_temp: info.vr_temp,
            power: info.power,
            hashrate: info.hash_rate,
            shares_accepted: info.shares_accepted,
            overheat_flag: info.overheat_mode == Some(true),
            paused: info.mining_paused == Some(true),
        }
    }

    fn firmware_stopped(&self) -> bool {
        self.overheat_flag
            || (!self.paused && self.temp.is_none() && self.hashrate.unwrap_or(0.0) <= 0.0)
    }
}

/// What the engine remembers about one miner between polls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    /// The schedule is held at or below this because of heat or power.
    pub throttle_cap: Option<Settings>,
    pub cool_streak: u32,
    /// The target last written and read back.
    pub confirmed: Option<Settings>,
    pub drift_fixes: u32,
    pub drift_given_up: bool,
    pub firmware_overheat: bool,
    pub stall_streak: u32,
    pub stalled: bool,
    last_hashrate: Option<f64>,
    last_shares: Option<u64>,
}

/// Why a move is made: decides smoothing, the worker pool, and the event wording.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    Schedule,
    DriftFix,
    SafetyCorrection,
    Throttle(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Nothing,
    /// Leave the miner alone this time (firmware is cooling it down).
    Wait,
    Move {
        to: SafeSettings,
        reason: Reason,
    },
}

/// Things worth an event, found while deciding.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    FirmwareOverheat,
    FirmwareResumed(Settings),
    OutsideEnvelope {
        reported: Settings,
        corrected: Settings,
    },
    Hot(String),
    Cool,
    Drift {
        expected: Settings,
        reported: Settings,
        fixing: bool,
    },
    Stalled,
    StallCleared,
}

fn same(a: Settings, b: Settings) -> bool {
    a.voltage == b.voltage && (a.frequency - b.frequency).abs() < 0.01
}

/// Component-wise minimum: the cap never raises anything.
fn capped(s: Settings, cap: Option<Settings>) -> Settings {
    match cap {
        Some(c) => Settings::new(s.voltage.min(c.voltage), s.frequency.min(c.frequency)),
        None => s,
    }
}

/// Why `obs` is over a limit, if it is.
pub fn over_limit(cfg: &Config, obs: &Observation) -> Option<String> {
    if let Some(t) = obs.temp.filter(|t| *t > cfg.max_temp) {
        return Some(format!("ASIC {t:.1}°C above max_temp {}°C", cfg.max_temp));
    }
    if let Some(t) = obs.vr_temp.filter(|t| *t > cfg.max_vr_temp) {
        return Some(format!(
            "regulator {t:.0}°C above max_vr_temp {}°C",
            cfg.max_vr_temp
        ));
    }
    if let Some(p) = obs.power.filter(|p| *p > cfg.max_power) {
        return Some(format!("{p:.1} W above max_power {} W", cfg.max_power));
    }
    None
}

fn cool(cfg: &Config, obs: &Observation) -> bool {
    obs.temp
        .is_none_or(|t| t <= cfg.max_temp - cfg.temp_hysteresis)
        && obs
            .vr_temp
            .is_none_or(|t| t <= cfg.max_vr_temp - cfg.temp_hysteresis)
        && obs.power.is_none_or(|p| p <= cfg.max_power * 0.95)
}

/// One step down from `from`, never below the safe settings (nor out of the envelope).
pub fn step_down(cfg: &Config, env: &Envelope, from: Settings) -> Settings {
    let safe = env.clamp(cfg.safe()).get();
    let f = (from.frequency - THROTTLE_STEP_MHZ).max(safe.frequency.min(from.frequency));
    let v = from
        .voltage
        .saturating_sub(THROTTLE_STEP_MV)
        .max(safe.voltage.min(from.voltage));
    env.clamp(Settings::new(v, f)).get()
}

/// Decide for one poll. `desired` is what the schedule (or an override) wants now.
pub fn decide(
    cfg: &Config,
    env: &Envelope,
    desired: Settings,
    obs: &Observation,
    mem: &mut Memory,
) -> (Decision, Vec<Finding>) {
    let mut found = Vec::new();
    track_stall(cfg, obs, mem, &mut found);

    // 1. The firmware's own overheat protection has the miner: wait it out.
    if obs.firmware_stopped() {
        if !mem.firmware_overheat && obs.overheat_flag {
            mem.firmware_overheat = true;
            found.push(Finding::FirmwareOverheat);
        }
        if mem.firmware_overheat || obs.overheat_flag {
            return (Decision::Wait, found);
        }
    }
    if mem.firmware_overheat {
        mem.firmware_overheat = false;
        if let Some(r) = obs.reported {
            mem.throttle_cap = Some(env.clamp(r).get());
            mem.cool_streak = 0;
            mem.confirmed = None;
            found.push(Finding::FirmwareResumed(r));
        }
    }
    let Some(reported) = obs.reported else {
        return (Decision::Nothing, found);
    };

    // 2. Outside the envelope: inside at once.
    let inside = env.clamp(reported);
    if !same(inside.get(), reported) {
        found.push(Finding::OutsideEnvelope {
            reported,
            corrected: inside.get(),
        });
        return (
            Decision::Move {
                to: inside,
                reason: Reason::SafetyCorrection,
            },
            found,
        );
    }

    // 3. Too hot or too hungry: step down and cap.
    if let Some(reason) = over_limit(cfg, obs) {
        let base = capped(reported, mem.throttle_cap);
        let down = step_down(cfg, env, base);
        mem.throttle_cap = Some(down);
        mem.cool_streak = 0;
        found.push(Finding::Hot(reason.clone()));
        if same(down, reported) {
            return (Decision::Nothing, found);
        }
        return (
            Decision::Move {
                to: env.clamp(down),
                reason: Reason::Throttle(reason),
            },
            found,
        );
    }

    // 4. Throttled: restore after staying cool.
    if mem.throttle_cap.is_some() {
        if cool(cfg, obs) {
            mem.cool_streak += 1;
            if mem.cool_streak >= cfg.restore_after {
                mem.throttle_cap = None;
                mem.cool_streak = 0;
                found.push(Finding::Cool);
            }
        } else {
            mem.cool_streak = 0;
        }
    }

    // 5. The target, capped.
    let want = env.clamp(capped(desired, mem.throttle_cap));
    if same(want.get(), reported) {
        if mem.confirmed.is_none_or(|c| !same(c, want.get())) {
            mem.drift_fixes = 0;
            mem.drift_given_up = false;
        }
        mem.confirmed = Some(want.get());
        return (Decision::Nothing, found);
    }
    if mem.confirmed.is_some_and(|c| same(c, want.get())) {
        let fixing = mem.drift_fixes < cfg.max_drift_fixes;
        if fixing || !mem.drift_given_up {
            found.push(Finding::Drift {
                expected: want.get(),
                reported,
                fixing,
            });
        }
        if fixing {
            mem.drift_fixes += 1;
            return (
                Decision::Move {
                    to: want,
                    reason: Reason::DriftFix,
                },
                found,
            );
        }
        mem.drift_given_up = true;
        return (Decision::Nothing, found);
    }
    (
        Decision::Move {
            to: want,
            reason: Reason::Schedule,
        },
        found,
    )
}

fn track_stall(cfg: &Config, obs: &Observation, mem: &mut Memory, found: &mut Vec<Finding>) {
    let hashing = obs.hashrate.is_some_and(|h| h > 0.0) && !obs.paused;
    let frozen =
        hashing && obs.hashrate == mem.last_hashrate && obs.shares_accepted == mem.last_shares;
    if frozen {
        mem.stall_streak += 1;
        if mem.stall_streak >= cfg.stall_after && !mem.stalled {
            mem.stalled = true;
            found.push(Finding::Stalled);
        }
    } else {
        mem.stall_streak = 0;
        if mem.stalled {
            mem.stalled = false;
            found.push(Finding::StallCleared);
        }
    }
    mem.last_hashrate = obs.hashrate;
    mem.last_shares = obs.shares_accepted;
}

#[cfg(test)]
mod tests;
