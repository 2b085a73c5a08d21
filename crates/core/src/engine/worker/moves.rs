//! How a worker carries a decision out: the fan given back, a move inside its write budget
//! (taking a `max_workers` permit first when it is routine), and giving a target up.

use super::*;

impl Worker {
    pub(super) async fn restore_fan(&mut self, fan: FanMode) {
        let version = self.version.clone();
        match self
            .mover(Pacing::immediate())
            .set_fan(fan, version.as_deref())
            .await
        {
            Ok(()) => self.emit(Event::FanRestored {
                miner: self.name.clone(),
                auto: fan.auto,
                manual_percent: fan.manual_percent,
            }),
            Err(e) => self.emit(Event::Warning {
                message: format!("[{}] could not put the fan back: {e}", self.name),
            }),
        }
    }

    /// Carry out one move inside its budget, taking a permit first if it is routine.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn act(
        &mut self,
        plan: &Plan,
        env: &Envelope,
        obs: &Observation,
        to: SafeSettings,
        reason: Reason,
        source: Source,
        start_target: Settings,
    ) {
        let cfg = &plan.config;
        let now = self.shared.clock.now();
        // A miner that hides its settings: assume the highest, so the clock goes down first.
        let from = obs
            .reported
            .unwrap_or(Settings::new(env.max_voltage, env.max_frequency));
        let routine =
            matches!(reason, Reason::Schedule | Reason::DriftFix) && source != Source::Emergency;
        let steps = if routine && reason == Reason::Schedule && cfg.smooth_transition {
            cfg.transition_steps.clamp(1, 100)
        } else {
            1
        };
        let budget = self.effort.begin(to.get(), steps, now);
        let Some(budget) = budget else {
            // Given up on this target; held until the target changes, the user asks, or the
            // backoff ends.
            self.waiting_for_permit = false;
            self.permit = None;
            return;
        };
        let permit = if routine {
            match self.permit.take() {
                Some(p) => Some(p),
                None => match plan.permits.clone().try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) => {
                        // Keep polling (and throttling); the run loop waits for the permit and
                        // the next cycle decides again from a fresh reading.
                        self.waiting_for_permit = true;
                        return;
                    }
                },
            }
        } else {
            None
        };
        self.waiting_for_permit = false;
        let path = plan_steps(from, to, steps, env);
        if path.is_empty() {
            return;
        }
        let why = match &reason {
            Reason::Schedule => self.why.clone(),
            Reason::DriftFix => "re-applying after drift".into(),
            Reason::SafetyCorrection => "safety correction".into(),
            Reason::Throttle(r) => r.clone(),
            Reason::Restore => "cool again: one throttle step back up".into(),
        };
        if let Reason::Throttle(r) = &reason {
            self.emit(Event::Throttled {
                miner: self.name.clone(),
                reason: r.clone(),
                settings: to.get(),
            });
        }
        let before = (self.state, self.reason.clone());
        self.set_state(MinerState::Transitioning, why.clone());
        self.emit(Event::TransitionStarted {
            miner: self.name.clone(),
            from,
            to: to.get(),
            steps: path.len() as u32,
            reason: why,
        });
        let (outcome, writes) = {
            let cfg_for_check = cfg.clone();
            let limit =
                move |info: &axeos::Info| over_limit(&cfg_for_check, &Observation::from_info(info));
            let rx = self.plan_rx.clone();
            let caps_rx = self.caps_rx.clone();
            let cannot_pause = self.off.cannot_pause;
            let start = plan.clone();
            let clock = self.shared.clock.clone();
            let name = self.name.clone();
            let mut stop = move || {
                let plan_changed = rx.has_changed().unwrap_or(true);
                let caps_changed = caps_rx.has_changed().unwrap_or(true);
                if !plan_changed && !caps_changed {
                    return None;
                }
                let next = rx.borrow().clone();
                let caps = caps_rx.borrow().clone();
                let now = clock.now();
                superseded(&start, &next, &name, start_target, now, &caps, cannot_pause)
            };
            let mover = self.mover(Pacing::from_config(cfg).with_budget(budget));
            mover.run_counting(from, &path, &limit, &mut stop).await
        };
        drop(permit);
        self.effort.spend(writes);
        self.state = before.0;
        self.reason = before.1;
        match outcome {
            Outcome::Done(at) => {
                self.mem.confirmed = Some(at);
                self.shared.update_status(&self.name, |s| {
                    if let Some(i) = s.info.as_mut() {
                        i.core_voltage = Some(at.voltage);
                        i.frequency = Some(at.frequency);
                    }
                });
                self.emit(Event::TransitionDone {
                    miner: self.name.clone(),
                    settings: at,
                });
            }
            Outcome::Stopped { at, reason } | Outcome::OverLimit { at, reason } => {
                self.emit(Event::TransitionStopped {
                    miner: self.name.clone(),
                    at,
                    reason,
                });
            }
            Outcome::Failed { error, .. } => {
                self.emit(Event::TransitionFailed {
                    miner: self.name.clone(),
                    error: error.clone(),
                });
                self.shared
                    .update_status(&self.name, |s| s.last_error = Some(error.clone()));
                self.give_up(plan, env, obs, to, &reason, error).await;
            }
        }
    }

    /// The target did not take within its budget: hold (or go to the safe settings when where
    /// the miner is is unsafe), say so once, and wait for a reason to try again.
    async fn give_up(
        &mut self,
        plan: &Plan,
        env: &Envelope,
        obs: &Observation,
        to: SafeSettings,
        reason: &Reason,
        error: String,
    ) {
        let cfg = &plan.config;
        let now = self.shared.clock.now();
        // A move toward safety (emergency, heat, envelope) is tried again sooner: from one minute.
        let urgent = plan.overrides.emergency
            || matches!(reason, Reason::SafetyCorrection | Reason::Throttle(_));
        let base = if urgent {
            cfg.give_up_backoff_minutes.min(URGENT_BACKOFF_MINUTES)
        } else {
            cfg.give_up_backoff_minutes
        };
        let retry_at = self.effort.give_up(now, base, error.clone());
        let safe = env.clamp(cfg.safe());
        let unsafe_here = obs
            .reported
            .is_none_or(|r| !env.contains(r) || over_limit(cfg, obs).is_some())
            || matches!(reason, Reason::SafetyCorrection | Reason::Throttle(_));
        let mut held = "held where it is".to_string();
        if unsafe_here && safe.get() != to.get() {
            let from = obs
                .reported
                .unwrap_or(Settings::new(env.max_voltage, env.max_frequency));
            let path = plan_steps(from, safe, 1, env);
            let mover = self.mover(Pacing::immediate().with_budget(2));
            let (outcome, _) = mover
                .run_counting(from, &path, &|_| None, &mut || None)
                .await;
            held = match outcome {
                Outcome::Done(_) => format!("moved to the safe settings {}", safe.get()),
                _ => "the safe settings could not be written either".into(),
            };
        }
        self.emit(Event::GaveUp {
            miner: self.name.clone(),
            target: to.get(),
            reason: format!("{error}; {held}"),
            retry_at,
        });
    }
}

/// Why a plan published during a move stops it before its next write: an emergency, a pause
/// or resume, a new target for this miner, new limits. Other changes (another miner's override,
/// a wake-up) let it run on.
fn superseded(
    start: &Plan,
    next: &Plan,
    miner: &str,
    start_target: Settings,
    now: chrono::DateTime<chrono::Utc>,
    caps: &Caps,
    cannot_pause: bool,
) -> Option<String> {
    if next.overrides.emergency && !start.overrides.emergency {
        return Some("an emergency stop pre-empted it".into());
    }
    if next.overrides.paused != start.overrides.paused {
        return Some("the schedule was paused or resumed".into());
    }
    let Some(m) = next.config.miner(miner).filter(|m| m.enabled) else {
        return Some("the miner was removed or disabled".into());
    };
    let (eff, _) = super::off::effective(next, m, now, caps);
    if eff.off && !cannot_pause {
        return Some("the miner is to be paused".into());
    }
    if eff.hold.is_none() && !crate::reconcile::same(eff.target.settings, start_target) {
        return Some("a newer target replaced it".into());
    }
    if next.config.envelope() != start.config.envelope() || start.config.miner(miner) != Some(m) {
        return Some("the limits changed".into());
    }
    None
}
