//! One task per enabled miner: poll, decide, act. One request in flight per miner by
//! construction (restart and pause come through the worker's mailbox too), and a slow or dead
//! miner never delays another.
//!
//! A routine change needs a `max_workers` permit. A miner waiting for one is not blocked: it keeps
//! being polled (and throttled), and when the permit comes it decides again from a fresh reading.
//! Safety and emergency moves never wait for a permit. Every change has a write budget (see
//! [`effort`]); a target the miner does not take is given up, said once, and retried only when the
//! target changes, when the user asks ([`MinerCommand::Retry`], or any new plan), or after a
//! doubling backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::engine::Shared;
use crate::events::{Event, MinerState, Sample};
use crate::identity;
use crate::overrides::Overrides;
use crate::plan::{Plan, Source};
use crate::reconcile::{
    decide, over_limit, Decision, FanMode, Finding, Goal, Memory, Observation, Reason,
};
use crate::safety::{Envelope, SafeSettings, Settings};
use crate::transition::{backoff, plan_steps, Mover, Outcome, Pacing};

mod effort;
mod lookahead;
mod mailbox;
mod moves;
mod off;
use effort::Effort;
pub(crate) use mailbox::Mailboxes;
pub use mailbox::MinerCommand;
use mailbox::Request;
use off::{OffMemory, OffStep};

use crate::engine::budget_task::Caps;

/// The first backoff after giving up a move toward safety, minutes (doubling like the others).
pub const URGENT_BACKOFF_MINUTES: f64 = 1.0;

pub(crate) struct Worker {
    pub name: String,
    pub client: axeos::Client,
    pub shared: Arc<Shared>,
    pub plan_rx: watch::Receiver<Arc<Plan>>,
    pub cancel: CancellationToken,
    commands: mpsc::Receiver<Request>,
    mem: Memory,
    effort: Effort,
    failures: u32,
    state: MinerState,
    reason: String,
    not_before: Option<Instant>,
    /// A `max_workers` permit held for the next routine change.
    permit: Option<OwnedSemaphorePermit>,
    waiting_for_permit: bool,
    /// The config and overrides last acted on: a user's change clears a give-up.
    seen: Option<(Arc<Config>, Overrides)>,
    version: Option<String>,
    /// The MAC accepted as this miner's (first contact or confirmed).
    accepted_mac: Option<Option<String>>,
    /// Why nothing may be written to this miner now (another device, an unknown model).
    blocked: Option<String>,
    /// The device at this address is not the one first seen there (waiting for confirmation).
    identity_pending: bool,
    /// Alerts already given, so each is said once.
    said: Vec<String>,
    /// What the power budget lets this miner run.
    caps_rx: watch::Receiver<Arc<Caps>>,
    /// This miner's entry in the caps as last acted on.
    last_cap: Option<Option<String>>,
    off: OffMemory,
    /// Why the current target, in words ("schedule: day", "power budget: quiet").
    why: String,
    /// The plan's next change, looked up again only when it no longer holds.
    ahead: lookahead::Lookahead,
}

/// What woke the worker.
#[derive(PartialEq)]
enum Wake {
    Tick,
    Plan,
    Permit,
}

impl Worker {
    pub fn new(
        name: String,
        client: axeos::Client,
        shared: Arc<Shared>,
        plan_rx: watch::Receiver<Arc<Plan>>,
        cancel: CancellationToken,
        commands: mpsc::Receiver<Request>,
    ) -> Worker {
        let caps_rx = shared.caps.subscribe();
        Worker {
            name,
            client,
            shared,
            plan_rx,
            cancel,
            commands,
            mem: Memory::default(),
            effort: Effort::default(),
            failures: 0,
            state: MinerState::Unknown,
            reason: String::new(),
            not_before: None,
            permit: None,
            waiting_for_permit: false,
            seen: None,
            version: None,
            accepted_mac: None,
            blocked: None,
            identity_pending: false,
            said: Vec::new(),
            caps_rx,
            last_cap: None,
            ahead: lookahead::Lookahead::default(),
            off: OffMemory::default(),
            why: String::new(),
        }
    }

