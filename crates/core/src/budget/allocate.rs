//! The allocator: which rung of its profile ladder each miner may run under the budget. A pure
//! function of the miners' views, the budget, the allocator's memory and `now`.
//!
//! Counting: a reachable miner counts with the larger of its measured draw and the expected watts
//! of the rung in force (a change not yet made, or still ramping, counts at what it will draw).
//!
//! Rules, in order:
//! 1. No miner runs above its plan, and a miner that cannot be reached keeps what it has: one
//!    that stopped answering counts with its last draw, one declared offline counts nothing.
//! 2. Over budget: step down one rung at a time, always the reachable miner that is least
//!    efficient (highest J/TH) on the rung it has now, until the fleet fits or every reachable
//!    miner is on its lowest rung (`met` is then false).
//! 3. Under budget: raise one rung at a time, always the most efficient candidate (lowest J/TH on
//!    the rung it would get). A raise the plan asks for needs room for its expected watts; the
//!    restore of a miner the budget limited also needs [`Tuning::headroom`] of the budget left
//!    after it, and waits [`Tuning::min_hold`] after its last limit. So a fleet near its cap does
//!    not flap.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// One candidate profile for one miner, and what it would draw there.
#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    pub profile: String,
    /// Expected draw on this profile, W.
    pub watts: f64,
    /// Efficiency on this profile, J/TH (measured, else estimated; lower is better).
    pub jth: f64,
}

/// Whether a miner can be counted and changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Answered its last poll.
    Online,
    /// Failing polls, not yet declared offline: its last draw counts, it cannot be changed.
    Silent,
    /// Declared offline (`offline_after` failed polls): counts nothing.
    Gone,
}

/// One miner as the allocator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerView {
    pub name: String,
    /// Candidate profiles by expected watts, lowest first (`off` at the bottom). Never empty.
    pub ladder: Vec<Rung>,
    /// The rung the plan (or a manual choice) asks for.
    pub planned: usize,
    /// The rung it runs now, when what it reports matches one.
    pub running: Option<usize>,
    /// Its `power` at its last answered poll, W.
    pub draw: Option<f64>,
    pub reach: Reach,
}

/// Hysteresis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// Fraction of the budget that must stay free after restoring a limited miner.
    pub headroom: f64,
    /// How long a limited miner stays limited at least.
    pub min_hold: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            headroom: 0.05,
            min_hold: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Held {
    profile: String,
    capped: bool,
    /// When the budget last lowered it.
    limited_at: Option<Instant>,
}

/// What the allocator remembers between calls: each miner's grant and when it was last limited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    held: HashMap<String, Held>,
}

impl Memory {
    /// Forget a miner (removed from the config).
    pub fn forget(&mut self, miner: &str) {
        self.held.remove(miner);
    }
}

/// The rung a miner may run.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub miner: String,
    pub rung: usize,
    pub profile: String,
    /// Below its plan because of the budget.
    pub capped: bool,
    /// Expected draw on the granted rung, W.
    pub watts: f64,
    /// J/TH on the granted rung.
    pub jth: f64,
    /// Whether its draw counts (not declared offline).
    pub counts: bool,
}

/// A change of a miner's limit, for the event log.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Limited {
        miner: String,
        from: String,
        to: String,
        reason: String,
    },
    /// Raised again after a limit: `full` when it is back on its plan.
    Restored {
        miner: String,
        from: String,
        to: String,
        full: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// One per miner with a ladder, in input order.
    pub grants: Vec<Grant>,
    pub changes: Vec<Change>,
    /// The fleet's draw by the budget's count with the grants in force, W.
    pub expected: f64,
    /// False when the fleet is over budget even with every reachable miner at its lowest rung.
    pub met: bool,
    /// Miners whose draw counts (not declared offline).
    pub counted: usize,
    /// Of those, how many answered their last poll.
    pub reporting: usize,
}

