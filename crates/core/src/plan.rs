//! What every miner should run now: the schedule, unless an override (emergency stop, manual
//! apply, pause) says otherwise. Workers read the current [`Plan`] from a watch channel.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::Semaphore;

use crate::config::{Config, MinerConfig};
use crate::overrides::Overrides;
use crate::schedule::{self, Profile, Target};

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

#[derive(Debug, Clone)]
pub struct Plan {
    pub config: Arc<Config>,
    pub overrides: Overrides,
    pub tz: Tz,
    /// Limits how many miners change settings at once (`max_workers`, or 1 without
    /// `parallel_operations`). Safety moves do not wait for it.
    pub permits: Arc<Semaphore>,
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
        }
    }

    /// The same plan with a new config; the permit pool is kept unless its size changed.
    pub fn with_config(&self, config: Arc<Config>) -> Plan {
        let mut next = Plan::new(config, self.overrides.clone());
        if worker_count(&next.config) == worker_count(&self.config) {
            next.permits = self.permits.clone();
        }
        next
    }

    /// The fleet-wide profile now and its source.
    pub fn profile(&self, now: DateTime<Utc>) -> (Profile, Source) {
        if self.overrides.emergency {
            (Profile::Safe, Source::Emergency)
        } else if let Some(p) = self.overrides.manual_at(now) {
            (p, Source::Manual)
        } else {
            (
                schedule::profile_at(&self.config, self.tz, now),
                Source::Schedule,
            )
        }
    }

    /// What `miner` should run now.
    pub fn target(&self, miner: &MinerConfig, now: DateTime<Utc>) -> (Target, Source) {
        let (profile, source) = match self.overrides.manual_for(&miner.name, now) {
            Some(p) if !self.overrides.emergency => (p, Source::Manual),
            _ => self.profile(now),
        };
        (
            Target {
                profile,
                settings: schedule::settings_for(&self.config, miner, profile),
            },
            source,
        )
    }
}

pub fn worker_count(config: &Config) -> usize {
    if config.parallel_operations {
        config.max_workers.max(1)
    } else {
        1
    }
}
