//! Which profile runs when. Pure functions of `now`: nothing here reads the clock.
//!
//! # The priority (highest first)
//! 1. emergency stop (`plan.rs`);
//! 2. safety caps: throttle, overheat cool-off and the power budget (the engine);
//! 3. a manual apply (`plan.rs`);
//! 4. an **exception** covering the local date;
//! 5. a **price rule** matching the price of the moment;
//! 6. the miner's **group plan**;
//! 7. the **global plan**.
//!
//! This module resolves 4 to 7. A per-miner override changes a profile's settings for that
//! miner, never which profile runs.
//!
//! # Plans
//! A plan is periods on weekdays plus a `default` for the time no period covers; where periods
//! overlap, the later one in the list wins. A seed file has no `plan`: its day window
//! (`global_day_settings.start_time` up to, not including, its `end_time`) runs `day` and every
//! other moment `night`, exactly as the seed meant (the night window's own times are
//! informational; [`window_warnings`] reports gaps and overlaps).
//!
//! # Time
//! A period on date D covers the instants from its start on D up to its end (on D, or on D+1
//! when it runs past midnight), each local time turned into an instant by the zone's real
//! rules: a time skipped by a spring-forward takes effect at the first instant after the gap,
//! and a time repeated in autumn counts once (its first occurrence). Exceptions cover whole
//! local dates. Price rules look at the price slot containing the instant; without a known
//! price no price rule applies and the plan runs.

pub mod model;
mod price_rules;
mod timeline;
mod validate;

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::{Config, MinerConfig, PeriodSettings};
use crate::profiles::{self, FanSpec};
use crate::safety::Settings;

pub use crate::profiles::Profile;
pub use model::{Day, Exception, GroupConfig, GroupMap, Period, PlanConfig, PriceRule};
pub use price_rules::{PriceLookup, PriceSlot};
pub use timeline::{timeline, Segment};
pub use validate::validate;

/// What one miner should run, and under which profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Target {
    pub profile: Profile,
    pub settings: Settings,
    /// Mining paused (the `off` profile).
    #[serde(default)]
    pub off: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan: Option<FanSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_timeout: Option<u32>,
}

impl Target {
    /// `profile` as it applies to `miner`.
    pub fn of(cfg: &Config, miner: &MinerConfig, profile: Profile) -> Target {
        let spec = profiles::spec_for(cfg, miner, &profile);
        Target {
            profile,
            settings: spec.settings,
            off: spec.off,
            fan: spec.fan,
            display_timeout: spec.display_timeout,
        }
    }
}

/// Why a profile runs (layers 3 to 7 of the priority; the engine adds the safety caps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Reason {
    Emergency,
    Manual,
    Exception {
        name: String,
    },
    Price {
        /// currency per kWh
        price: f64,
        /// The rule's limit, when it has one (`max_price`).
        at_most: Option<f64>,
        /// The previous rule's limit, for a rule without one ("above 0.25").
        above: Option<f64>,
        cheapest_hours: Option<f64>,
    },
    Plan {
        group: Option<String>,
    },
}

fn cents(p: f64) -> String {
    let c = p * 100.0;
    if (c - c.round()).abs() < 0.05 {
        format!("{c:.0}")
    } else {
        format!("{c:.1}")
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Emergency => f.write_str("emergency stop"),
            Reason::Manual => f.write_str("applied by hand"),
            Reason::Exception { name } => write!(f, "exception {name}"),
            Reason::Price {
                price,
                at_most,
                above,
                cheapest_hours,
            } => {
                write!(f, "price {} ct", cents(*price))?;
                if let Some(h) = cheapest_hours {
                    write!(f, " in the {h} cheapest hours")
                } else if let Some(m) = at_most {
                    write!(f, " at most {}", cents(*m))
                } else if let Some(a) = above {
                    write!(f, " above {}", cents(*a))
                } else {
                    Ok(())
                }
            }
            Reason::Plan { group: None } => f.write_str("plan"),
            Reason::Plan { group: Some(g) } => write!(f, "plan (group {g})"),
        }
    }
}

/// The profile at an instant, why, and until when (the next instant it changes, if that is
/// within eight days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Resolution {
    pub profile: Profile,
    pub reason: Reason,
    pub until: Option<DateTime<Utc>>,
}

impl Resolution {
    /// "Off: price 31 ct above 25; until 21:00" (times in `tz`).
    pub fn describe(&self, tz: Tz) -> String {
        let mut s = format!("{}: {}", profiles::label(&self.profile), self.reason);
        if let Some(u) = self.until {
            s.push_str(&format!(
                "; until {}",
                u.with_timezone(&tz).format("%a %H:%M")
            ));
        }
        s
    }
}

