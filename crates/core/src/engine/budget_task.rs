//! The budget task: with `power_budget` set, it decides (from the status board) which profile
//! each miner may run, and releases those decisions to the workers at the stagger's pace.
//!
//! Each tick it builds every polled miner's ladder (its candidate profiles by expected watts,
//! `off` at the bottom, nothing above its plan), runs [`crate::budget::allocate`], reports the
//! limits it sets or lifts on the bus, and hands the grants to the [`Stagger`]. What was released
//! is published in [`Caps`]: a worker runs the released profile instead of the plan's (an
//! emergency still wins), and holds where it is until its first release. Without a budget the
//! caps are inactive and workers follow the plan as before.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::Shared;
use crate::budget::curve::{estimate_jth, IDLE_WATTS};
use crate::budget::{
    allocate, estimate_watts, BudgetUse, Change, Memory, MinerView, PowerBudget, PowerCurve, Reach,
    Rung, Stagger, Tuning,
};
use crate::config::{Config, MinerConfig};
use crate::events::{Event, MinerState};
use crate::plan::Plan;
use crate::profiles;
use crate::reconcile::same;
use crate::safety::Settings;
use crate::status::MinerStatus;

/// How many polls a limited miner stays limited at least, and the restore headroom.
const HOLD_POLLS: u32 = 5;
const HEADROOM: f64 = 0.05;

/// What the workers may run while a budget is set: the profile released to each miner.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Caps {
    pub active: bool,
    pub released: BTreeMap<String, String>,
}

impl Caps {
    /// `None`: no budget, follow the plan. `Some(None)`: hold until released.
    pub fn for_miner(&self, miner: &str) -> Option<Option<&str>> {
        self.active
            .then(|| self.released.get(miner).map(String::as_str))
    }
}

/// One profile a miner can be put on, with what it writes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub profile: String,
    pub settings: Settings,
    /// Pauses mining (where the firmware can).
    pub off: bool,
}

/// The profiles the budget may choose from for `miner` (every profile the config knows, with
/// the miner's overrides; `off` pauses, or runs the lowest settings where it cannot pause).
pub(crate) fn candidates(cfg: &Config, miner: &MinerConfig) -> Vec<Candidate> {
    profiles::names(cfg)
        .into_iter()
        .map(|p| {
            let spec = profiles::spec_for(cfg, miner, &p);
            Candidate {
                profile: p.name().to_string(),
                settings: spec.settings,
                off: spec.off,
            }
        })
        .collect()
}

pub(crate) struct BudgetTask {
    shared: Arc<Shared>,
    plan_rx: watch::Receiver<Arc<Plan>>,
    mem: Memory,
    stagger: Stagger,
    curves: HashMap<String, PowerCurve>,
    /// Limits in force, for the status.
    limited: BTreeMap<String, String>,
    /// Each group budget's own hysteresis memory.
    group_mem: HashMap<String, Memory>,
}

impl BudgetTask {
    pub fn new(shared: Arc<Shared>, plan_rx: watch::Receiver<Arc<Plan>>) -> BudgetTask {
        BudgetTask {
            shared,
            plan_rx,
            mem: Memory::default(),
            stagger: Stagger::new(Duration::ZERO),
            curves: HashMap::new(),
            limited: BTreeMap::new(),
            group_mem: HashMap::new(),
        }
    }

