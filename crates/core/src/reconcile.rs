//! What to do about one miner after one poll: a pure decision from the config, the goal, what
//! the miner reported and what the engine remembers about it. The worker carries it out.
//!
//! Policy, in priority order:
//! 1. Firmware overheat (see [`overheat`]): recognised by the flag, by its signature (hashrate 0,
//!    clock at 50 MHz, fan forced to manual 100 %), or afterwards by the stored settings exactly
//!    -100 mV / -100 MHz from what was confirmed with the fan forced. Write nothing while it cools;
//!    when it resumes, its reduced settings become the ceiling, the fan goes back to the mode it
//!    had, and the schedule may not raise the miner for `overheat_cooloff_minutes`. A second
//!    overheat at the same profile within 24 h lowers that profile by one throttle step until the
//!    user clears it. Never a drift.
//! 2. Outside the envelope: bring it inside at once, in one step, before anything else.
//! 3. Over `max_temp`, `max_vr_temp` or `max_power`: step down (-25 MHz, -10 mV, never below the
//!    safe settings) and cap the schedule there. Each further hot check steps down again. A miner
//!    that does not report its settings goes straight to the safe settings.
//! 4. Throttled and cool (temperature `temp_hysteresis` below the limit, power 5 % below) for
//!    `restore_after` checks in a row: raise the cap by ONE throttle step; once the cap is at or
//!    above the goal it goes. So a miner that was too hot climbs back a step at a time, and back
//!    to the clock at which it was too hot only once the room has clearly cooled (predicted
//!    `temp_hysteresis` under the limit there) or after [`HOLD_BEFORE_RETRY`] × `restore_after`
//!    cool checks, which starts a new throttle episode: no raise-lower-raise within an episode.
//! 5. Otherwise move to the (capped) goal. If the miner already had that target confirmed and now
//!    reports something else, the firmware or a person changed it: that is drift, re-applied at
//!    most `max_drift_fixes` times per target, then reported and left alone.
//!
//! An emergency goal is the safe settings; nothing above them is ever decided while it holds.
//! Stalls (hashrate frozen and shares not moving for `stall_after` polls) are reported only.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::safety::{Envelope, SafeSettings, Settings};
use crate::schedule::Profile;

pub mod overheat;
pub use overheat::FanMode;

/// One throttle step: this much lower clock...
pub const THROTTLE_STEP_MHZ: f64 = 25.0;
/// ...and this much lower voltage.
pub const THROTTLE_STEP_MV: u32 = 10;
/// A restore held back below the hot level tries it again after this many `restore_after`
/// streaks of cool checks.
pub const HOLD_BEFORE_RETRY: u32 = 10;
/// Frequencies this close count as the same (firmware before v2.10 stores 531 for 531.25).
pub const SAME_FREQUENCY_MHZ: f64 = 1.0;

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
    /// PLL clock reached now (v2.14+).
    pub actual_frequency: Option<f64>,
    /// The fan mode the miner reports, when it reports both keys.
    pub fan: Option<FanMode>,
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
            actual_frequency: info.actual_frequency,
            fan: FanMode::of(info),
        }
    }
}

/// What the schedule (or an override) wants for one miner now.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub settings: Settings,
    /// The profile it comes from: overheat ceilings are kept per profile.
    pub profile: Option<Profile>,
    /// An emergency stop holds: the goal is the safe settings and nothing may go above them.
    pub emergency: bool,
    /// When the decision is made (cool-off periods, the 24 h overheat window).
    pub now: Option<DateTime<Utc>>,
}

impl From<Settings> for Goal {
    fn from(settings: Settings) -> Goal {
        Goal {
            settings,
            profile: None,
            emergency: false,
            now: None,
        }
    }
}

/// What the engine remembers about one miner between polls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    /// The schedule is held at or below this because of heat, power or a firmware overheat.
    pub throttle_cap: Option<Settings>,
    pub cool_streak: u32,
    /// The target last written and read back.
    pub confirmed: Option<Settings>,
    pub drift_fixes: u32,
    pub drift_given_up: bool,
    /// The firmware's overheat protection has the miner now.
    pub firmware_overheat: bool,
    /// No raise before this (after a firmware overheat).
    pub cooloff_until: Option<DateTime<Utc>>,
    /// Per profile, how many throttle steps under the profile the miner is held after repeated
    /// firmware overheats; kept until the user clears it.
    pub ceilings: Vec<(Profile, u32)>,
    pub stall_streak: u32,
    pub stalled: bool,
    /// The lowest clock at which the miner was found over a limit in this throttle episode: a
    /// restore climbs back to it only when the room has clearly cooled (see [`decide`] rule 4).
    /// Forgotten when the goal changes.
    pub hot_at: Option<f64>,
    /// The ASIC temperature when it was last found hot (`None`: it was the power).
    hot_temp: Option<f64>,
    /// The first temperature read at the cap after the step down (still in the hot room).
    cap_temp: Option<f64>,
    /// Cool checks spent held back below the hot level.
    held: u32,
    /// Throttle episodes ended: the cap went, or the hot level was tried again.
    pub episodes: u32,
    goal_seen: Option<Settings>,
    pub(crate) heat: overheat::Tracker,
    last_hashrate: Option<f64>,
    last_shares: Option<u64>,
}

