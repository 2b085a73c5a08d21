//! Named profiles: what a miner runs (voltage, frequency, optionally fan and display behaviour),
//! under a name the plan refers to.
//!
//! Built in: the seed's `day` and `night` (their settings live in `global_day_settings` and
//! `global_night_settings`, as in the seed), the presets `quiet`, `efficiency` and `performance`,
//! `off` (mining paused where the firmware can pause, else the lowest safe settings) and `safe`
//! (the emergency settings; never planned). The config's `profiles` key adds profiles and may
//! change a preset's settings; it may not redefine `day`, `night`, `off` or `safe`.
//!
//! A per-miner override changes a profile's settings for that miner, never which profile runs:
//! `day_settings` / `night_settings` (seed keys) for the seed's two, `profiles.NAME` on the miner
//! for every other.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::{key, Config, MinerConfig, Problem, ProfileOverride, Seg};
use crate::safety::Settings;

/// A profile's name. Cheap to clone; compared by name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(type = "string"))]
pub struct Profile(Arc<str>);

impl Profile {
    pub fn new(name: &str) -> Profile {
        Profile(Arc::from(name))
    }
    pub fn day() -> Profile {
        Profile::new(DAY)
    }
    pub fn night() -> Profile {
        Profile::new(NIGHT)
    }
    pub fn safe() -> Profile {
        Profile::new(SAFE)
    }
    pub fn off() -> Profile {
        Profile::new(OFF)
    }
    pub fn name(&self) -> &str {
        &self.0
    }
    pub fn is_off(&self) -> bool {
        &*self.0 == OFF
    }
    pub fn is_safe(&self) -> bool {
        &*self.0 == SAFE
    }
    /// One of the seed's two profiles, whose statistics keep the seed's own keys.
    pub fn is_seed(&self) -> bool {
        matches!(&*self.0, DAY | NIGHT)
    }
}

pub const DAY: &str = "day";
pub const NIGHT: &str = "night";
pub const SAFE: &str = "safe";
pub const OFF: &str = "off";
/// Names no `profiles` entry may take.
pub const RESERVED: &[&str] = &[DAY, NIGHT, SAFE, OFF];

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Profile({})", self.0)
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Profile::new(&s))
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    /// Any well-formed name; whether the config knows it is [`exists`]'s question.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        check_name(s).map(|()| Profile::new(&s.to_ascii_lowercase()))
    }
}

/// Profile names: 1 to 32 characters, lower-case letters, digits, `-` and `_`.
pub fn check_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a profile name: use 1 to 32 letters, digits, '-' or '_'"
        ))
    }
}

/// Fan behaviour under a profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FanSpec {
    /// The firmware's automatic fan, aiming at this ASIC temperature (°C).
    Auto { target_temp: f64 },
    /// A fixed fan speed (%), e.g. a low cap for a bedroom at night.
    Manual { speed: u32 },
}

/// One `profiles` entry. Unset fields of a preset keep the preset's value; a new profile must
/// set voltage and frequency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileConfig {
    /// mV
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage: Option<u32>,
    /// MHz
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan: Option<FanSpec>,
    /// Minutes before the miner's display goes dark (0: always on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_timeout: Option<u32>,
}

/// Everything a profile means for one miner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileSpec {
    pub settings: Settings,
    pub fan: Option<FanSpec>,
    pub display_timeout: Option<u32>,
    /// Mining paused (or, where the firmware cannot pause, the lowest safe settings).
    pub off: bool,
}

/// The presets and their settings for the Gamma 601 (stock: 525 MHz at 1150 mV). Clamped into
/// the config's envelope when used, so a narrow envelope never makes a preset invalid.
pub const PRESETS: &[(&str, u32, f64)] = &[
    ("quiet", 1050, 400.0),
    ("efficiency", 1100, 490.0),
    ("performance", 1200, 575.0),
];

fn preset(name: &str) -> Option<(u32, f64)> {
    PRESETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, v, f)| (v, f))
}

/// Whether the config knows `profile` (built in, preset or its own).
pub fn exists(cfg: &Config, profile: &str) -> bool {
    RESERVED.contains(&profile) || preset(profile).is_some() || cfg.profiles.contains_key(profile)
}

/// Every profile the config knows, built-ins first, in a stable order (`safe` left out: it is
/// never planned).
pub fn names(cfg: &Config) -> Vec<Profile> {
    let mut out: Vec<Profile> = [DAY, NIGHT]
        .into_iter()
        .chain(PRESETS.iter().map(|(n, _, _)| *n))
        .map(Profile::new)
        .collect();
    out.extend(
        cfg.profiles
            .keys()
            .filter(|k| preset(k).is_none())
            .map(|k| Profile::new(k)),
    );
    out.push(Profile::off());
    out
}

