//! What every miner should run now: the schedule, unless an override (emergency stop, manual
//! apply, pause) says otherwise. Workers read the current [`Plan`] from a watch channel.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::Semaphore;

use crate::config::{Config, MinerConfig};
use crate::overrides::Overrides;
use crate::schedule::{self, PriceLookup, Profile, Reason, Resolution, Target};

/// Where the profile in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Schedule,
    Manual,
    Emergency,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Schedule => "schedule",
            Source::Manual => "manual",
            Source::Emergency => "emergency",
        }
    }
}

#[derive(Clone)]
pub struct Plan {
    pub config: Arc<Config>,
    pub overrides: Overrides,
    pub tz: Tz,
    /// Limits how many miners change settings at once (`max_workers`, or 1 without
    /// `parallel_operations`). Safety moves do not wait for it.
    pub permits: Arc<Semaphore>,
    /// The electricity prices the price rules read (none: price rules never apply).
    pub prices: Option<Arc<dyn PriceLookup>>,
}

impl Plan {
    pub fn new(config: Arc<Config>, overrides: Overrides) -> Plan {
        let tz = schedule::zone(&config);
        let permits = Arc::new(Semaphore::new(worker_count(&config)));
        Plan {
            config,
            overrides,
            tz,
            permits,
            prices: None,
        }
    }

    /// The same plan reading these prices.
    pub fn with_prices(mut self, prices: Option<Arc<dyn PriceLookup>>) -> Plan {
        self.prices = prices;
        self
    }

    /// The same plan with a new config; the permit pool is kept unless its size changed.
    pub fn with_config(&self, config: Arc<Config>) -> Plan {
        let mut next = Plan::new(config, self.overrides.clone()).with_prices(self.prices.clone());
        if worker_count(&next.config) == worker_count(&self.config) {
            next.permits = self.permits.clone();
        }
        next
    }

    /// The fleet-wide profile now and its source (the global plan: no group, no price).
    pub fn profile(&self, now: DateTime<Utc>) -> (Profile, Source) {
        if self.overrides.emergency {
            (Profile::safe(), Source::Emergency)
        } else if let Some(p) = self.overrides.manual_at(now) {
            (p, Source::Manual)
        } else {
            let scope_free = schedule::timeline(
                &self.config,
                self.tz,
                None,
                now,
                now + chrono::Duration::minutes(1),
                self.price_view(),
            );
            let p = scope_free
                .into_iter()
                .next()
                .map_or_else(Profile::night, |s| s.profile);
            (p, Source::Schedule)
        }
    }

    fn price_view(&self) -> Option<&dyn PriceLookup> {
        self.prices.as_deref()
    }

    /// What `miner` runs now, why, and until when: emergency, then a manual apply, then the
    /// plan (exceptions, price rules, group and global plan).
    pub fn resolve(&self, miner: &MinerConfig, now: DateTime<Utc>) -> (Resolution, Source) {
        self.resolve_at(miner, now, true)
    }

    /// The same without looking ahead for the plan's next change (`until` is then only a
    /// manual apply's end): the engine's question on every poll.
    pub fn resolve_now(&self, miner: &MinerConfig, now: DateTime<Utc>) -> (Resolution, Source) {
        self.resolve_at(miner, now, false)
    }

    fn resolve_at(
        &self,
        miner: &MinerConfig,
        now: DateTime<Utc>,
        look_ahead: bool,
    ) -> (Resolution, Source) {
        if self.overrides.emergency {
            let r = Resolution {
                profile: Profile::safe(),
                reason: Reason::Emergency,
                until: None,
            };
            return (r, Source::Emergency);
        }
        if let Some(m) = self.overrides.manual_entry_for(&miner.name, now) {
            let r = Resolution {
                profile: m.profile.clone(),
                reason: Reason::Manual,
                until: m.until,
            };
            return (r, Source::Manual);
        }
        let prices = self.price_view();
        let r = if look_ahead {
            schedule::resolve(&self.config, self.tz, now, miner, prices)
        } else {
            let (profile, reason) =
                schedule::profile_now(&self.config, self.tz, now, miner, prices);
            Resolution {
                profile,
                reason,
                until: None,
            }
        };
        (r, Source::Schedule)
    }

    /// What `miner` should run now (without looking ahead: see [`Plan::resolve`] for that).
    pub fn target(&self, miner: &MinerConfig, now: DateTime<Utc>) -> (Target, Source) {
        let (r, source) = self.resolve_now(miner, now);
        (Target::of(&self.config, miner, r.profile), source)
    }
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("overrides", &self.overrides)
            .field("tz", &self.tz)
            .field("prices", &self.prices.is_some())
            .finish_non_exhaustive()
    }
}

pub fn worker_count(config: &Config) -> usize {
    if config.parallel_operations {
        config.max_workers.max(1)
    } else {
        1
    }
}
