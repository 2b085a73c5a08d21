//! Releasing granted changes to the workers at a pace. What a worker may run is what was
//! released to it; the allocator's grants are where the fleet is going.
//!
//! Rules: a limit forced by an overshoot (`urgent`) is released at once. Every other change joins
//! a batch that is spread over the window: with `n` changes waiting when the batch starts, one is
//! released every `window / n` (the first at once), so the last goes out before the window ends;
//! changes that arrive during a batch share what is left of its window, and any still waiting
//! when it closes start a new one. Lowering miners go first, then
//! raises, most efficient first, and a raise goes out only if the released fleet has room for it
//! (it waits otherwise). So between two releases the fleet never draws more than at the start or
//! the end of the batch. A window of 0 releases everything at once, in the same order.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::allocate::Grant;

/// A miner told to run a profile now.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub miner: String,
    pub profile: String,
    /// Expected draw there, W.
    pub watts: f64,
    /// What it was told before.
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Batch {
    /// The window closes here: what is left is spread over the time to it.
    ends_at: Instant,
    next_at: Instant,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stagger {
    window: Duration,
    /// Per miner: the profile released to it and its expected watts.
    released: HashMap<String, (String, f64)>,
    batch: Option<Batch>,
}

impl Stagger {
    pub fn new(window: Duration) -> Stagger {
        Stagger {
            window,
            ..Stagger::default()
        }
    }

    pub fn set_window(&mut self, window: Duration) {
        self.window = window;
    }

    /// What `miner` may run now, if anything was released to it.
    pub fn released(&self, miner: &str) -> Option<&str> {
        self.released.get(miner).map(|(p, _)| p.as_str())
    }

    /// Start a miner off on a profile without a release (it runs it already).
    pub fn seed(&mut self, miner: &str, profile: &str, watts: f64) {
        self.released
            .insert(miner.to_string(), (profile.to_string(), watts));
    }

    pub fn forget(&mut self, miner: &str) {
        self.released.remove(miner);
    }

    /// Whether changes are still waiting to be released.
    pub fn busy(&self) -> bool {
        self.batch.is_some()
    }

    /// Release what is due at `now`. `urgent`: miners limited because the fleet was over budget.
    pub fn step(
        &mut self,
        grants: &[Grant],
        urgent: &[String],
        budget_w: f64,
        now: Instant,
    ) -> Vec<Release> {
        let mut out = Vec::new();
        let mut waiting: Vec<&Grant> = Vec::new();
        for g in grants {
            match self.released.get(&g.miner) {
                None => {
                    self.seed(&g.miner, &g.profile, g.watts);
                }
                Some((p, w)) if *p != g.profile => {
                    if urgent.contains(&g.miner) && g.watts <= *w {
                        out.push(self.release(g));
                    } else {
                        waiting.push(g);
                    }
                }
                Some(_) => {}
            }
        }
        if waiting.is_empty() {
            self.batch = None;
            return out;
        }
        let window = self.window;
        let mut batch = *self.batch.get_or_insert(Batch {
            ends_at: now + window,
            next_at: now,
        });
        if now >= batch.ends_at && !window.is_zero() {
            // Stragglers (raises that waited for room, late joiners): a new window.
            batch = Batch {
                ends_at: now + window,
                next_at: now,
            };
        }
        if now < batch.next_at {
            return out;
        }
        let watts_of = |s: &Stagger, m: &str| s.released.get(m).map_or(0.0, |(_, w)| *w);
        // Lowers first (the largest drop first), then raises (most efficient first).
        waiting.sort_by(|a, b| {
            let da = a.watts - watts_of(self, &a.miner);
            let db = b.watts - watts_of(self, &b.miner);
            let (la, lb) = (da <= 0.0, db <= 0.0);
            lb.cmp(&la).then(if la && lb {
                da.total_cmp(&db)
            } else {
                a.jth.total_cmp(&b.jth)
            })
        });
        let mut due = batch.next_at;
        let mut left = waiting.len();
        for g in waiting {
            if now < due {
                break;
            }
            // What the released fleet draws: miners declared offline count nothing.
            let used: f64 = grants
                .iter()
                .filter(|g| g.counts)
                .map(|g| watts_of(self, &g.miner))
                .sum();
            let delta = g.watts - watts_of(self, &g.miner);
            if delta > 0.0 && used + delta > budget_w + 1e-9 {
                // No room yet; the lowers released before it will make some.
                continue;
            }
            out.push(self.release(g));
            left -= 1;
            if window.is_zero() {
                continue;
            }
            // The rest evenly over what is left of the window, on the batch's own clock (a late
            // tick does not push the end out, and still releases only one).
            let gap = batch.ends_at.saturating_duration_since(due)
                / u32::try_from(left + 1).unwrap_or(u32::MAX);
            due += gap;
            break;
        }
        self.batch = (left > 0).then_some(Batch {
            ends_at: batch.ends_at,
            next_at: due,
        });
        out
    }

    fn release(&mut self, g: &Grant) -> Release {
        let from = self
            .released
            .insert(g.miner.clone(), (g.profile.clone(), g.watts))
            .map(|(p, _)| p)
            .unwrap_or_default();
        Release {
            miner: g.miner.clone(),
            profile: g.profile.clone(),
            watts: g.watts,
            from,
        }
    }
}
