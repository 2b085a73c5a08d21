//! The keys the file may hold, at every depth, so that a misspelt key is reported (with the
//! closest known key) instead of being silently ignored while its default runs the miners.

use serde_json::Value;

use super::{Problem, Seg};

pub const TOP_KEYS: &[&str] = &[
    "miners",
    "global_day_settings",
    "global_night_settings",
    "max_voltage",
    "max_frequency",
    "max_temp",
    "max_power",
    "check_interval",
    "temp_check_interval",
    "log_stats_interval",
    "smooth_transition",
    "transition_steps",
    "transition_delay",
    "parallel_operations",
    "max_workers",
    "retry_attempts",
    "retry_delay",
    "safe_settings",
    "min_voltage",
    "min_frequency",
    "max_vr_temp",
    "temp_hysteresis",
    "restore_after",
    "offline_after",
    "stall_after",
    "max_drift_fixes",
    "timezone",
    "history_retention_days",
    "overheat_cooloff_minutes",
    "give_up_backoff_minutes",
    "profiles",
    "plan",
    "groups",
    "price_rules",
    "tariff",
    "power_budget",
    "api",
    "alerts",
    "mqtt",
];
pub const MINER_KEYS: &[&str] = &[
    "name",
    "ip",
    "enabled",
    "day_settings",
    "night_settings",
    "limits",
    "profiles",
];
pub const PERIOD_KEYS: &[&str] = &["start_time", "end_time", "voltage", "frequency"];
pub const SETTINGS_KEYS: &[&str] = &["voltage", "frequency"];
pub const LIMIT_KEYS: &[&str] = &[
    "min_voltage",
    "max_voltage",
    "min_frequency",
    "max_frequency",
];

/// Every key of `value` (the parsed file) that the config does not know, in file order of depth.
pub fn unknown_keys(value: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let Value::Object(top) = value else {
        return out;
    };
    check(&mut out, &[], value, TOP_KEYS);
    for name in ["global_day_settings", "global_night_settings"] {
        if let Some(v) = top.get(name) {
            check(&mut out, &[Seg::Key(name.into())], v, PERIOD_KEYS);
        }
    }
    if let Some(v) = top.get("safe_settings") {
        check(
            &mut out,
            &[Seg::Key("safe_settings".into())],
            v,
            SETTINGS_KEYS,
        );
    }
    if let Some(Value::Array(miners)) = top.get("miners") {
        for (i, m) in miners.iter().enumerate() {
            let at = [Seg::Key("miners".into()), Seg::Index(i)];
            check(&mut out, &at, m, MINER_KEYS);
            let Value::Object(fields) = m else { continue };
            for (name, known) in [
                ("day_settings", SETTINGS_KEYS),
                ("night_settings", SETTINGS_KEYS),
                ("limits", LIMIT_KEYS),
            ] {
                if let Some(v) = fields.get(name) {
                    let mut p = at.to_vec();
                    p.push(Seg::Key(name.into()));
                    check(&mut out, &p, v, known);
                }
            }
        }
    }
    out
}

fn check(out: &mut Vec<Problem>, at: &[Seg], value: &Value, known: &[&str]) {
    let Value::Object(map) = value else { return };
    for k in map.keys() {
        if known.contains(&k.as_str()) {
            continue;
        }
        let mut path = at.to_vec();
        path.push(Seg::Key(k.clone()));
        let message = match suggest(k, known) {
            Some(s) => format!("unknown key, did you mean {s}?"),
            None => format!("unknown key (known here: {})", known.join(", ")),
        };
        out.push(Problem { path, message });
    }
}

/// The known key closest to `unknown`, if one is close enough to be what was meant.
///
/// Similarity is Jaro-Winkler (an edit distance that favours a shared beginning, so a long
/// misspelt tail like `max_temprature` still finds `max_temp`), with the Levenshtein distance as a
/// tie-break.
pub fn suggest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = unknown.to_ascii_lowercase();
    known
        .iter()
        .map(|k| {
            (
                strsim::jaro_winkler(&lower, k),
                std::cmp::Reverse(strsim::levenshtein(&lower, k)),
                *k,
            )
        })
        .filter(|(score, _, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
        .map(|(_, _, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, MinerConfig, MinerLimits, ProfileOverride};

    #[test]
    fn suggestions_find_what_was_meant() {
        assert_eq!(suggest("max_temprature", TOP_KEYS), Some("max_temp"));
        assert_eq!(
            suggest("transition_step", TOP_KEYS),
            Some("transition_steps")
        );
        assert_eq!(suggest("Max_Power", TOP_KEYS), Some("max_power"));
        assert_eq!(suggest("ipaddress", MINER_KEYS), None);
        assert_eq!(suggest("adress", MINER_KEYS), None);
        assert_eq!(suggest("voltag", SETTINGS_KEYS), Some("voltage"));
    }

    /// The lists above must follow the types: every key a fully set config writes is known.
    #[test]
    fn the_key_lists_match_the_types() {
        let mut c = Config::default();
        c.miners.push(MinerConfig {
            profiles: [("quiet".to_string(), ProfileOverride::default())].into(),
            name: "a".into(),
            ip: "127.0.0.1".into(),
            enabled: true,
            day_settings: Some(ProfileOverride {
                voltage: Some(1100),
                frequency: Some(400.0),
            }),
            night_settings: None,
            limits: Some(MinerLimits {
                min_voltage: Some(1000),
                max_voltage: Some(1200),
                min_frequency: Some(100.0),
                max_frequency: Some(500.0),
            }),
        });
        c.profiles
            .insert("bedroom".into(), crate::profiles::ProfileConfig::default());
        c.plan = Some(crate::schedule::seed_plan(&c));
        c.groups.insert(
            "g".into(),
            crate::schedule::GroupConfig {
                miners: vec!["a".into()],
                ..Default::default()
            },
        );
        c.price_rules.push(crate::schedule::PriceRule {
            profile: "off".into(),
            max_price: None,
            cheapest_hours: None,
            groups: None,
        });
        c.tariff = Some(crate::prices::TariffConfig {
            currency: "EUR".into(),
            fixed: Vec::new(),
            source: None,
        });
        c.power_budget = Some(crate::budget::PowerBudget {
            watts: 300.0,
            stagger_seconds: 120,
        });
        c.api = Some(crate::config::api::ApiConfig::default());
        c.alerts = Some(crate::config::alerts::AlertsConfig::default());
        c.mqtt = Some(crate::config::mqtt::MqttConfig::default());
        let v = serde_json::to_value(&c).expect("value");
        assert!(unknown_keys(&v).is_empty(), "{:?}", unknown_keys(&v));
        let keys =
            |v: &Value| -> Vec<String> { v.as_object().expect("object").keys().cloned().collect() };
        assert_eq!(keys(&v).len(), TOP_KEYS.len());
        assert_eq!(keys(&v["miners"][0]).len(), MINER_KEYS.len());
        assert_eq!(keys(&v["miners"][0]["limits"]).len(), LIMIT_KEYS.len());
        assert_eq!(keys(&v["global_day_settings"]).len(), PERIOD_KEYS.len());
    }
}