impl Memory {
    /// Forget the overheat ceilings (the user asked).
    pub fn clear_ceilings(&mut self) {
        self.ceilings.clear();
    }

    /// How many throttle steps `profile` is held under after repeated overheats.
    pub fn ceiling(&self, profile: Profile) -> u32 {
        self.ceilings
            .iter()
            .find(|(p, _)| *p == profile)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    fn lower_ceiling(&mut self, profile: Profile) -> u32 {
        match self.ceilings.iter_mut().find(|(p, _)| *p == profile) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.ceilings.push((profile, 1));
                1
            }
        }
    }
}

/// Why a move is made: decides smoothing, the worker pool, and the event wording.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    Schedule,
    DriftFix,
    SafetyCorrection,
    Throttle(String),
    /// One throttle step back up after staying cool.
    Restore,
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
    /// Put the fan back the way it was before the firmware forced it to manual 100 %.
    RestoreFan(FanMode),
}

/// Things worth an event, found while deciding.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    FirmwareOverheat,
    /// The firmware resumed at these (reduced) settings; held there until `cooloff_until`.
    FirmwareResumed {
        at: Settings,
        cooloff_until: Option<DateTime<Utc>>,
    },
    /// A second overheat at this profile within a day: the profile runs `steps` throttle steps
    /// lower on this miner until the user clears it.
    CeilingLowered {
        profile: Profile,
        steps: u32,
    },
    OutsideEnvelope {
        reported: Settings,
        corrected: Settings,
    },
    Hot(String),
    /// One throttle step back up: the cap is now this.
    Raised(Settings),
    Cool,
    Drift {
        expected: Settings,
        reported: Settings,
        fixing: bool,
    },
    Stalled,
    StallCleared,
}

