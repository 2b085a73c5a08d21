//! One task per enabled miner: poll, decide, act. One request in flight per miner by
//! construction, and a slow or dead miner never delays another.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::engine::Shared;
use crate::events::{Event, MinerState, Sample};
use crate::plan::{Plan, Source};
use crate::reconcile::{decide, over_limit, Decision, Finding, Memory, Observation, Reason};
use crate::safety::{SafeSettings, Settings};
use crate::transition::{backoff, plan_steps, Mover, Outcome, Pacing};

pub(crate) struct Worker {
    pub name: String,
    pub client: axeos::Client,
    pub shared: Arc<Shared>,
    pub plan_rx: watch::Receiver<Arc<Plan>>,
    pub cancel: CancellationToken,
    mem: Memory,
    failures: u32,
    failed_moves: u32,
    state: MinerState,
    reason: String,
    not_before: Option<Instant>,
}

impl Worker {
    pub fn new(
        name: String,
        client: axeos::Client,
        shared: Arc<Shared>,
        plan_rx: watch::Receiver<Arc<Plan>>,
        cancel: CancellationToken,
    ) -> Worker {
        Worker {
            name,
            client,
            shared,
            plan_rx,
            cancel,
            mem: Memory::default(),
            failures: 0,
            failed_moves: 0,
            state: MinerState::Unknown,
            reason: String::new(),
            not_before: None,
        }
    }

