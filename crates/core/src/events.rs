//! The one way out of the engine: every front end (CLI log and table, desktop bridge, history,
//! alerts) subscribes to this bus and nothing else.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::safety::Settings;
use crate::schedule::Profile;

/// Health of one miner, as badges and the tray show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum MinerState {
    /// Not polled yet.
    Unknown,
    Online,
    /// Did not answer `offline_after` polls in a row.
    Offline,
    /// Settings are being changed step by step.
    Transitioning,
    /// Held below its schedule because it was too hot or drew too much power.
    Throttled,
    /// Hashrate frozen and shares not moving.
    Stalled,
    /// The firmware's own overheat protection stopped it.
    Overheated,
    /// `enabled: false` in the config.
    Disabled,
}

impl MinerState {
    pub fn label(self) -> &'static str {
        match self {
            MinerState::Unknown => "Unknown",
            MinerState::Online => "Online",
            MinerState::Offline => "Offline",
            MinerState::Transitioning => "Transitioning",
            MinerState::Throttled => "Throttled",
            MinerState::Stalled => "Stalled",
            MinerState::Overheated => "Overheated",
            MinerState::Disabled => "Disabled",
        }
    }
}

/// One poll's numbers, as stored in history and statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Sample {
    pub miner: String,
    pub at: DateTime<Utc>,
    pub profile: Profile,
    /// GH/s
    pub hashrate: f64,
    /// W
    pub power: f64,
    /// °C (none while the ASIC is off)
    pub temp: Option<f64>,
    pub vr_temp: Option<f64>,
    /// mV and MHz the miner reports as configured
    pub voltage: Option<u32>,
    pub frequency: Option<f64>,
}

impl Sample {
    pub fn efficiency(&self) -> Option<f64> {
        axeos::efficiency(self.power, self.hashrate)
    }
}

/// Everything the engine reports. Serialised with a `kind` tag for the desktop bridge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Event {
    /// A miner answered a poll.
    Sampled(Sample),
    /// A poll failed (the miner is reported Offline only after `offline_after` of these).
    PollFailed {
        miner: String,
        error: String,
        consecutive: u32,
    },
    StateChanged {
        miner: String,
        from: MinerState,
        to: MinerState,
        reason: String,
    },
    TransitionStarted {
        miner: String,
        from: Settings,
        to: Settings,
        steps: u32,
        reason: String,
    },
    TransitionStep {
        miner: String,
        step: u32,
        of: u32,
        settings: Settings,
    },
    TransitionDone {
        miner: String,
        settings: Settings,
    },
    TransitionFailed {
        miner: String,
        error: String,
    },
    /// A newer target replaced a transition under way, or shutdown stopped it between steps.
    TransitionStopped {
        miner: String,
        at: Settings,
        reason: String,
    },
    /// Settings stepped down because of heat or power.
    Throttled {
        miner: String,
        reason: String,
        settings: Settings,
    },
    /// A throttled miner stayed cool long enough and gets its schedule back.
    Restored {
        miner: String,
    },
    /// The miner reports settings other than the ones the engine last confirmed on it.
    Drift {
        miner: String,
        expected: Settings,
        reported: Settings,
        action: String,
    },
    /// A miner found outside the envelope was brought inside it.
    SafetyCorrection {
        miner: String,
        reported: Settings,
        corrected: Settings,
    },
    /// The schedule (or a manual or emergency override) switched the fleet to another profile.
    ProfileChanged {
        profile: Profile,
        source: String,
    },
    Emergency {
        active: bool,
    },
    Paused {
        paused: bool,
    },
    ConfigReloaded,
    StatsSaved {
        path: String,
    },
    /// A target the miner does not take was given up: the miner is held where it is (or at the
    /// safe settings when that is unsafe) and tried again only when the target changes, when the
    /// user asks, or at `retry_at` (the backoff doubles each time).
    GaveUp {
        miner: String,
        target: Settings,
        reason: String,
        retry_at: Option<DateTime<Utc>>,
    },
    /// The firmware's overheat protection stopped the miner (with or without its flag).
    FirmwareOverheat {
        miner: String,
    },
    /// A second firmware overheat at this profile within 24 h: the profile now runs `steps`
    /// throttle steps lower on this miner until the user clears it.
    CeilingLowered {
        miner: String,
        profile: Profile,
        steps: u32,
    },
    /// The fan was put back the way it was before the firmware forced it to manual 100 %.
    FanRestored {
        miner: String,
        auto: bool,
        manual_percent: Option<f64>,
    },
    /// The device at a known address is not the one first seen there: not written to until the
    /// user confirms it.
    IdentityChanged {
        miner: String,
        expected: String,
        found: String,
    },
    /// A model without known hard limits: monitored, never written to until its `limits` are set.
    UnknownModel {
        miner: String,
        model: String,
    },
    /// The Off profile paused mining on a miner (or, on firmware without pause, put it on the
    /// lowest safe settings); `reason` says why ("plan: off").
    MiningPaused {
        miner: String,
        reason: String,
    },
    /// Mining resumed on a miner the engine had paused.
    MiningResumed {
        miner: String,
        reason: String,
    },
    /// The power budget holds a miner below its plan: `from` the planned profile, `to` the one it
    /// may run.
    BudgetLimited {
        miner: String,
        from: String,
        to: String,
        reason: String,
    },
    /// Room came back: a limited miner is raised again (`to` is its plan when fully restored).
    BudgetRestored {
        miner: String,
        from: String,
        to: String,
    },
    /// Something the user should know that is not tied to one miner.
    Warning {
        message: String,
    },
    /// An alert reached a channel of `alerts.channels` (`channel`: its name, else its type and
    /// server; `miner` empty for a test).
    AlertSent {
        channel: String,
        miner: String,
        title: String,
    },
    /// An alert did not reach a channel (`message` says which alert, why, and whether it is
    /// tried again); never holds a secret.
    AlertFailed {
        channel: String,
        message: String,
    },
}

