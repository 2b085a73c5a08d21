//! Which profile runs when. Pure functions of `now`: nothing here reads the clock.
//!
//! Rule: inside the day window (`global_day_settings.start_time` up to, not including, its
//! `end_time`, in local wall-clock time) the day profile runs; at every other moment the night
//! profile runs. A window whose start is after its end crosses midnight. The night window's own
//! times are informational: a gap between the two windows runs night, and an overlap runs day
//! ([`window_warnings`] reports both so users can fix their file). Local time follows the real
//! rules of the configured IANA zone, DST included: a start time skipped by a spring-forward
//! takes effect at the first instant after the gap, and a time repeated in autumn counts once.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::{Config, MinerConfig, PeriodSettings};
use crate::safety::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Profile {
    Day,
    Night,
    /// The configured safe settings (never chosen by the schedule itself).
    Safe,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Day => "day",
            Profile::Night => "night",
            Profile::Safe => "safe",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "day" => Ok(Profile::Day),
            "night" => Ok(Profile::Night),
            "safe" => Ok(Profile::Safe),
            other => Err(format!("unknown profile {other:?}: use day, night or safe")),
        }
    }
}

/// What one miner should run, and under which profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Target {
    pub profile: Profile,
    pub settings: Settings,
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

fn in_window(p: &PeriodSettings, t: NaiveTime) -> bool {
    let (s, e) = (p.start_time.0, p.end_time.0);
    match s.cmp(&e) {
        std::cmp::Ordering::Less => s <= t && t < e,
        std::cmp::Ordering::Greater => t >= s || t < e,
        std::cmp::Ordering::Equal => false,
    }
}

/// The profile at a local wall-clock time.
pub fn profile_at_local(cfg: &Config, t: NaiveTime) -> Profile {
    if in_window(&cfg.global_day_settings, t) {
        Profile::Day
    } else {
        Profile::Night
    }
}

/// The profile at an instant: the one set by the latest day-window boundary at or before `now`.
/// Working from resolved instants (not wall-clock comparisons) is what makes a skipped time take
/// effect after the gap and a repeated time count once.
pub fn profile_at(cfg: &Config, tz: Tz, now: DateTime<Utc>) -> Profile {
    let day = &cfg.global_day_settings;
    if day.start_time == day.end_time {
        return Profile::Night;
    }
    boundaries(cfg, tz, now)
        .into_iter()
        .rev()
        .find(|(at, _)| *at <= now)
        .map(|(_, p)| p)
        .unwrap_or_else(|| profile_at_local(cfg, now.with_timezone(&tz).time()))
}

/// Day-window starts (to day) and ends (to night) from two days before `now` to two days after.
fn boundaries(cfg: &Config, tz: Tz, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, Profile)> {
    let today = now.with_timezone(&tz).date_naive();
    let day = &cfg.global_day_settings;
    let mut out: Vec<(DateTime<Utc>, Profile)> = (-2..=2)
        .filter_map(|d| today.checked_add_signed(Duration::days(d)))
        .flat_map(|date| {
            [
                resolve(tz, date, day.start_time.0).map(|at| (at, Profile::Day)),
                resolve(tz, date, day.end_time.0).map(|at| (at, Profile::Night)),
            ]
        })
        .flatten()
        .collect();
    out.sort_by_key(|(at, _)| *at);
    out
}

/// A profile's settings for one miner: its override where it has one, the global value otherwise.
pub fn settings_for(cfg: &Config, miner: &MinerConfig, profile: Profile) -> Settings {
    let (global, own) = match profile {
        Profile::Day => (&cfg.global_day_settings, &miner.day_settings),
        Profile::Night => (&cfg.global_night_settings, &miner.night_settings),
        Profile::Safe => return cfg.safe(),
    };
    let own = own.clone().unwrap_or_default();
    Settings {
        voltage: own.voltage.unwrap_or(global.voltage),
        frequency: own.frequency.unwrap_or(global.frequency),
    }
}

/// What `miner` should run at `now`.
pub fn target(cfg: &Config, tz: Tz, now: DateTime<Utc>, miner: &MinerConfig) -> Target {
    let profile = profile_at(cfg, tz, now);
    Target {
        profile,
        settings: settings_for(cfg, miner, profile),
    }
}

/// The instant a local wall-clock time happens on `date`: the earlier one when it happens twice,
/// the end of the gap when a DST change skips it.
fn resolve(tz: Tz, date: NaiveDate, t: NaiveTime) -> Option<DateTime<Utc>> {
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

/// The next instant after `now` at which the profile changes, and the profile it changes to.
pub fn next_change(cfg: &Config, tz: Tz, now: DateTime<Utc>) -> Option<(DateTime<Utc>, Profile)> {
    let day = &cfg.global_day_settings;
    if day.start_time == day.end_time {
        return None;
    }
    let current = profile_at(cfg, tz, now);
    boundaries(cfg, tz, now)
        .into_iter()
        .find(|(at, p)| *at > now && *p != current)
}

/// Gaps and overlaps between the day and night windows, as sentences.
pub fn window_warnings(cfg: &Config) -> Vec<String> {
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
mod tests;
