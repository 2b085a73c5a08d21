//! What the editors ask about a config draft before it is saved: its problems, checked the way
//! the engine will load it (first as the file would parse: types, unknown keys, the first
//! broken rule; then every rule [`Config::validate`] checks), its profiles as the engine
//! resolves them, and the days ahead by the engine's resolver.

use std::path::Path;

use bitaxe_core::config::{path_string, Config, ConfigError};
use bitaxe_core::ops;
use bitaxe_core::profiles::{self, PRESETS};
use chrono::{DateTime, Utc};

use bitaxe_core::prices::Prices;
use bitaxe_core::schedule::PriceLookup;

use crate::models::{
    DraftProblem, PreviewMiner, PreviewPrice, PreviewSegment, ProfileRow, WeekPreview,
};

/// Every profile the draft knows, fleet-wide, in the engine's order.
pub fn profile_rows(cfg: &Config) -> Vec<ProfileRow> {
    profiles::all(cfg)
        .into_iter()
        .map(|(p, spec)| {
            let name = p.name().to_string();
            let preset = PRESETS.iter().any(|(n, _, _)| *n == name);
            let kind = if p.is_off() {
                "off"
            } else if p.is_seed() {
                "seed"
            } else if preset {
                "preset"
            } else {
                "own"
            };
            ProfileRow {
                customised: preset && cfg.profiles.contains_key(&name),
                name,
                kind: kind.into(),
                voltage: spec.settings.voltage,
                frequency: spec.settings.frequency,
                fan: spec.fan,
                display_timeout: spec.display_timeout,
                off: spec.off,
            }
        })
        .collect()
}

/// Seven days from the local midnight of `now`'s date, with the price rules read against
/// `prices` (and its slots for the price row).
pub fn preview(cfg: &Config, now: DateTime<Utc>, prices: Option<&Prices>) -> WeekPreview {
    let lookup = prices.map(|p| p as &dyn PriceLookup);
    let p = ops::preview(cfg, now, 7, lookup);
    let slots = prices.map(|v| {
        v.slots_between(p.from, p.to)
            .into_iter()
            .map(|s| PreviewPrice {
                start: s.start,
                end: s.end,
                price: s.price,
            })
            .collect()
    });
    WeekPreview {
        from: p.from,
        to: p.to,
        timezone: p.timezone,
        miners: p
            .miners
            .into_iter()
            .map(|m| PreviewMiner {
                miner: m.miner,
                group: m.group,
                segments: m
                    .segments
                    .into_iter()
                    .map(|s| PreviewSegment {
                        start: s.start,
                        end: s.end,
                        profile: s.profile.name().to_string(),
                        why: s.reason.to_string(),
                    })
                    .collect(),
            })
            .collect(),
        prices: slots,
        currency: prices.map(|v| v.currency().to_string()),
    }
}

pub fn check(draft: &serde_json::Value) -> Vec<DraftProblem> {
    let text = draft.to_string();
    match Config::parse(&text, Path::new("draft")) {
        Ok(config) => config
            .validate()
            .into_iter()
            .map(|p| DraftProblem {
                code: "config_invalid".into(),
                message: p.message,
                path: path_string(&p.path),
            })
            .collect(),
        Err(e) => {
            let code = e.code().to_string();
            let (path, message) = match e {
                ConfigError::Invalid { key, message, .. } => (key, message),
                ConfigError::Syntax { message, .. } => (String::new(), message),
                ConfigError::Io { source, .. } => (String::new(), source.to_string()),
            };
            vec![DraftProblem {
                code,
                message,
                path,
            }]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft() -> serde_json::Value {
        serde_json::to_value(Config::default()).expect("json")
    }

    #[test]
    fn profiles_come_in_the_engines_order_with_their_kind() {
        let mut d = draft();
        d["profiles"] = json!({"quiet": {"voltage": 1060}, "bedroom": {"voltage": 1100, "frequency": 450,
            "fan": {"mode": "manual", "speed": 30}}});
        let cfg: Config = serde_json::from_value(d).expect("config");
        let rows = profile_rows(&cfg);
        let names: Vec<(&str, &str, bool)> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.kind.as_str(), r.customised))
            .collect();
        assert_eq!(
            names,
            [
                ("day", "seed", false),
                ("night", "seed", false),
                ("quiet", "preset", true),
                ("efficiency", "preset", false),
                ("performance", "preset", false),
                ("bedroom", "own", false),
                ("off", "off", false),
            ]
        );
        assert_eq!(rows[2].voltage, 1060);
        assert_eq!(
            rows[5].fan,
            Some(bitaxe_core::profiles::FanSpec::Manual { speed: 30 })
        );
        assert!(rows[6].off);
    }

    #[test]
    fn the_preview_covers_seven_local_days_with_reasons() {
        let mut d = draft();
        d["timezone"] = json!("Europe/Berlin");
        d["miners"] = json!([{"name": "a", "ip": "http://127.0.0.1:1"}]);
        d["plan"] = json!({"default": "night", "week": [{"from": "08:00", "to": "18:00", "profile": "quiet"}]});
        let cfg: Config = serde_json::from_value(d).expect("config");
        let now: DateTime<Utc> = "2026-11-25T15:00:00Z".parse().expect("time");
        let p = preview(&cfg, now, None);
        assert_eq!(
            p.from,
            "2026-11-24T23:00:00Z".parse::<DateTime<Utc>>().expect("t")
        );
        assert_eq!(p.to - p.from, chrono::Duration::days(7));
        let segs = &p.miners[0].segments;
        assert_eq!(segs.first().map(|s| s.start), Some(p.from));
        assert_eq!(segs.last().map(|s| s.end), Some(p.to));
        let quiet = segs.iter().filter(|s| s.profile == "quiet").count();
        assert_eq!(quiet, 7, "{segs:?}");
        assert!(segs.iter().all(|s| !s.why.is_empty()));
    }

    #[test]
    fn a_sound_draft_has_no_problems() {
        assert_eq!(check(&draft()), vec![]);
    }

    #[test]
    fn problems_name_the_field_as_the_form_does() {
        let mut d = draft();
        d["global_night_settings"]["voltage"] = json!(1900);
        let p = check(&d);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].path, "global_night_settings.voltage");
        assert_eq!(p[0].code, "config_invalid");
        assert!(p[0].message.contains("1900"), "{}", p[0].message);

        let mut d = draft();
        d["max_temp"] = json!("hot");
        let p = check(&d);
        assert_eq!(
            (p[0].path.as_str(), p[0].code.as_str()),
            ("max_temp", "config_invalid")
        );

        let mut d = draft();
        d["max_tmep"] = json!(60);
        assert_eq!(check(&d)[0].path, "max_tmep");
    }
}
