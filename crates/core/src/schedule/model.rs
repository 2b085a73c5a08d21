//! The plan as the config file writes it: `plan` (a weekly plan with `exceptions`), `groups`
//! (miners with a plan of their own) and `price_rules`. Plain serde types; what they mean is in
//! the parent module's documentation.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::ClockTime;

/// A weekly plan: periods on weekdays, a profile for the time no period covers, and exceptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlanConfig {
    /// The profile when no period covers the moment.
    pub default: String,
    /// Periods; where two overlap, the later one in the list wins (like paint on a week grid).
    #[serde(default)]
    pub week: Vec<Period>,
    /// Dates that run differently (holidays): they win over the weekly plan and price rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
}

/// `from` up to (not including) `to`, local time, on the listed weekdays (all when absent). A
/// period whose `to` is not after its `from` runs past midnight into the next day; it belongs
/// to the weekday it starts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Period {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<Vec<Day>>,
    pub from: ClockTime,
    pub to: ClockTime,
    pub profile: String,
}

/// Dates (`date`, or `from`..=`to`) that run one profile all day, or a day plan of their own
/// (`periods` with `default`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Exception {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    /// The profile all day; or, with `periods`, the profile no period covers.
    pub profile: String,
    /// Periods on these dates (`days` not allowed); a period past midnight stops at the end of
    /// the exception's last date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<Period>,
}

impl Exception {
    /// The first and last date (inclusive).
    pub fn dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        match (self.date, self.from, self.to) {
            (Some(d), None, None) => Some((d, d)),
            (None, Some(a), Some(b)) => Some((a, b)),
            (None, Some(a), None) => Some((a, a)),
            _ => None,
        }
    }

    pub fn covers(&self, date: NaiveDate) -> bool {
        self.dates().is_some_and(|(a, b)| a <= date && date <= b)
    }

    pub fn label(&self) -> String {
        match (&self.name, self.dates()) {
            (Some(n), _) => n.clone(),
            (None, Some((a, b))) if a == b => a.to_string(),
            (None, Some((a, b))) => format!("{a} to {b}"),
            (None, None) => "exception".into(),
        }
    }
}

/// Miners with a plan (and price rules) of their own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupConfig {
    /// Miner names.
    pub miners: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanConfig>,
    /// A cap for this group's summed power (same shape as the fleet's `power_budget`). Changes
    /// are paced by the fleet's `stagger_seconds`, or without a fleet budget by the longest of
    /// the groups'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_budget: Option<crate::budget::PowerBudget>,
}

pub type GroupMap = BTreeMap<String, GroupConfig>;

/// A price rule: when it matches the price of the moment, its profile runs. Rules are tried in
/// order and the first that matches wins; a rule without a condition matches every known price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PriceRule {
    pub profile: String,
    /// Matches when the slot's price is at most this (currency per kWh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<f64>,
    /// Matches in the N cheapest hours of each local day (by slot; fractions allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheapest_hours: Option<f64>,
    /// Only for these groups (all miners when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

/// A weekday as the file writes it: `mon` … `sun` (full names accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(
    feature = "ts",
    ts(type = "\"mon\" | \"tue\" | \"wed\" | \"thu\" | \"fri\" | \"sat\" | \"sun\"")
)]
pub struct Day(pub Weekday);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string().to_ascii_lowercase())
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.trim().parse::<Weekday>().map(Day).map_err(|_| {
            serde::de::Error::custom(format!(
                "{s:?} is not a weekday; use mon, tue, wed, thu, fri, sat or sun"
            ))
        })
    }
}

impl Period {
    pub fn on(&self, day: Weekday) -> bool {
        self.days
            .as_ref()
            .is_none_or(|days| days.iter().any(|d| d.0 == day))
    }
}
