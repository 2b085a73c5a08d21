//! What the plan says for one miner, fresh every poll, with its next change looked up again
//! only when the cached one no longer holds (a new plan, another profile, or past it; a "no
//! change this week" answer is kept an hour at most): looking a week ahead is not an every-poll
//! cost.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::config::MinerConfig;
use crate::plan::{Plan, Source};
use crate::schedule::{Profile, Resolution};

struct Known {
    plan: Arc<Plan>,
    profile: Profile,
    until: Option<DateTime<Utc>>,
    good_until: DateTime<Utc>,
}

#[derive(Default)]
pub(crate) struct Lookahead(Option<Known>);

impl Lookahead {
    pub fn resolution(
        &mut self,
        plan: &Arc<Plan>,
        miner: &MinerConfig,
        now: DateTime<Utc>,
    ) -> Resolution {
        let (mut r, source) = plan.resolve_now(miner, now);
        if source != Source::Schedule {
            return r;
        }
        match &self.0 {
            Some(k)
                if Arc::ptr_eq(&k.plan, plan) && k.profile == r.profile && now < k.good_until =>
            {
                r.until = k.until;
            }
            _ => {
                r.until = plan.resolve(miner, now).0.until;
                self.0 = Some(Known {
                    plan: plan.clone(),
                    profile: r.profile.clone(),
                    until: r.until,
                    good_until: r.until.unwrap_or(now + Duration::hours(1)),
                });
            }
        }
        r
    }
}