    pub async fn run(mut self) {
        let period = poll_period(&self.plan_rx.borrow().config);
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            let permits = self.plan_rx.borrow().permits.clone();
            let waiting = self.waiting_for_permit && self.permit.is_none();
            let wake = tokio::select! {
                _ = self.cancel.cancelled() => break,
                changed = self.plan_rx.changed() => {
                    if changed.is_err() { break }
                    Wake::Plan
                }
                _ = ticks.tick() => Wake::Tick,
                changed = self.caps_rx.changed() => {
                    if changed.is_err() { break }
                    if self.my_cap() == self.last_cap { continue }
                    Wake::Plan
                }
                Some(request) = self.commands.recv() => {
                    self.handle(request).await;
                    continue;
                }
                permit = permits.acquire_owned(), if waiting => {
                    self.permit = permit.ok();
                    Wake::Permit
                }
            };
            if wake == Wake::Tick && self.not_before.is_some_and(|t| Instant::now() < t) {
                continue;
            }
            self.cycle().await;
        }
        self.shared.mailboxes.close(&self.name);
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
        self.publish_status();
    }

    fn publish_status(&self) {
        let (state, why, cap) = (self.state, self.reason.clone(), self.mem.throttle_cap);
        let cooloff = self.mem.cooloff_until;
        let gave_up = self.effort.summary();
        let ceilings = self.mem.ceilings.clone();
        let identity_pending = self.identity_pending;
        self.shared.update_status(&self.name, |s| {
            s.state = state;
            s.reason = why;
            s.throttle_cap = cap;
            s.cooloff_until = cooloff;
            s.gave_up = gave_up;
            s.ceilings = ceilings;
            s.identity_pending = identity_pending;
        });
    }

    /// A user's change (config, overrides) clears a give-up: they asked again.
    fn note_plan(&mut self, plan: &Plan) {
        let changed = self.seen.as_ref().is_some_and(|(c, o)| {
            !Arc::ptr_eq(c, &plan.config) && **c != *plan.config || *o != plan.overrides
        });
        if changed {
            self.effort.clear();
        }
        self.seen = Some((plan.config.clone(), plan.overrides.clone()));
    }

    async fn cycle(&mut self) {
        let plan = self.plan_rx.borrow_and_update().clone();
        self.note_plan(&plan);
        let Some(miner) = plan.config.miner(&self.name).cloned() else {
            return;
        };
        let started = std::time::Instant::now();
        let read = tokio::select! {
            _ = self.cancel.cancelled() => return,
            r = self.client.info() => r,
        };
        self.shared.polls.observe(started.elapsed());
        let info = match read {
            Ok(info) => info,
            Err(e) => return self.poll_failed(&plan, e),
        };
        let now = self.shared.clock.now();
        let caps = self.caps_rx.borrow_and_update().clone();
        self.last_cap = self.my_cap();
        let (mut eff, source) = off::effective(&plan, &miner, now, &caps);
        let resolution = self.ahead.resolution(&plan, &miner, now);
        if !eff.by_budget && source == Source::Schedule {
            eff.why = format!("{}: {}", resolution.reason, eff.target.profile);
        }
        let target = eff.target.clone();
        self.why = eff.why.clone();
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
        self.version = info.version.clone();
        self.emit(Event::Sampled(Sample {
            miner: self.name.clone(),
            at: now,
            profile: target.profile.clone(),
            hashrate: info.hash_rate.unwrap_or(0.0),
            power: info.power.unwrap_or(0.0),
            temp: info.temp,
            vr_temp: info.vr_temp,
            voltage: info.core_voltage,
            frequency: info.frequency,
        }));
        let obs = Observation::from_info(&info);
        let seen = info.clone();
        let cfg = plan.config.clone();
        let env = self.writable(&cfg, &miner, &info);
        let mut why = resolution.describe(plan.tz);
        if eff.by_budget {
            why = format!(
                "{}: power budget (the plan: {why})",
                crate::profiles::label(&target.profile)
            );
        }
        self.shared.update_status(&self.name, |s| {
            s.info = Some(info);
            s.target = Some(target.clone());
            s.plan_why = Some(why);
            s.last_error = None;
            s.updated = Some(now);
        });
        let emergency = source == Source::Emergency;
        // Paused, or waiting for the budget: hold whatever the miner runs; safety still acts.
        let hold = (plan.overrides.paused && !emergency) || eff.hold.is_some();
        let desired = match (hold, obs.reported) {
            (true, Some(r)) => r,
            _ => target.settings,
        };
        let goal = Goal {
            settings: desired,
            profile: Some(target.profile),
            emergency,
            now: Some(now),
        };
        let Some(env) = env else {
            // Monitored only: polled and shown, nothing decided or written.
            self.waiting_for_permit = false;
            self.permit = None;
            let mut why = self.blocked.clone().unwrap_or_default();
            if let Some(hot) = over_limit(&cfg, &obs) {
                why = format!("{hot}; {why}");
            }
            self.set_state(MinerState::Online, why);
            return;
        };
        if let OffStep::Done(why) = self
            .off_step(&seen, &eff, source, plan.overrides.paused)
            .await
        {
            self.waiting_for_permit = false;
            self.permit = None;
            self.set_state(MinerState::Online, why);
            return;
        }
        let (decision, findings) = decide(&cfg, &env, goal, &obs, &mut self.mem);
        for f in findings {
            self.report(f);
        }
        match decision {
            Decision::Move { to, reason } => {
                self.act(&plan, &env, &obs, to, reason, source, target.settings)
                    .await;
            }
            Decision::RestoreFan(fan) => self.restore_fan(fan).await,
            Decision::Nothing | Decision::Wait => {
                self.waiting_for_permit = false;
                self.permit = None;
            }
        }
        let (state, why) = self.resting_state(&cfg);
        self.set_state(state, why);
    }

    /// The envelope to write inside, or `None` when nothing may be written: another device
    /// answers at the address (until the user confirms it), or a model without known limits
    /// (until the user sets `limits`). Each reason is said once.
    fn writable(
        &mut self,
        cfg: &Config,
        miner: &crate::config::MinerConfig,
        info: &axeos::Info,
    ) -> Option<Envelope> {
        let seen = identity::Identity::of(info);
        if self.accepted_mac.as_ref() != Some(&seen.mac) {
            match identity::check(&self.shared.config_path, &self.name, &seen) {
                Ok(identity::Check::Same) => {
                    self.identity_pending = false;
                    if self.accepted_mac.is_some() {
                        // A confirmed new device: what was remembered was about the old one.
                        self.mem = Memory::default();
                        self.effort.clear();
                    }
                    self.accepted_mac = Some(seen.mac.clone());
                }
                Ok(identity::Check::Different { expected, found }) => {
                    self.identity_pending = true;
                    let event = Event::IdentityChanged {
                        miner: self.name.clone(),
                        expected,
                        found,
                    };
                    let why = event.describe();
                    self.say_once(why.clone(), event);
                    self.blocked = Some(why);
                    return None;
                }
                Err(e) => {
                    let message = format!("[{}] identity file: {e}", self.name);
                    self.say_once(message.clone(), Event::Warning { message });
                    self.accepted_mac = Some(seen.mac.clone());
                }
            }
        }
        match crate::safety::envelope_for(cfg, miner, info) {
            Ok(env) => {
                self.blocked = None;
                Some(env)
            }
            Err(e) => {
                let event = Event::UnknownModel {
                    miner: self.name.clone(),
                    model: e.model.clone(),
                };
                let why = event.describe();
                self.say_once(why.clone(), event);
                self.blocked = Some(why);
                None
            }
        }
    }

    fn say_once(&mut self, key: String, event: Event) {
        if !self.said.contains(&key) {
            self.said.push(key);
            self.emit(event);
        }
    }

    fn resting_state(&self, cfg: &Config) -> (MinerState, String) {
        if self.mem.firmware_overheat {
            return (
                MinerState::Overheated,
                "the firmware stopped the ASIC to cool it".into(),
            );
        }
        let ceilings = self
            .mem
            .ceilings
            .iter()
            .map(|(p, n)| format!("{p} held {n} throttle step(s) lower after repeated overheats"))
            .collect::<Vec<_>>()
            .join("; ");
        let with_ceilings = |s: String| {
            if ceilings.is_empty() {
                s
            } else if s.is_empty() {
                ceilings.clone()
            } else {
                format!("{s}; {ceilings}")
            }
        };
        if let Some(cap) = self.mem.throttle_cap {
            let why = match self.mem.cooloff_until {
                Some(until) => format!(
                    "held at or below {cap} after a firmware overheat; no raise before {}",
                    until.format("%H:%M UTC")
                ),
                None if self.reason.is_empty() || self.state != MinerState::Throttled => format!(
                    "held at or below {cap} until it stays under max_temp {}°C / max_power {} W",
                    cfg.max_temp, cfg.max_power
                ),
                None => self.reason.clone(),
            };
            (MinerState::Throttled, with_ceilings(why))
        } else if self.mem.stalled {
            (
                MinerState::Stalled,
                with_ceilings("hashrate frozen and no new shares".into()),
            )
        } else if let Some(why) = self.effort.summary() {
            (MinerState::Online, with_ceilings(why))
        } else if self.waiting_for_permit {
            (
                MinerState::Online,
                with_ceilings("waiting for a free slot (max_workers)".into()),
            )
        } else {
            (MinerState::Online, with_ceilings(String::new()))
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
            let period = poll_period(&plan.config);
            let wait = backoff(period, self.failures - limit + 1).min(Duration::from_secs(300));
            self.not_before = Some(Instant::now() + wait.saturating_sub(period / 2));
        }
    }

    fn report(&mut self, finding: Finding) {
        let miner = self.name.clone();
        match finding {
            Finding::FirmwareOverheat => {
                self.emit(Event::FirmwareOverheat { miner });
                self.set_state(
                    MinerState::Overheated,
                    "the firmware stopped the ASIC to cool it".into(),
                );
            }
            Finding::FirmwareResumed { at, cooloff_until } => self.emit(Event::Throttled {
                miner,
                reason: format!(
                    "the firmware resumed at {at} after an overheat; held there{}",
                    cooloff_until
                        .map(|u| format!(", no raise before {}", u.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default()
                ),
                settings: at,
            }),
            Finding::CeilingLowered { profile, steps } => self.emit(Event::CeilingLowered {
                miner,
                profile,
                steps,
            }),
            Finding::OutsideEnvelope {
                reported,
                corrected,
            } => self.emit(Event::SafetyCorrection {
                miner,
                reported,
                corrected,
            }),
            Finding::Hot(reason) => self.reason = reason,
            Finding::Raised(cap) => self.emit(Event::Throttled {
                miner,
                reason: "cool again: one throttle step back up".into(),
                settings: cap,
            }),
            Finding::Cool => self.emit(Event::Restored { miner }),
            Finding::Drift {
                expected,
                reported,
                fixing,
            } => self.emit(Event::Drift {
                miner,
                expected,
                reported,
                action: if fixing {
                    "re-applying".into()
                } else {
                    "left alone (max_drift_fixes reached)".into()
                },
            }),
            Finding::Stalled => self.set_state(
                MinerState::Stalled,
                "hashrate frozen and no new shares".into(),
            ),
            Finding::StallCleared => {}
        }
    }
}

fn poll_period(cfg: &Config) -> Duration {
    let s = cfg.check_interval.min(cfg.temp_check_interval);
    if s.is_finite() {
        Duration::from_secs_f64(s.clamp(0.05, 3600.0))
    } else {
        Duration::from_secs(60)
    }
}
