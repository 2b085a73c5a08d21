//! `--plan`: what every miner runs at a local time, or (`--week`) hour by hour for seven days,
//! from core's resolver, without contacting miners.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{anyhow, Result};
use bitaxe_core::config::Config;
use bitaxe_core::profiles;
use bitaxe_core::safety::fmt_mhz;
use bitaxe_core::schedule::{self, PriceLookup, Profile, Reason};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The prices known without fetching (the feed's cache beside the config, then the fixed
/// tariff), for price rules in the plan; none without a tariff.
pub fn known_prices(
    config: &Config,
    path: &std::path::Path,
) -> Option<std::sync::Arc<dyn PriceLookup>> {
    let (view, note) = bitaxe_core::cost::price_view(config, path);
    if let Some(note) = note {
        eprintln!("Note: {note}");
    }
    view
}

/// `--at` as an instant (default: now).
fn instant(tz: Tz, at: Option<&str>) -> Result<DateTime<Utc>> {
    let Some(text) = at else {
        return Ok(Utc::now());
    };
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
        .map_err(|_| anyhow!("--at {text:?}: expected YYYY-MM-DDTHH:MM, e.g. 2026-11-25T22:00"))?;
    Ok(tz
        .from_local_datetime(&naive)
        .earliest()
        .ok_or_else(|| {
            anyhow!("--at {text}: that local time does not exist in {tz} (a DST change skips it)")
        })?
        .with_timezone(&Utc))
}

fn name_width(config: &Config) -> usize {
    config
        .miners
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(0)
}

/// One line per miner: name, profile, settings; the reason when it is more than the plan.
pub fn at(config: &Config, at: Option<&str>, prices: Option<&dyn PriceLookup>) -> Result<ExitCode> {
    let tz = schedule::zone(config);
    let now = instant(tz, at)?;
    let width = name_width(config);
    let pwidth = config
        .miners
        .iter()
        .map(|m| {
            schedule::resolve(config, tz, now, m, prices)
                .profile
                .name()
                .len()
        })
        .max()
        .unwrap_or(0)
        .max(5);
    for m in &config.miners {
        let r = schedule::resolve(config, tz, now, m, prices);
        let t = schedule::Target::of(config, m, r.profile.clone());
        let disabled = if m.enabled { "" } else { "  (disabled)" };
        let why = match &r.reason {
            Reason::Plan { group: None } => String::new(),
            other => format!("  ({other})"),
        };
        let settings = if t.off {
            "mining paused".to_string()
        } else {
            format!(
                "{} mV  {} MHz",
                t.settings.voltage,
                fmt_mhz(t.settings.frequency)
            )
        };
        println!(
            "{:<width$}  {:<pwidth$}  {settings}{why}{disabled}",
            m.name,
            r.profile.name(),
        );
    }
    for w in schedule::window_warnings(config) {
        eprintln!("Note: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A letter per profile: the built-ins their initials, others the first free letter of their
/// name (else a digit).
fn letters(config: &Config) -> BTreeMap<Profile, char> {
    let mut out = BTreeMap::new();
    let mut used = std::collections::BTreeSet::new();
    for p in profiles::names(config) {
        let c = p
            .name()
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .chain('0'..='9')
            .find(|c| c.is_ascii_alphanumeric() && !used.contains(c))
            .unwrap_or('?');
        used.insert(c);
        out.insert(p, c);
    }
    out
}

/// Seven days from the local midnight of `--at` (default today): one block per day, a row per
/// miner, a letter per hour (the profile at the start of the hour).
pub fn week(
    config: &Config,
    at: Option<&str>,
    prices: Option<&dyn PriceLookup>,
) -> Result<ExitCode> {
    let tz = schedule::zone(config);
    let start_day = instant(tz, at)?.with_timezone(&tz).date_naive();
    let letters = letters(config);
    let width = name_width(config).max(10);
    let letter = |p: &Profile| letters.get(p).copied().unwrap_or('?');
    println!("Plan for the week from {start_day} ({tz}); one letter per hour:");
    let legend: Vec<String> = letters.iter().map(|(p, c)| format!("{c} {p}")).collect();
    println!("{}", legend.join(", "));
    for d in 0..7 {
        let date = start_day + Duration::days(d);
        println!();
        println!(
            "{:<width$}  {}",
            date.format("%a %Y-%m-%d").to_string(),
            (0..24)
                .map(|h| char::from(b'0' + (h / 10) as u8))
                .collect::<String>()
        );
        println!(
            "{:<width$}  {}",
            "",
            (0..24)
                .map(|h| char::from(b'0' + (h % 10) as u8))
                .collect::<String>()
        );
        let from =
            schedule::local_instant(tz, date, chrono::NaiveTime::MIN).unwrap_or_else(Utc::now);
        for m in &config.miners {
            let group = schedule::group_of(config, &m.name);
            let segments =
                schedule::timeline(config, tz, group, from, from + Duration::hours(26), prices);
            let row: String = (0..24)
                .map(|h| {
                    let t = schedule::local_instant(
                        tz,
                        date,
                        chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default(),
                    )
                    .unwrap_or(from);
                    segments
                        .iter()
                        .find(|s| s.start <= t && t < s.end)
                        .map_or('?', |s| letter(&s.profile))
                })
                .collect();
            let disabled = if m.enabled { "" } else { "  (disabled)" };
            println!("{:<width$}  {row}{disabled}", m.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