    pub async fn run(mut self) {
        let period = {
            let plan = self.plan_rx.borrow();
            plan.config
                .check_interval
                .min(plan.config.temp_check_interval)
                .max(0.05)
        };
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(period));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            let plan_changed = tokio::select! {
                _ = self.cancel.cancelled() => break,
                changed = self.plan_rx.changed() => {
                    if changed.is_err() { break }
                    true
                }
                _ = ticks.tick() => false,
            };
            if !plan_changed && self.not_before.is_some_and(|t| Instant::now() < t) {
                continue;
            }
            self.cycle().await;
        }
    }

    fn mover(&self, pacing: Pacing) -> Mover<'_> {
        Mover {
            client: &self.client,
            miner: &self.name,
            bus: &self.shared.bus,
            cancel: &self.cancel,
            pacing,
        }
    }

    fn emit(&self, event: Event) {
        let _ = self.shared.bus.send(event);
    }

    fn set_state(&mut self, to: MinerState, reason: String) {
        if to != self.state {
            self.emit(Event::StateChanged {
                miner: self.name.clone(),
                from: self.state,
                to,
                reason: reason.clone(),
            });
            self.state = to;
        }
        self.reason = reason;
        let (state, why, cap) = (self.state, self.reason.clone(), self.mem.throttle_cap);
        self.shared.update_status(&self.name, |s| {
            s.state = state;
            s.reason = why;
            s.throttle_cap = cap;
        });
    }

    async fn cycle(&mut self) {
        let plan = self.plan_rx.borrow_and_update().clone();
        let Some(miner) = plan.config.miner(&self.name).cloned() else {
            return;
        };
        let info = match self.client.info().await {
            Ok(info) => info,
            Err(e) => return self.poll_failed(&plan, e),
        };
        let now = self.shared.clock.now();
        let (target, source) = plan.target(&miner, now);
        if self.failures >= plan.config.offline_after {
            self.emit(Event::Warning {
                message: format!(
                    "[{}] back online after {} failed polls",
                    self.name, self.failures
                ),
            });
        }
        self.failures = 0;
        self.not_before = None;
        self.emit(Event::Sampled(Sample {
            miner: self.name.clone(),
            at: now,
            profile: target.profile,
            hashrate: info.hash_rate.unwrap_or(0.0),
            power: info.power.unwrap_or(0.0),
            temp: info.temp,
            vr_temp: info.vr_temp,
            voltage: info.core_voltage,
            frequency: info.frequency,
        }));
        let obs = Observation::from_info(&info);
        self.shared.update_status(&self.name, |s| {
            s.info = Some(info);
            s.target = Some(target);
            s.last_error = None;
            s.updated = Some(now);
        });
        // Paused: hold whatever the miner runs; safety still acts.
        let desired = match (
            plan.overrides.paused && source != Source::Emergency,
            obs.reported,
        ) {
            (true, Some(r)) => r,
            _ => target.settings,
        };
        let cfg = plan.config.clone();
        let env = cfg.envelope();
        let (decision, findings) = decide(&cfg, &env, desired, &obs, &mut self.mem);
        for f in findings {
            self.report(f);
        }
        if let Decision::Move { to, reason } = decision {
            if let Some(from) = obs.reported {
                self.move_to(&plan, from, to, reason, source).await;
            }
        }
        let (state, why) = self.resting_state(&cfg);
        self.set_state(state, why);
    }

    fn resting_state(&self, cfg: &crate::config::Config) -> (MinerState, String) {
        if self.mem.firmware_overheat {
            (
                MinerState::Overheated,
                "the firmware stopped the ASIC to cool it".into(),
            )
        } else if let Some(cap) = self.mem.throttle_cap {
            let why = if self.reason.is_empty() || self.state != MinerState::Throttled {
                format!(
                    "held at or below {cap} until it stays under max_temp {}°C / max_power {} W",
                    cfg.max_temp, cfg.max_power
                )
            } else {
                self.reason.clone()
            };
            (MinerState::Throttled, why)
        } else if self.mem.stalled {
            (
                MinerState::Stalled,
                "hashrate frozen and no new shares".into(),
            )
        } else {
            (MinerState::Online, String::new())
        }
    }

    fn poll_failed(&mut self, plan: &Plan, error: axeos::Error) {
        self.failures += 1;
        let text = error.to_string();
        self.emit(Event::PollFailed {
            miner: self.name.clone(),
            error: text.clone(),
            consecutive: self.failures,
        });
        self.shared
            .update_status(&self.name, |s| s.last_error = Some(text.clone()));
        let limit = plan.config.offline_after.max(1);
        if self.failures >= limit {
            self.set_state(
                MinerState::Offline,
                format!("{} polls in a row failed: {text}", self.failures),
            );
            let period = Duration::from_secs_f64(
                plan.config
                    .check_interval
                    .min(plan.config.temp_check_interval)
                    .max(0.05),
            );
            let wait = backoff(period, self.failures - limit + 1).min(Duration::from_secs(300));
            self.not_before = Some(Instant::now() + wait.saturating_sub(period / 2));
        }
    }

    fn report(&mut self, finding: Finding) {
        let miner = self.name.clone();
        match finding {
            Finding::FirmwareOverheat => self.set_state(MinerState::Overheated, "the firmware stopped the ASIC to cool it".into()),
            Finding::FirmwareResumed(at) => self.emit(Event::Throttled {
                miner,
                reason: format!("the firmware resumed at {at} after an overheat; held there until it stays cool"),
                settings: at,
            }),
            Finding::OutsideEnvelope { reported, corrected } => self.emit(Event::SafetyCorrection { miner, reported, corrected }),
            Finding::Hot(reason) => self.reason = reason,
            Finding::Cool => self.emit(Event::Restored { miner }),
            Finding::Drift { expected, reported, fixing } => self.emit(Event::Drift {
                miner,
                expected,
                reported,
                action: if fixing { "re-applying".into() } else { "left alone (max_drift_fixes reached)".into() },
            }),
            Finding::Stalled => self.set_state(MinerState::Stalled, "hashrate frozen and no new shares".into()),
            Finding::StallCleared => {}
        }
    }

    async fn move_to(
        &mut self,
        plan: &Plan,
        from: Settings,
        to: SafeSettings,
        reason: Reason,
        source: Source,
    ) {
        let cfg = &plan.config;
        let env = cfg.envelope();
        let routine =
            matches!(reason, Reason::Schedule | Reason::DriftFix) && source != Source::Emergency;
        let steps = if routine && cfg.smooth_transition {
            cfg.transition_steps
        } else {
            1
        };
        let path = plan_steps(from, to, steps, &env);
        if path.is_empty() {
            return;
        }
        // Routine changes share the worker pool; safety and emergency moves never wait for it.
        let _permit = if routine {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                p = plan.permits.clone().acquire_owned() => p.ok(),
            }
        } else {
            None
        };
        let why = match &reason {
            Reason::Schedule => format!(
                "{} {}",
                source.name(),
                plan.profile(self.shared.clock.now()).0
            ),
            Reason::DriftFix => "re-applying after drift".into(),
            Reason::SafetyCorrection => "safety correction".into(),
            Reason::Throttle(r) => r.clone(),
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
        let outcome = {
            let cfg_for_check = cfg.clone();
            let limit =
                move |info: &axeos::Info| over_limit(&cfg_for_check, &Observation::from_info(info));
            let rx = self.plan_rx.clone();
            let mut stop = move || {
                rx.has_changed()
                    .unwrap_or(true)
                    .then(|| "a newer target replaced it".to_string())
            };
            let mover = self.mover(Pacing::from_config(cfg));
            mover.run(from, &path, &limit, &mut stop).await
        };
        self.state = before.0;
        self.reason = before.1;
        match outcome {
            Outcome::Done(at) => {
                self.failed_moves = 0;
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
                self.failed_moves += 1;
                self.emit(Event::TransitionFailed {
                    miner: self.name.clone(),
                    error: error.clone(),
                });
                self.shared
                    .update_status(&self.name, |s| s.last_error = Some(error));
                if self.failed_moves >= 2 {
                    self.fall_back_to_safe(plan, from).await;
                }
            }
        }
    }

    /// Two changes in a row failed: try the safe settings once, in one step, and say so.
    async fn fall_back_to_safe(&mut self, plan: &Plan, from: Settings) {
        let cfg = &plan.config;
        let env = cfg.envelope();
        let safe = env.clamp(cfg.safe());
        self.failed_moves = 0;
        let mover = self.mover(Pacing::immediate());
        let path = plan_steps(from, safe, 1, &env);
        let outcome = mover.run(from, &path, &|_| None, &mut || None).await;
        self.emit(Event::Warning {
            message: match outcome {
                Outcome::Done(_) => format!("[{}] settings changes keep failing; fell back to the safe settings {}", self.name, safe.get()),
                _ => format!("[{}] settings changes keep failing and the safe settings could not be written either", self.name),
            },
        });
    }
}