/// The zone the config asks for, else the computer's, else UTC.
pub fn zone(cfg: &Config) -> Tz {
    if let Ok(tz) = cfg.timezone.parse::<Tz>() {
        return tz;
    }
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|name| name.parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

/// The group `miner` belongs to, if any.
pub fn group_of<'a>(cfg: &'a Config, miner: &str) -> Option<&'a str> {
    cfg.groups
        .iter()
        .find(|(_, g)| g.miners.iter().any(|m| m == miner))
        .map(|(name, _)| name.as_str())
}

/// The plan a seed file means: its day window runs `day`, every other moment `night`.
pub fn seed_plan(cfg: &Config) -> PlanConfig {
    let day = &cfg.global_day_settings;
    let week = if day.start_time == day.end_time {
        Vec::new()
    } else {
        vec![Period {
            days: None,
            from: day.start_time,
            to: day.end_time,
            profile: profiles::DAY.into(),
        }]
    };
    PlanConfig {
        default: profiles::NIGHT.into(),
        week,
        exceptions: Vec::new(),
    }
}

/// The profile `miner` runs at `now` by the plan, exceptions and price rules (no manual apply,
/// no emergency: `plan.rs` adds those).
pub fn resolve(
    cfg: &Config,
    tz: Tz,
    now: DateTime<Utc>,
    miner: &MinerConfig,
    prices: Option<&dyn PriceLookup>,
) -> Resolution {
    let scope = timeline::Scope::new(cfg, tz, group_of(cfg, &miner.name), prices);
    let (profile, reason) = scope.at(now);
    let until = scope.next_change(now, &profile);
    Resolution {
        profile,
        reason,
        until,
    }
}

/// The profile `miner` runs at `now` and why, without looking ahead for the next change (the
/// engine's question on every poll).
pub fn profile_now(
    cfg: &Config,
    tz: Tz,
    now: DateTime<Utc>,
    miner: &MinerConfig,
    prices: Option<&dyn PriceLookup>,
) -> (Profile, Reason) {
    timeline::Scope::new(cfg, tz, group_of(cfg, &miner.name), prices).at(now)
}

/// What `miner` should run at `now`, by the plan.
pub fn target(
    cfg: &Config,
    tz: Tz,
    now: DateTime<Utc>,
    miner: &MinerConfig,
    prices: Option<&dyn PriceLookup>,
) -> Target {
    Target::of(cfg, miner, profile_now(cfg, tz, now, miner, prices).0)
}

/// The next instant after `now` at which the global plan (no group, no prices) changes profile,
/// and the profile it changes to. A fleet-wide manual apply holds until then.
pub fn next_change(cfg: &Config, tz: Tz, now: DateTime<Utc>) -> Option<(DateTime<Utc>, Profile)> {
    let scope = timeline::Scope::new(cfg, tz, None, None);
    let (current, _) = scope.at(now);
    let at = scope.next_change(now, &current)?;
    Some((at, scope.at(at).0))
}

/// The instant a local wall-clock time happens on `date`: the earlier one when it happens twice,
/// the end of the gap when a DST change skips it.
pub fn local_instant(tz: Tz, date: NaiveDate, t: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = date.and_time(t);
    if let Some(dt) = tz.from_local_datetime(&naive).earliest() {
        return Some(dt.with_timezone(&Utc));
    }
    (1..=180).find_map(|m| {
        tz.from_local_datetime(&(naive + Duration::minutes(m)))
            .earliest()
            .map(|dt| dt.with_timezone(&Utc))
    })
}

fn in_window(p: &PeriodSettings, t: NaiveTime) -> bool {
    let (s, e) = (p.start_time.0, p.end_time.0);
    match s.cmp(&e) {
        std::cmp::Ordering::Less => s <= t && t < e,
        std::cmp::Ordering::Greater => t >= s || t < e,
        std::cmp::Ordering::Equal => false,
    }
}

/// Gaps and overlaps between the seed's day and night windows, as sentences (only when the file
/// has no `plan`: with one, these windows no longer decide anything).
pub fn window_warnings(cfg: &Config) -> Vec<String> {
    if cfg.plan.is_some() {
        return Vec::new();
    }
    let day = &cfg.global_day_settings;
    let night = &cfg.global_night_settings;
    let mut out = Vec::new();
    if day.start_time == day.end_time {
        out.push(format!(
            "the day window starts and ends at {}: it is empty, so night runs all day",
            day.start_time
        ));
    }
    if night.start_time != day.end_time {
        let (a, b) = (day.end_time, night.start_time);
        let overlap = in_window(day, night.start_time.0);
        out.push(if overlap {
            format!("the night window starts at {b}, inside the day window (which ends at {a}); day runs until {a}")
        } else {
            format!("nothing is scheduled between {a} and {b}; night runs then")
        });
    }
    if night.end_time != day.start_time {
        let (a, b) = (night.end_time, day.start_time);
        out.push(if in_window(day, night.end_time.0) {
            format!("the night window ends at {a}, inside the day window (which starts at {b}); day runs from {b}")
        } else {
            format!("nothing is scheduled between {a} and {b}; night runs then")
        });
    }
    out
}

#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod tests;
