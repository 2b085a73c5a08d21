//! Bounded effort per target: every PATCH is a flash write on the miner.
//!
//! A target gets a budget of 2 × (steps + 1) PATCHes: one voltage and one frequency write per
//! step, plus one step's worth for a retry or a fallback. Drift fixes for the same target draw
//! on the same budget. When a move fails inside it, the target is given up: the worker holds the
//! miner, says so once, and tries again only when the target changes, when the user asks (a
//! retry command or any new config or overrides), or after `give_up_backoff_minutes`, doubling
//! with each give-up of the same target (at most a day). A retry after the backoff gets a fresh
//! budget.

use chrono::{DateTime, Duration, Utc};

use crate::reconcile::same;
use crate::safety::Settings;

/// The longest backoff after repeated give-ups.
const MAX_BACKOFF_MINUTES: f64 = 24.0 * 60.0;

#[derive(Debug, Clone, PartialEq)]
struct GaveUp {
    retry_at: Option<DateTime<Utc>>,
    why: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Effort {
    target: Option<Settings>,
    budget: u32,
    spent: u32,
    gave_up: Option<GaveUp>,
    /// The backoff used by the last give-up of this target, minutes.
    backoff_minutes: Option<f64>,
}

/// 2 × (steps + 1) PATCHes.
pub fn budget_for(steps: u32) -> u32 {
    2 * (steps.clamp(1, 1000) + 1)
}

impl Effort {
    /// About to move to `to` in `steps` steps: the PATCHes it may still send, or `None` while
    /// the target is given up.
    pub fn begin(&mut self, to: Settings, steps: u32, now: DateTime<Utc>) -> Option<u32> {
        if !self.target.is_some_and(|t| same(t, to)) {
            *self = Effort {
                target: Some(to),
                budget: budget_for(steps),
                ..Effort::default()
            };
        }
        if let Some(g) = &self.gave_up {
            if g.retry_at.is_some_and(|t| now >= t) {
                self.gave_up = None;
                self.spent = 0;
                self.budget = budget_for(steps);
            } else {
                return None;
            }
        }
        Some(self.budget.saturating_sub(self.spent))
    }

    pub fn spend(&mut self, writes: u32) {
        self.spent = self.spent.saturating_add(writes);
    }

    /// Give the current target up; when to try again by itself.
    pub fn give_up(
        &mut self,
        now: DateTime<Utc>,
        base_minutes: f64,
        why: String,
    ) -> Option<DateTime<Utc>> {
        let base = if base_minutes.is_finite() && base_minutes > 0.0 {
            base_minutes
        } else {
            10.0
        };
        let minutes = self
            .backoff_minutes
            .map(|m| m * 2.0)
            .unwrap_or(base)
            .min(MAX_BACKOFF_MINUTES);
        self.backoff_minutes = Some(minutes);
        let retry_at = Some(now + Duration::milliseconds((minutes * 60_000.0) as i64));
        self.gave_up = Some(GaveUp { retry_at, why });
        retry_at
    }

    /// The user asked: forget the give-up and the backoff; a fresh budget.
    pub fn clear(&mut self) {
        self.gave_up = None;
        self.spent = 0;
        self.backoff_minutes = None;
    }

    /// For the status line: what was given up and until when.
    pub fn summary(&self) -> Option<String> {
        let g = self.gave_up.as_ref()?;
        let target = self.target.map(|t| t.to_string()).unwrap_or_default();
        Some(format!(
            "gave up on {target}: {}{}",
            g.why,
            g.retry_at
                .map(|t| format!("; next try {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_780_000_000, 0).expect("time") + Duration::minutes(min)
    }

    #[test]
    fn given_up_until_the_backoff_which_doubles() {
        let to = Settings::new(1200, 550.0);
        let mut e = Effort::default();
        assert_eq!(e.begin(to, 5, t(0)), Some(12));
        e.spend(8);
        assert_eq!(e.begin(to, 5, t(0)), Some(4));
        assert_eq!(e.give_up(t(0), 10.0, "x".into()), Some(t(10)));
        assert_eq!(e.begin(to, 5, t(9)), None);
        assert_eq!(e.begin(to, 5, t(10)), Some(12), "a fresh budget");
        assert_eq!(e.give_up(t(10), 10.0, "x".into()), Some(t(30)), "doubled");
        assert_eq!(e.begin(to, 5, t(29)), None);
        // A new target starts over.
        assert_eq!(e.begin(Settings::new(1100, 425.0), 5, t(11)), Some(12));
        assert_eq!(e.give_up(t(11), 10.0, "x".into()), Some(t(21)));
        // The user asks.
        e.clear();
        assert_eq!(e.begin(Settings::new(1100, 425.0), 5, t(12)), Some(12));
    }
}
