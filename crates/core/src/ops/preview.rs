//! What the plan says, without touching a miner: every miner's profile at one instant (with why
//! and until when), and a preview of the days ahead, for a saved config or a draft.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::schedule::{self, PriceLookup, Resolution, Segment, Target};

/// One miner at one instant.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanRow {
    pub miner: String,
    pub enabled: bool,
    pub target: Target,
    pub resolution: Resolution,
    /// "Off: price 31 ct above 25; until Tue 21:00"
    pub why: String,
}

/// Every miner at `at`, by the plan (exceptions, price rules, groups).
pub fn plan_at(cfg: &Config, at: DateTime<Utc>, prices: Option<&dyn PriceLookup>) -> Vec<PlanRow> {
    let tz = schedule::zone(cfg);
    cfg.miners
        .iter()
        .map(|m| {
            let resolution = schedule::resolve(cfg, tz, at, m, prices);
            PlanRow {
                miner: m.name.clone(),
                enabled: m.enabled,
                target: Target::of(cfg, m, resolution.profile.clone()),
                why: resolution.describe(tz),
                resolution,
            }
        })
        .collect()
}

/// One miner's days ahead.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreviewRow {
    pub miner: String,
    pub group: Option<String>,
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Preview {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub timezone: String,
    pub miners: Vec<PreviewRow>,
}

/// `days` days from the local midnight of `from`'s date: each miner's profile segments. One
/// timeline per group (miners of a group share it).
pub fn preview(
    cfg: &Config,
    from: DateTime<Utc>,
    days: u32,
    prices: Option<&dyn PriceLookup>,
) -> Preview {
    let tz = schedule::zone(cfg);
    let date = from.with_timezone(&tz).date_naive();
    let start = schedule::local_instant(tz, date, NaiveTime::MIN).unwrap_or(from);
    let end = schedule::local_instant(tz, date + Duration::days(i64::from(days)), NaiveTime::MIN)
        .unwrap_or(start + Duration::days(i64::from(days)));
    let mut by_group: std::collections::BTreeMap<Option<String>, Vec<Segment>> = Default::default();
    let miners = cfg
        .miners
        .iter()
        .map(|m| {
            let group = schedule::group_of(cfg, &m.name).map(str::to_string);
            let segments = by_group
                .entry(group.clone())
                .or_insert_with(|| {
                    schedule::timeline(cfg, tz, group.as_deref(), start, end, prices)
                })
                .clone();
            PreviewRow {
                miner: m.name.clone(),
                group,
                segments,
            }
        })
        .collect();
    Preview {
        from: start,
        to: end,
        timezone: tz.name().to_string(),
        miners,
    }
}