/// How much an event matters to a person reading a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Level {
    /// Routine (samples, single steps): not worth a log line.
    Trace,
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl Event {
    /// The same grading for every front end's log.
    pub fn level(&self) -> Level {
        match self {
            Event::Sampled(_) | Event::TransitionStep { .. } | Event::StatsSaved { .. } => {
                Level::Trace
            }
            Event::PollFailed { .. }
            | Event::Drift { .. }
            | Event::Throttled { .. }
            | Event::Warning { .. }
            | Event::AlertFailed { .. } => Level::Warning,
            Event::CeilingLowered { .. }
            | Event::FirmwareOverheat { .. }
            | Event::UnknownModel { .. }
            | Event::BudgetLimited { .. } => Level::Warning,
            Event::TransitionFailed { .. }
            | Event::GaveUp { .. }
            | Event::IdentityChanged { .. }
            | Event::SafetyCorrection { .. }
            | Event::Emergency { active: true } => Level::Error,
            Event::StateChanged {
                to: MinerState::Offline | MinerState::Overheated,
                ..
            } => Level::Error,
            _ => Level::Info,
        }
    }

    /// The miner this event is about, if any.
    pub fn miner(&self) -> Option<&str> {
        match self {
            Event::Sampled(s) => Some(&s.miner),
            Event::PollFailed { miner, .. }
            | Event::StateChanged { miner, .. }
            | Event::TransitionStarted { miner, .. }
            | Event::TransitionStep { miner, .. }
            | Event::TransitionDone { miner, .. }
            | Event::TransitionFailed { miner, .. }
            | Event::TransitionStopped { miner, .. }
            | Event::Throttled { miner, .. }
            | Event::Restored { miner }
            | Event::Drift { miner, .. }
            | Event::SafetyCorrection { miner, .. }
            | Event::GaveUp { miner, .. }
            | Event::FirmwareOverheat { miner }
            | Event::CeilingLowered { miner, .. }
            | Event::FanRestored { miner, .. }
            | Event::IdentityChanged { miner, .. }
            | Event::UnknownModel { miner, .. }
            | Event::MiningPaused { miner, .. }
            | Event::MiningResumed { miner, .. }
            | Event::BudgetLimited { miner, .. }
            | Event::BudgetRestored { miner, .. } => Some(miner),
            _ => None,
        }
    }

    /// A one-line human description, for logs and the events view.
    pub fn describe(&self) -> String {
        match self {
            Event::Sampled(s) => format!(
                "{:.1} GH/s, {:.1} W, {}",
                s.hashrate,
                s.power,
                s.temp
                    .map(|t| format!("{t:.1}°C"))
                    .unwrap_or_else(|| "--".into())
            ),
            Event::PollFailed {
                error, consecutive, ..
            } => format!("poll failed ({consecutive} in a row): {error}"),
            Event::StateChanged {
                from, to, reason, ..
            } => format!("{} -> {}: {reason}", from.label(), to.label()),
            Event::TransitionStarted {
                from,
                to,
                steps,
                reason,
                ..
            } => format!("changing {from} -> {to} in {steps} step(s) ({reason})"),
            Event::TransitionStep {
                step, of, settings, ..
            } => format!("step {step}/{of}: {settings}"),
            Event::TransitionDone { settings, .. } => format!("now at {settings}"),
            Event::TransitionFailed { error, .. } => format!("transition failed: {error}"),
            Event::TransitionStopped { at, reason, .. } => {
                format!("transition stopped at {at}: {reason}")
            }
            Event::Throttled {
                reason, settings, ..
            } => format!("throttled to {settings}: {reason}"),
            Event::Restored { .. } => "cool again: schedule restored".into(),
            Event::Drift {
                expected,
                reported,
                action,
                ..
            } => format!(
                "settings changed on the miner: expected {expected}, found {reported}; {action}"
            ),
            Event::SafetyCorrection {
                reported,
                corrected,
                ..
            } => format!("found at {reported}, outside the safety limits; set to {corrected}"),
            Event::ProfileChanged { profile, source } => format!("profile {profile} ({source})"),
            Event::Emergency { active: true } => {
                "EMERGENCY STOP: safe settings on every enabled miner until resumed".into()
            }
            Event::Emergency { active: false } => "emergency stop cleared: schedule resumed".into(),
            Event::Paused { paused } => {
                if *paused {
                    "schedule paused".into()
                } else {
                    "schedule resumed".into()
                }
            }
            Event::ConfigReloaded => "configuration reloaded".into(),
            Event::StatsSaved { path } => format!("statistics saved to {path}"),
            Event::GaveUp {
                target,
                reason,
                retry_at,
                ..
            } => format!(
                "gave up on {target}: {reason}; held where it is until the target changes, you retry{}",
                retry_at
                    .map(|t| format!(", or {}", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            ),
            Event::FirmwareOverheat { .. } => {
                "the firmware's overheat protection stopped the ASIC; nothing is written while it cools"
                    .into()
            }
            Event::CeilingLowered { profile, steps, .. } => format!(
                "overheated twice at {profile} within 24 h: {profile} now runs {steps} throttle step(s) lower on this miner until cleared"
            ),
            Event::FanRestored {
                auto,
                manual_percent,
                ..
            } => {
                if *auto {
                    "fan back on automatic after the firmware's overheat recovery".into()
                } else {
                    format!(
                        "fan back to manual {}% after the firmware's overheat recovery",
                        manual_percent.map(|m| format!("{m:.0}")).unwrap_or_else(|| "?".into())
                    )
                }
            }
            Event::IdentityChanged {
                expected, found, ..
            } => format!(
                "a different device answers at this address (expected {expected}, found {found}); not written to until you confirm it"
            ),
            Event::UnknownModel { model, .. } => format!(
                "model {model} has no known hard limits: monitored only, never written to until you set its limits"
            ),
            Event::MiningPaused { reason, .. } => format!("paused ({reason})"),
            Event::MiningResumed { reason, .. } => format!("resumed ({reason})"),
            Event::BudgetLimited {
                from, to, reason, ..
            } => format!("limited by the power budget: {to} instead of {from} ({reason})"),
            Event::BudgetRestored { from, to, .. } => {
                format!("room in the power budget again: {from} -> {to}")
            }
            Event::Warning { message } => message.clone(),
            Event::AlertSent { channel, title, .. } => {
                format!("alert {title:?} sent to {channel}")
            }
            Event::AlertFailed { channel, message } => {
                format!("alert to {channel} failed: {message}")
            }
        }
    }
}
