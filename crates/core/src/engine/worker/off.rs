//! The Off profile on one miner, and what the power budget lets it run.
//!
//! Off pauses mining (`POST /api/system/pause`, AxeOS v2.14+). Firmware that does not know the
//! route gets the lowest safe settings instead (`min_voltage` / `min_frequency` clamped through the
//! model's envelope), through the normal stepwise path. The pause lives in the miner's RAM, so a
//! reboot resumes mining: a paused miner found mining while Off is still in force is paused again.
//! Leaving Off resumes a miner the engine paused (the firmware restores its stored voltage and
//! ramps to its stored frequency); the normal transition to the new target starts once it has
//! reached them. A pause the user asked for (a per-miner pause command) is left alone.

use super::*;
use crate::engine::budget_task::Caps;
use crate::schedule::{Profile, Target};

/// What a worker remembers about pausing its miner.
#[derive(Debug, Default)]
pub(crate) struct OffMemory {
    /// The engine paused it (for Off).
    pub paused_by_engine: bool,
    /// The firmware has no pause route: Off runs the lowest safe settings.
    pub cannot_pause: bool,
    /// The user paused it by hand: not resumed by the engine.
    pub paused_by_user: bool,
    /// Resumed: waiting until the clock reached the stored frequency before any move.
    pub settling: bool,
}

/// The target a worker acts on: the plan's, or what the power budget released to it.
#[derive(Debug, Clone)]
pub(crate) struct Effective {
    pub target: Target,
    /// Pause mining (or the lowest safe settings where the firmware cannot pause).
    pub off: bool,
    /// Hold where it is: the budget has released nothing to it yet.
    pub hold: Option<String>,
    /// The power budget chose the profile (not the plan).
    pub by_budget: bool,
    /// Why, in words ("plan: off", "power budget: quiet").
    pub why: String,
}

/// What `miner` should run now: the plan's target, unless the budget released another profile
/// (an emergency wins over the budget). On firmware that cannot pause, Off is the lowest safe
/// settings (the `off` profile's settings: `min_voltage` / `min_frequency`, which the envelope
/// clamps to the model's minimum).
pub(crate) fn effective(
    plan: &Plan,
    miner: &crate::config::MinerConfig,
    now: chrono::DateTime<chrono::Utc>,
    caps: &Caps,
) -> (Effective, Source) {
    let (target, source) = plan.target(miner, now);
    let plain = |target: Target| {
        let why = format!("{}: {}", source_words(source), target.profile);
        Effective {
            off: target.off,
            target,
            hold: None,
            by_budget: false,
            why,
        }
    };
    if source == Source::Emergency {
        return (plain(target), source);
    }
    let eff = match caps.for_miner(&miner.name) {
        None => plain(target),
        Some(None) => Effective {
            hold: Some("waiting for the power budget to release it".into()),
            ..plain(target)
        },
        Some(Some(p)) if p == target.profile.name() => plain(target),
        Some(Some(p)) => {
            let target = Target::of(&plan.config, miner, Profile::new(p));
            Effective {
                off: target.off,
                target,
                hold: None,
                by_budget: true,
                why: format!("power budget: {p}"),
            }
        }
    };
    (eff, source)
}

fn source_words(source: Source) -> &'static str {
    match source {
        Source::Schedule => "plan",
        Source::Manual => "applied by hand",
        Source::Emergency => "emergency stop",
    }
}

/// What the Off logic did this cycle.
pub(super) enum OffStep {
    /// Nothing to do with pausing: go on with the normal path.
    Continue,
    /// Handled (paused, resumed, waiting): the state's reason.
    Done(String),
}

impl Worker {
    /// This miner's entry in the budget's caps now.
    pub(super) fn my_cap(&self) -> Option<Option<String>> {
        self.caps_rx
            .borrow()
            .for_miner(&self.name)
            .map(|o| o.map(str::to_string))
    }

    /// Pause for Off, pause again after a reboot, resume on leaving Off, and wait for a resumed
    /// miner to reach its stored settings.
    pub(super) async fn off_step(
        &mut self,
        info: &axeos::Info,
        eff: &Effective,
        source: Source,
        schedule_paused: bool,
    ) -> OffStep {
        let paused_now = info.mining_paused == Some(true);
        if source == Source::Emergency || schedule_paused {
            // Hold: a paused miner is safer than any settings; nothing is resumed.
            return if paused_now {
                OffStep::Done("paused".into())
            } else {
                OffStep::Continue
            };
        }
        if eff.off && !self.off.cannot_pause {
            if paused_now {
                self.off.paused_by_engine = true;
                return OffStep::Done(format!("paused ({})", eff.why));
            }
            let again = self.off.paused_by_engine;
            let r = tokio::select! {
                _ = self.cancel.cancelled() => return OffStep::Done("shutting down".into()),
                r = self.client.pause() => r,
            };
            return match r {
                Ok(()) => {
                    self.off.paused_by_engine = true;
                    self.off.settling = false;
                    let reason = if again {
                        format!("{}; it was mining again (restarted?)", eff.why)
                    } else {
                        eff.why.clone()
                    };
                    self.emit(Event::MiningPaused {
                        miner: self.name.clone(),
                        reason,
                    });
                    OffStep::Done(format!("paused ({})", eff.why))
                }
                Err(e) if e.is_unsupported() => {
                    self.off.cannot_pause = true;
                    let message = format!(
                        "[{}] {e}; Off runs the lowest safe settings instead",
                        self.name
                    );
                    self.say_once(message.clone(), Event::Warning { message });
                    // The fallback target is used from the next cycle on.
                    OffStep::Done("cannot pause: moving to the lowest safe settings".into())
                }
                Err(e) => {
                    // Tried again next poll; said once per kind of failure.
                    let message = format!("[{}] could not pause: {e}", self.name);
                    self.say_once(message.clone(), Event::Warning { message });
                    OffStep::Done(format!("could not pause: {e}"))
                }
            };
        }
        if paused_now && !self.off.paused_by_user {
            let r = tokio::select! {
                _ = self.cancel.cancelled() => return OffStep::Done("shutting down".into()),
                r = self.client.resume() => r,
            };
            return match r {
                Ok(()) => {
                    self.off.paused_by_engine = false;
                    self.off.settling = true;
                    self.emit(Event::MiningResumed {
                        miner: self.name.clone(),
                        reason: eff.why.clone(),
                    });
                    OffStep::Done("resumed: ramping back to its stored settings".into())
                }
                Err(e) => {
                    let message = format!("[{}] could not resume: {e}", self.name);
                    self.say_once(message.clone(), Event::Warning { message });
                    OffStep::Done(format!("could not resume: {e}"))
                }
            };
        }
        if paused_now {
            return OffStep::Done("paused by hand".into());
        }
        if self.off.settling {
            let ramping = match (info.actual_frequency, info.frequency) {
                (Some(a), Some(f)) => (a - f).abs() > crate::reconcile::SAME_FREQUENCY_MHZ,
                _ => false,
            };
            if ramping {
                return OffStep::Done("resumed: ramping back to its stored settings".into());
            }
            self.off.settling = false;
        }
        OffStep::Continue
    }
}