/// The same settings: the voltage exactly, the frequency within [`SAME_FREQUENCY_MHZ`].
pub fn same(a: Settings, b: Settings) -> bool {
    a.voltage == b.voltage && (a.frequency - b.frequency).abs() < SAME_FREQUENCY_MHZ
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

/// Whether going back to the clock at which the miner was too hot would now stay cool: the
/// temperature there is predicted as now plus what the step down took off (the hot reading minus
/// the first reading at the cap), and must be `temp_hysteresis` under `max_temp`. In a steady room the prediction stays hot, so there is no raise-lower-raise cycle;
/// when the room cools, the miner gets its clock back. A power limit is not about the room: it
/// is never retried until the goal changes.
fn room_cooled(cfg: &Config, obs: &Observation, mem: &mut Memory) -> bool {
    let (Some(now), Some(hot)) = (obs.temp, mem.hot_temp) else {
        return false;
    };
    let Some(at_cap) = mem.cap_temp else {
        return false;
    };
    now + (hot - at_cap) <= cfg.max_temp - cfg.temp_hysteresis
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

/// One throttle step up from `from` toward `limit`: +25 MHz, and the voltage raised at least in
/// proportion (never less than 10 mV), so the voltage never trails the clock on the way back.
pub fn step_up(from: Settings, limit: Settings) -> Settings {
    let f = (from.frequency + THROTTLE_STEP_MHZ).min(limit.frequency.max(from.frequency));
    let df = limit.frequency - from.frequency;
    let share = if df > 0.0 {
        ((f - from.frequency) / df).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let dv = limit.voltage.saturating_sub(from.voltage);
    let rise = ((f64::from(dv) * share).ceil() as u32).max(THROTTLE_STEP_MV);
    Settings::new(
        from.voltage
            .saturating_add(rise)
            .min(limit.voltage.max(from.voltage)),
        f,
    )
}

/// `desired` lowered by `steps` throttle steps (never below the safe settings).
fn lowered(cfg: &Config, env: &Envelope, desired: Settings, steps: u32) -> Settings {
    (0..steps).fold(desired, |s, _| step_down(cfg, env, s))
}

/// Decide for one poll. `goal` is what the schedule (or an override) wants now; a plain
/// [`Settings`] is a goal with no profile, no emergency and no clock.
pub fn decide(
    cfg: &Config,
    env: &Envelope,
    goal: impl Into<Goal>,
    obs: &Observation,
    mem: &mut Memory,
) -> (Decision, Vec<Finding>) {
    let goal = goal.into();
    let mut found = Vec::new();
    track_stall(cfg, obs, mem, &mut found);
    let safe = env.clamp(cfg.safe()).get();

    // 1. The firmware's own overheat protection: wait it out, then hold what it chose.
    if let Some(decision) = overheat::track(cfg, env, &goal, obs, mem, &mut found) {
        return (decision, found);
    }

    let Some(reported) = obs.reported else {
        // A hot or hungry miner that hides its settings still gets the safe settings.
        if let Some(reason) = over_limit(cfg, obs) {
            mem.throttle_cap = Some(safe);
            mem.cool_streak = 0;
            found.push(Finding::Hot(reason.clone()));
            return (
                Decision::Move {
                    to: env.clamp(safe),
                    reason: Reason::Throttle(reason),
                },
                found,
            );
        }
        return (Decision::Nothing, found);
    };

    // 2. Outside the envelope: inside at once (and no higher than safe in an emergency).
    let mut inside = env.clamp(reported);
    if goal.emergency {
        inside = env.clamp(capped(inside.get(), Some(safe)));
    }
    if !env.contains(reported) {
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

    // The goal: safe in an emergency, else the profile under any overheat ceiling.
    let desired = if goal.emergency {
        safe
    } else {
        let steps = goal.profile.map(|p| mem.ceiling(p)).unwrap_or(0);
        lowered(cfg, env, goal.settings, steps)
    };

    if !mem.goal_seen.is_some_and(|g| same(g, desired)) {
        mem.goal_seen = Some(desired);
        mem.hot_at = None;
    }

    // 3. Too hot or too hungry: step down and cap.
    if let Some(reason) = over_limit(cfg, obs) {
        let base = capped(reported, mem.throttle_cap);
        let mut down = step_down(cfg, env, base);
        if goal.emergency {
            down = capped(down, Some(safe));
        }
        mem.hot_at = Some(mem.hot_at.map_or(base.frequency, |h| h.min(base.frequency)));
        let heat = obs
            .temp
            .filter(|t| *t > cfg.max_temp)
            .or(obs.vr_temp.filter(|t| *t > cfg.max_vr_temp).and(obs.temp));
        mem.hot_temp = heat;
        mem.cap_temp = None;
        mem.held = 0;
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

    // 4. Throttled: one step back up after staying cool (and after any cool-off).
    let mut restoring = false;
    if let Some(cap) = mem.throttle_cap {
        if mem.cap_temp.is_none() && same(capped(reported, Some(cap)), reported) {
            mem.cap_temp = obs.temp;
        }
        let cooling_off = matches!((mem.cooloff_until, goal.now), (Some(u), Some(n)) if n < u);
        if cool(cfg, obs) && !cooling_off {
            mem.cool_streak += 1;
            if mem.cool_streak >= cfg.restore_after {
                mem.cool_streak = 0;
                mem.cooloff_until = None;
                let up = step_up(cap, desired);
                let into_hot = mem
                    .hot_at
                    .is_some_and(|h| up.frequency >= h - 1e-9 && up.frequency > cap.frequency);
                let held_long = mem.held >= HOLD_BEFORE_RETRY * cfg.restore_after.max(1);
                if into_hot && !room_cooled(cfg, obs, mem) && !held_long {
                    // Back to where it was too hot only when the room has clearly cooled, or
                    // after a long hold (the fan's PID can hide a cooler room): a new episode.
                    mem.held += cfg.restore_after.max(1);
                } else {
                    if into_hot {
                        mem.hot_at = None;
                        mem.held = 0;
                        mem.episodes += 1;
                    }
                    if up.voltage >= desired.voltage && up.frequency >= desired.frequency {
                        mem.throttle_cap = None;
                        mem.hot_at = None;
                        mem.held = 0;
                        mem.episodes += 1;
                        found.push(Finding::Cool);
                    } else {
                        mem.throttle_cap = Some(up);
                        found.push(Finding::Raised(up));
                    }
                    restoring = true;
                }
            }
        } else {
            mem.cool_streak = 0;
        }
    }

    // 5. The goal, capped.
    let want = env.clamp(capped(desired, mem.throttle_cap));
    if same(want.get(), reported) {
        if mem.confirmed.is_none_or(|c| !same(c, want.get())) {
            mem.drift_fixes = 0;
            mem.drift_given_up = false;
        }
        mem.confirmed = Some(want.get());
        return (Decision::Nothing, found);
    }
    if goal.emergency {
        // Never anything above the safe settings; below them (a firmware ceiling) is kept.
        let down = Settings::new(
            reported.voltage.min(want.get().voltage),
            reported.frequency.min(want.get().frequency),
        );
        if same(down, reported) {
            return (Decision::Nothing, found);
        }
        return (
            Decision::Move {
                to: env.clamp(down),
                reason: Reason::Schedule,
            },
            found,
        );
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
            reason: if restoring {
                Reason::Restore
            } else {
                Reason::Schedule
            },
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