/// A profile's settings fleet-wide (no per-miner override), or `None` for an unknown name.
pub fn global_spec(cfg: &Config, profile: &Profile) -> Option<ProfileSpec> {
    let plain = |settings: Settings| ProfileSpec {
        settings,
        fan: None,
        display_timeout: None,
        off: false,
    };
    match profile.name() {
        DAY => Some(plain(Settings::new(
            cfg.global_day_settings.voltage,
            cfg.global_day_settings.frequency,
        ))),
        NIGHT => Some(plain(Settings::new(
            cfg.global_night_settings.voltage,
            cfg.global_night_settings.frequency,
        ))),
        SAFE => Some(plain(cfg.safe())),
        OFF => Some(ProfileSpec {
            settings: Settings::new(cfg.min_voltage, cfg.min_frequency),
            fan: None,
            display_timeout: None,
            off: true,
        }),
        name => {
            let own = cfg.profiles.get(name);
            let base = preset(name).map(|(v, f)| {
                let env = cfg.envelope();
                Settings::new(
                    v.clamp(env.min_voltage, env.max_voltage),
                    f.clamp(env.min_frequency, env.max_frequency),
                )
            });
            let voltage = own.and_then(|o| o.voltage).or(base.map(|b| b.voltage))?;
            let frequency = own
                .and_then(|o| o.frequency)
                .or(base.map(|b| b.frequency))?;
            Some(ProfileSpec {
                settings: Settings::new(voltage, frequency),
                fan: own.and_then(|o| o.fan),
                display_timeout: own.and_then(|o| o.display_timeout),
                off: false,
            })
        }
    }
}

/// A miner's own override of `profile`, if it has one.
pub fn miner_override<'a>(
    miner: &'a MinerConfig,
    profile: &Profile,
) -> Option<&'a ProfileOverride> {
    match profile.name() {
        DAY => miner.day_settings.as_ref(),
        NIGHT => miner.night_settings.as_ref(),
        name => miner.profiles.get(name),
    }
}

/// What `profile` means for `miner`: the fleet-wide spec with the miner's override on top. An
/// unknown name (a profile deleted while a manual apply still names it) falls back to the safe
/// settings, never to something faster.
pub fn spec_for(cfg: &Config, miner: &MinerConfig, profile: &Profile) -> ProfileSpec {
    let Some(mut spec) = global_spec(cfg, profile) else {
        return global_spec(cfg, &Profile::safe()).unwrap_or(ProfileSpec {
            settings: cfg.safe(),
            fan: None,
            display_timeout: None,
            off: false,
        });
    };
    if spec.off || profile.is_safe() {
        return spec;
    }
    if let Some(own) = miner_override(miner, profile) {
        spec.settings = Settings::new(
            own.voltage.unwrap_or(spec.settings.voltage),
            own.frequency.unwrap_or(spec.settings.frequency),
        );
    }
    spec
}

/// Every profile with its fleet-wide spec.
pub fn all(cfg: &Config) -> Vec<(Profile, ProfileSpec)> {
    names(cfg)
        .into_iter()
        .filter_map(|p| global_spec(cfg, &p).map(|s| (p, s)))
        .collect()
}