/// What miner `m` counts for on rung `r`.
fn expected(m: &MinerView, r: usize) -> f64 {
    let rung = m.ladder[r].watts;
    match m.reach {
        Reach::Gone => 0.0,
        Reach::Silent => m.draw.unwrap_or(rung),
        // On the rung it runs: what it draws, but never less than the rung's expected watts (a
        // miner still ramping up reads low, and a raise counted at its reading would let the
        // next raise through before this one has landed).
        Reach::Online => match (m.running, m.draw) {
            (Some(now), Some(d)) if now == r => d.max(rung),
            _ => rung,
        },
    }
}

/// Allocate `budget_w` watts over `miners` (see the module doc for the rules).
pub fn allocate(
    budget_w: f64,
    miners: &[MinerView],
    mem: &mut Memory,
    tuning: &Tuning,
    now: Instant,
) -> Allocation {
    let miners: Vec<&MinerView> = miners.iter().filter(|m| !m.ladder.is_empty()).collect();
    let n = miners.len();
    let planned: Vec<usize> = miners
        .iter()
        .map(|m| m.planned.min(m.ladder.len() - 1))
        .collect();
    let prev: Vec<Option<(usize, Held)>> = miners
        .iter()
        .map(|m| {
            let held = mem.held.get(&m.name)?;
            let r = rung_of(m, &held.profile)?;
            Some((r, held.clone()))
        })
        .collect();
    let mut level: Vec<usize> = (0..n)
        .map(|i| {
            let base = prev[i]
                .as_ref()
                .map(|(r, _)| *r)
                .or(miners[i].running)
                .unwrap_or(planned[i]);
            base.min(planned[i])
        })
        .collect();
    let mut limited_now = vec![false; n];
    let total = |level: &[usize]| -> f64 { (0..n).map(|i| expected(miners[i], level[i])).sum() };
    let mut used = total(&level);
    let mut reasons: Vec<Option<String>> = vec![None; n];

    // Ties are broken by name (the first in name order goes first), so runs are repeatable.
    let mut by_name: Vec<usize> = (0..n).collect();
    by_name.sort_by(|&a, &b| miners[a].name.cmp(&miners[b].name));
    let mut rank = vec![0usize; n];
    for (r, &i) in by_name.iter().enumerate() {
        rank[i] = r;
    }

    // 2. Over budget: the least efficient reachable miner steps down first (a max-heap on
    //    J/TH, then draw; entries made stale by a step are skipped).
    let mut met = true;
    let down_key = |i: usize, l: usize| {
        (
            Total(miners[i].ladder[l].jth),
            Total(expected(miners[i], l)),
            Reverse(rank[i]),
            i,
            l,
        )
    };
    let mut heap: BinaryHeap<_> = (0..n)
        .filter(|&i| miners[i].reach == Reach::Online && level[i] > 0)
        .map(|i| down_key(i, level[i]))
        .collect();
    while used > budget_w + 1e-9 {
        let Some((_, _, _, i, l)) = heap.pop() else {
            met = false;
            break;
        };
        if l != level[i] {
            continue;
        }
        if reasons[i].is_none() {
            reasons[i] = Some(format!(
                "the fleet would draw {used:.0} W, over the {budget_w:.0} W budget, and {} is \
                 the least efficient at {:.1} J/TH",
                miners[i].name, miners[i].ladder[l].jth
            ));
        }
        used -= expected(miners[i], l) - expected(miners[i], l - 1);
        level[i] = l - 1;
        limited_now[i] = true;
        if l > 1 {
            heap.push(down_key(i, l - 1));
        }
    }

    // 3. Room: raise the most efficient candidate first (a min-heap on the J/TH of the rung it
    //    would get), each raise checked against the room. Room only shrinks within one call, so
    //    a candidate that does not fit is dropped.
    if met {
        let up_key =
            |i: usize, l: usize| Reverse((Total(miners[i].ladder[l + 1].jth), rank[i], i, l));
        let mut heap: BinaryHeap<_> = (0..n)
            .filter(|&i| {
                miners[i].reach == Reach::Online && level[i] < planned[i] && !limited_now[i]
            })
            .map(|i| up_key(i, level[i]))
            .collect();
        while let Some(Reverse((_, _, i, l))) = heap.pop() {
            let delta = expected(miners[i], l + 1) - expected(miners[i], l);
            let restoring = prev[i].as_ref().is_some_and(|(_, h)| h.capped);
            let fits = if restoring {
                let held_long_enough = prev[i]
                    .as_ref()
                    .and_then(|(_, h)| h.limited_at)
                    .is_none_or(|at| now.saturating_duration_since(at) >= tuning.min_hold);
                held_long_enough && used + delta <= budget_w * (1.0 - tuning.headroom) + 1e-9
            } else {
                used + delta <= budget_w + 1e-9
            };
            if fits {
                used += delta;
                level[i] = l + 1;
                if level[i] < planned[i] {
                    heap.push(up_key(i, level[i]));
                }
            } else if !restoring && reasons[i].is_none() {
                reasons[i] = Some(format!(
                    "no room to raise it to {}: that needs {delta:.0} W more and {:.0} W of \
                     the {budget_w:.0} W budget is left",
                    miners[i].ladder[l + 1].profile,
                    (budget_w - used).max(0.0)
                ));
            }
        }
    }
    used = total(&level);

    let mut grants = Vec::with_capacity(n);
    let mut changes = Vec::new();
    for i in 0..n {
        let m = miners[i];
        let capped = level[i] < planned[i];
        let profile = m.ladder[level[i]].profile.clone();
        let was = prev[i].as_ref();
        let was_capped = was.is_some_and(|(_, h)| h.capped);
        let from_rung = was.map(|(r, _)| *r).or(m.running).unwrap_or(planned[i]);
        let from = m.ladder[from_rung.min(m.ladder.len() - 1)].profile.clone();
        let lowered = limited_now[i] || (capped && !was_capped);
        if lowered && m.reach == Reach::Online {
            changes.push(Change::Limited {
                miner: m.name.clone(),
                from: m.ladder[planned[i]].profile.clone(),
                to: profile.clone(),
                reason: reasons[i]
                    .clone()
                    .unwrap_or_else(|| "the budget has no room".into()),
            });
        } else if was_capped && (level[i] > from_rung || !capped) && from != profile {
            changes.push(Change::Restored {
                miner: m.name.clone(),
                from,
                to: profile.clone(),
                full: !capped,
            });
        }
        let limited_at = if limited_now[i] || (capped && !was_capped) {
            Some(now)
        } else if capped {
            was.and_then(|(_, h)| h.limited_at)
        } else {
            None
        };
        mem.held.insert(
            m.name.clone(),
            Held {
                profile: profile.clone(),
                capped,
                limited_at,
            },
        );
        grants.push(Grant {
            miner: m.name.clone(),
            rung: level[i],
            profile,
            capped,
            watts: m.ladder[level[i]].watts,
            jth: m.ladder[level[i]].jth,
            counts: m.reach != Reach::Gone,
        });
    }
    Allocation {
        grants,
        changes,
        expected: used,
        met: met && used <= budget_w + 1e-9,
        counted: miners.iter().filter(|m| m.reach != Reach::Gone).count(),
        reporting: miners.iter().filter(|m| m.reach == Reach::Online).count(),
    }
}

/// Where a profile sits on a miner's ladder.
fn rung_of(m: &MinerView, profile: &str) -> Option<usize> {
    m.ladder.iter().position(|r| r.profile == profile)
}

/// An `f64` ordered by `total_cmp`, for the heaps.
#[derive(Debug, Clone, Copy)]
struct Total(f64);

impl PartialEq for Total {
    fn eq(&self, other: &Self) -> bool {
        self.0.total_cmp(&other.0) == Ordering::Equal
    }
}

impl Eq for Total {}

impl PartialOrd for Total {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Total {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}