    pub async fn run(mut self) {
        let period = tick_period(&self.plan_rx.borrow().config);
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let cancel = self.shared.cancel_token().clone();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticks.tick() => {}
            }
            let plan = self.plan_rx.borrow().clone();
            self.tick(&plan, Instant::now());
        }
    }

    /// One round: allocate, report, release, publish.
    pub fn tick(&mut self, plan: &Plan, now: Instant) {
        let cfg = plan.config.clone();
        let groups: Vec<(String, PowerBudget, Vec<String>)> = cfg
            .groups
            .iter()
            .filter_map(|(name, g)| Some((name.clone(), g.power_budget?, g.miners.clone())))
            .collect();
        // Group caps alone: the fleet itself is unbounded, paced by the groups' longest stagger.
        let fleet = cfg.power_budget.or_else(|| {
            (!groups.is_empty()).then(|| PowerBudget {
                watts: f64::INFINITY,
                stagger_seconds: groups
                    .iter()
                    .map(|(_, b, _)| b.stagger_seconds)
                    .max()
                    .unwrap_or(0),
            })
        });
        let Some(budget) = fleet else {
            if self.shared.caps.borrow().active {
                self.shared.caps.send_replace(Arc::new(Caps::default()));
                *self = BudgetTask::new(self.shared.clone(), self.plan_rx.clone());
            }
            self.shared.set_budget_use(None);
            return;
        };
        self.stagger
            .set_window(Duration::from_secs(u64::from(budget.stagger_seconds)));
        let tuning = Tuning {
            headroom: HEADROOM,
            min_hold: poll_period(&cfg) * HOLD_POLLS,
        };
        let at = self.shared.clock.now();
        let board = self.shared.board().snapshot();
        let mut views = Vec::new();
        for status in &board {
            let Some(miner) = cfg.miner(&status.name).filter(|m| m.enabled) else {
                self.forget(&status.name);
                continue;
            };
            // Never polled: nothing to count or compare yet; its worker holds until released.
            if status.info.is_none() {
                continue;
            }
            let planned = plan.target(miner, at).0.profile.name().to_string();
            let view = self.view(&cfg, miner, status, &planned);
            self.record(status, &view);
            views.push(view);
        }
        let mut changes = Vec::new();
        for (group, cap, members) in &groups {
            let mine: Vec<MinerView> = views
                .iter()
                .filter(|v| members.contains(&v.name))
                .cloned()
                .collect();
            let mem = self.group_mem.entry(group.clone()).or_default();
            let within = allocate(cap.watts, &mine, mem, &tuning, now);
            // The group's grant is a ceiling for the fleet's allocation.
            for grant in &within.grants {
                if let Some(v) = views.iter_mut().find(|v| v.name == grant.miner) {
                    v.planned = v.planned.min(grant.rung);
                }
            }
            changes.extend(within.changes.into_iter().map(|c| in_group(c, group)));
        }
        let allocation = allocate(budget.watts, &views, &mut self.mem, &tuning, now);
        changes.extend(allocation.changes.iter().cloned());
        let mut urgent = Vec::new();
        for change in &changes {
            match change {
                Change::Limited {
                    miner,
                    from,
                    to,
                    reason,
                } => {
                    urgent.push(miner.clone());
                    self.emit(Event::BudgetLimited {
                        miner: miner.clone(),
                        from: from.clone(),
                        to: to.clone(),
                        reason: reason.clone(),
                    });
                }
                Change::Restored {
                    miner, from, to, ..
                } => self.emit(Event::BudgetRestored {
                    miner: miner.clone(),
                    from: from.clone(),
                    to: to.clone(),
                }),
            }
        }
        // A miner seen for the first time starts on what it runs; a raise from there waits for
        // its turn like any other.
        for (view, grant) in views.iter().zip(&allocation.grants) {
            if self.stagger.released(&view.name).is_some() {
                continue;
            }
            match view.running {
                Some(r) if r < grant.rung => {
                    let rung = &view.ladder[r];
                    self.stagger.seed(&view.name, &rung.profile, rung.watts);
                }
                _ => self.stagger.seed(&view.name, &grant.profile, grant.watts),
            }
        }
        self.stagger
            .step(&allocation.grants, &urgent, budget.watts, now);
        let released: BTreeMap<String, String> = allocation
            .grants
            .iter()
            .filter_map(|g| {
                let p = self.stagger.released(&g.miner)?;
                Some((g.miner.clone(), p.to_string()))
            })
            .collect();
        let caps = Caps {
            active: true,
            released,
        };
        if **self.shared.caps.borrow() != caps {
            self.shared.caps.send_replace(Arc::new(caps));
        }
        self.limited = allocation
            .grants
            .iter()
            .filter(|g| g.capped)
            .map(|g| (g.miner.clone(), g.profile.clone()))
            .collect();
        let cap = if budget.watts.is_finite() {
            budget.watts
        } else {
            groups.iter().map(|(_, b, _)| b.watts).sum()
        };
        self.shared.set_budget_use(Some(BudgetUse {
            cap,
            used: allocation.expected,
            measured: views
                .iter()
                .filter(|v| v.reach == Reach::Online)
                .filter_map(|v| v.draw)
                .sum::<f64>()
                + 0.0,
            counted: allocation.counted,
            reporting: allocation.reporting,
            limited: self.limited.keys().cloned().collect(),
            met: allocation.met,
        }));
    }

    fn emit(&self, event: Event) {
        let _ = self.shared.bus.send(event);
    }

    fn forget(&mut self, miner: &str) {
        self.mem.forget(miner);
        self.stagger.forget(miner);
        self.curves.remove(miner);
    }

    /// A steady reading on a profile (its settings reached, not paused, not moving) feeds the
    /// miner's power curve for that profile.
    fn record(&mut self, status: &MinerStatus, view: &MinerView) {
        let (Some(info), Some(r)) = (&status.info, view.running) else {
            return;
        };
        if status.state != MinerState::Online
            || view.reach != Reach::Online
            || info.mining_paused == Some(true)
        {
            return;
        }
        let ramping = match (info.actual_frequency, info.frequency) {
            (Some(a), Some(f)) => (a - f).abs() > crate::reconcile::SAME_FREQUENCY_MHZ,
            _ => false,
        };
        if ramping {
            return;
        }
        if let (Some(w), Some(h)) = (info.power, info.hash_rate) {
            self.curves.entry(status.name.clone()).or_default().record(
                &view.ladder[r].profile,
                w,
                h,
            );
        }
    }

    fn view(
        &self,
        cfg: &Config,
        miner: &MinerConfig,
        status: &MinerStatus,
        planned: &str,
    ) -> MinerView {
        let info = status.info.as_ref();
        let paused = info.is_some_and(|i| i.mining_paused == Some(true));
        let can_pause = info.is_some_and(|i| i.mining_paused.is_some());
        let reported = info.and_then(|i| match (i.core_voltage, i.frequency) {
            (Some(v), Some(f)) => Some(Settings::new(v, f)),
            _ => None,
        });
        let reading = match (reported, info.and_then(|i| i.power)) {
            (Some(s), Some(w)) if !paused => Some((s, w)),
            _ => None,
        };
        let curve = self.curves.get(&miner.name);
        let mut cands = candidates(cfg, miner);
        if !cands.iter().any(|c| c.profile == planned) {
            if let Some(t) = &status.target {
                cands.push(Candidate {
                    profile: planned.to_string(),
                    settings: t.settings,
                    off: false,
                });
            }
        }
        let mut ladder: Vec<(Rung, Candidate)> = cands
            .into_iter()
            .map(|c| {
                let measured = curve.and_then(|k| k.watts(&c.profile));
                let watts = if c.off && can_pause {
                    IDLE_WATTS
                } else {
                    measured.unwrap_or_else(|| estimate_watts(reading, c.settings))
                };
                let jth = if c.off && can_pause {
                    f64::INFINITY
                } else {
                    curve
                        .and_then(|k| k.jth(&c.profile))
                        .unwrap_or_else(|| estimate_jth(watts, c.settings.frequency))
                };
                (
                    Rung {
                        profile: c.profile.clone(),
                        watts,
                        jth,
                    },
                    c,
                )
            })
            .collect();
        ladder.sort_by(|a, b| {
            a.0.watts
                .total_cmp(&b.0.watts)
                .then(b.1.off.cmp(&a.1.off))
                .then(a.0.profile.cmp(&b.0.profile))
        });
        let planned_watts = ladder
            .iter()
            .find(|(r, _)| r.profile == planned)
            .map_or(f64::INFINITY, |(r, _)| r.watts);
        // Nothing above the plan; the plan itself and `off` always stay.
        ladder.retain(|(r, c)| r.watts <= planned_watts || r.profile == planned || c.off);
        let planned_rung = ladder
            .iter()
            .position(|(r, _)| r.profile == planned)
            .unwrap_or(ladder.len().saturating_sub(1));
        let released = self.stagger.released(&miner.name);
        let running = if paused {
            ladder.iter().position(|(_, c)| c.off)
        } else {
            reported.and_then(|rep| {
                let matching: Vec<usize> = ladder
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, c))| !c.off || !can_pause)
                    .filter(|(_, (_, c))| same(c.settings, rep))
                    .map(|(i, _)| i)
                    .collect();
                matching
                    .iter()
                    .copied()
                    .find(|&i| Some(ladder[i].0.profile.as_str()) == released)
                    .or_else(|| matching.first().copied())
            })
        };
        let reach = match status.state {
            MinerState::Offline | MinerState::Unknown | MinerState::Disabled => Reach::Gone,
            // Failing polls, or not written to (another device answers at its address): its
            // draw counts, but it cannot be changed.
            _ if status.last_error.is_some() || status.identity_pending => Reach::Silent,
            _ => Reach::Online,
        };
        MinerView {
            name: miner.name.clone(),
            ladder: ladder.into_iter().map(|(r, _)| r).collect(),
            planned: planned_rung,
            running,
            draw: info.and_then(|i| i.power),
            reach,
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

/// Half a poll period, at least 50 ms and at most a second (the stagger's pace needs no more).
fn tick_period(cfg: &Config) -> Duration {
    (poll_period(cfg) / 2).clamp(Duration::from_millis(50), Duration::from_secs(1))
}

/// A group budget's change, its reason naming the group.
fn in_group(change: Change, group: &str) -> Change {
    match change {
        Change::Limited {
            miner,
            from,
            to,
            reason,
        } => Change::Limited {
            miner,
            from,
            to,
            reason: format!("group {group}: {reason}"),
        },
        other => other,
    }
}