/// Problems with the `profiles` key and the miners' `profiles` overrides: names, required
/// settings, the envelope.
pub fn validate(cfg: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let env = cfg.envelope();
    let check_settings = |out: &mut Vec<Problem>, at: Vec<Seg>, v: Option<u32>, f: Option<f64>| {
        for (k, err) in [
            ("voltage", v.and_then(|v| env.check_voltage(v).err())),
            ("frequency", f.and_then(|f| env.check_frequency(f).err())),
        ] {
            if let Some(message) = err {
                out.push(Problem {
                    path: [at.clone(), vec![key(k)]].concat(),
                    message,
                });
            }
        }
    };
    for (name, p) in &cfg.profiles {
        let at = vec![key("profiles"), key(name)];
        if let Err(message) = check_name(name) {
            out.push(Problem { path: at, message });
            continue;
        }
        if RESERVED.contains(&name.as_str()) {
            let message = match name.as_str() {
                DAY => "the day profile's settings live in global_day_settings".to_string(),
                NIGHT => "the night profile's settings live in global_night_settings".to_string(),
                SAFE => "the safe profile's settings live in safe_settings".to_string(),
                _ => "off is built in (mining paused) and cannot be redefined".to_string(),
            };
            out.push(Problem { path: at, message });
            continue;
        }
        if preset(name).is_none() && (p.voltage.is_none() || p.frequency.is_none()) {
            let missing = if p.voltage.is_none() {
                "voltage"
            } else {
                "frequency"
            };
            out.push(Problem {
                path: at,
                message: format!(
                    "a new profile needs both voltage and frequency ({missing} is missing)"
                ),
            });
            continue;
        }
        check_settings(&mut out, at.clone(), p.voltage, p.frequency);
        match p.fan {
            Some(FanSpec::Auto { target_temp })
                if !(35.0..=cfg.max_temp).contains(&target_temp) =>
            {
                out.push(Problem {
                    path: [at, vec![key("fan"), key("target_temp")]].concat(),
                    message: format!(
                        "{target_temp} °C: the fan's target must be 35 to max_temp ({} °C)",
                        cfg.max_temp
                    ),
                })
            }
            Some(FanSpec::Manual { speed }) if !(20..=100).contains(&speed) => out.push(Problem {
                path: [at, vec![key("fan"), key("speed")]].concat(),
                message: format!("{speed} %: a fixed fan speed must be 20 to 100 %"),
            }),
            _ => {}
        }
    }
    for (i, m) in cfg.miners.iter().enumerate() {
        for (name, o) in &m.profiles {
            let at = vec![key("miners"), Seg::Index(i), key("profiles"), key(name)];
            if !exists(cfg, name) || matches!(name.as_str(), SAFE | OFF) {
                out.push(Problem {
                    path: at,
                    message: format!(
                        "{name:?} is not a profile this miner can override ({})",
                        known(cfg)
                    ),
                });
            } else if matches!(name.as_str(), DAY | NIGHT) {
                out.push(Problem {
                    path: at,
                    message: format!(
                        "the seed key {name}_settings holds this miner's {name} override"
                    ),
                });
            } else {
                check_settings(&mut out, at, o.voltage, o.frequency);
            }
        }
    }
    out
}

/// The known profile names as a list for messages.
pub fn known(cfg: &Config) -> String {
    let names: Vec<String> = names(cfg).iter().map(|p| p.to_string()).collect();
    format!("known: {}", names.join(", "))
}

/// A user-facing label: `performance` → `Performance`.
pub fn label(profile: &Profile) -> String {
    let mut c = profile.name().chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Config map type for `profiles`.
pub type ProfileMap = BTreeMap<String, ProfileConfig>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_clamp_into_a_narrow_envelope_and_overrides_apply() {
        let mut cfg = Config {
            max_frequency: 500.0,
            ..Config::default()
        };
        let perf = global_spec(&cfg, &Profile::new("performance")).expect("preset");
        assert_eq!(perf.settings.frequency, 500.0);
        cfg.profiles.insert(
            "quiet".into(),
            ProfileConfig {
                frequency: Some(350.0),
                ..Default::default()
            },
        );
        let quiet = global_spec(&cfg, &Profile::new("quiet")).expect("preset");
        assert_eq!(
            (quiet.settings.voltage, quiet.settings.frequency),
            (1050, 350.0)
        );
        assert!(global_spec(&cfg, &Profile::new("nope")).is_none());
        assert!(global_spec(&cfg, &Profile::off()).expect("off").off);
    }

    #[test]
    fn reserved_names_and_half_profiles_are_refused() {
        let mut cfg = Config::default();
        cfg.profiles.insert("day".into(), ProfileConfig::default());
        cfg.profiles.insert(
            "bedroom".into(),
            ProfileConfig {
                voltage: Some(1100),
                ..Default::default()
            },
        );
        cfg.profiles.insert(
            "hot".into(),
            ProfileConfig {
                voltage: Some(1400),
                frequency: Some(500.0),
                ..Default::default()
            },
        );
        let problems = validate(&cfg);
        let text: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", crate::config::path_string(&p.path), p.message))
            .collect();
        assert_eq!(problems.len(), 3, "{text:?}");
        assert!(text
            .iter()
            .any(|t| t.contains("profiles.day") && t.contains("global_day_settings")));
        assert!(text
            .iter()
            .any(|t| t.contains("profiles.bedroom") && t.contains("frequency is missing")));
        assert!(
            text.iter().any(|t| t.contains("profiles.hot.voltage")),
            "{text:?}"
        );
    }

    #[test]
    fn names_parse_lower_case_and_refuse_junk() {
        assert_eq!(
            "Performance".parse::<Profile>().expect("name").name(),
            "performance"
        );
        assert!("two words".parse::<Profile>().is_err());
        assert!("".parse::<Profile>().is_err());
    }
}
