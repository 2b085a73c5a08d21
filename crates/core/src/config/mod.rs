//! The configuration file: the seed's `multi_scheduler_config.json`, `//` and `/* */` comments
//! accepted, every key defaulted, errors that name the line and the key, atomic saves with a backup.
//!
//! Loading: `comments` blanks comments out, the JSON is parsed, keys written twice (`locate`) and
//! unknown keys (`schema`, with a suggestion) are refused, defaults fill the rest, and `validate`
//! checks every value (numeric keys against `ranges`). Saving: `edit` changes the user's text in
//! place (comments and order kept) and `write` replaces the file crash-safely.

pub mod alerts;
pub mod api;
pub(crate) mod comments;
mod edit;
mod error;
mod locate;
pub mod mqtt;
pub mod ranges;
pub mod schema;
mod validate;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use api::ApiConfig;
pub use error::{path_string, ConfigError, Problem};
pub use locate::{first_duplicate, line_of, Duplicate, Seg};
pub use mqtt::MqttConfig;
pub use ranges::{seconds, Range, LIMIT_RANGES, RANGES};
pub use write::write_atomic;

use crate::safety::Envelope;

/// `HH:MM` local wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(type = "string"))]
pub struct ClockTime(pub NaiveTime);

impl ClockTime {
    pub fn hm(h: u32, m: u32) -> ClockTime {
        ClockTime(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default())
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .map(ClockTime)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "{s:?} is not a time of day; expected HH:MM, e.g. \"07:30\""
                ))
            })
    }
}

/// A global profile: when it starts and ends, and what it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PeriodSettings {
    pub start_time: ClockTime,
    pub end_time: ClockTime,
    /// mV
    pub voltage: u32,
    /// MHz
    pub frequency: f64,
}

/// A miner's partial override of a global profile: unset fields inherit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MinerConfig {
    pub name: String,
    /// `http://HOST[:PORT]`
    pub ip: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub day_settings: Option<ProfileOverride>,
    #[serde(default)]
    pub night_settings: Option<ProfileOverride>,
    /// This miner's own hard limits. Needed for a model without a built-in table (an unknown model
    /// is monitored but never written to until these are set); for a known model they can only
    /// narrow the built-in limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<MinerLimits>,
    /// This miner's overrides of other profiles (`quiet`, `performance`, its own...), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, ProfileOverride>,
}

/// Per-miner hard limits (see [`MinerConfig::limits`]). Unset fields fall back to the config's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MinerLimits {
    /// mV
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_voltage: Option<u32>,
    /// mV
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_voltage: Option<u32>,
    /// MHz
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_frequency: Option<f64>,
    /// MHz
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frequency: Option<f64>,
}

fn yes() -> bool {
    true
}

/// Safe settings for emergencies and fallbacks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SafeSettings {
    pub voltage: u32,
    pub frequency: f64,
}

/// The whole file. Seed keys first, then the keys this project added (all defaulted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Config {
    pub miners: Vec<MinerConfig>,
    pub global_day_settings: PeriodSettings,
    pub global_night_settings: PeriodSettings,
    /// mV; whatever this says, nothing above [`GAMMA_MAX_VOLTAGE_MV`] is ever written.
    pub max_voltage: u32,
    /// MHz
    pub max_frequency: f64,
    /// °C, ASIC die
    pub max_temp: f64,
    /// W
    pub max_power: f64,
    /// s between status checks (schedule, table, drift)
    pub check_interval: f64,
    /// s between temperature and power checks
    pub temp_check_interval: f64,
    /// s between writes of the statistics file
    pub log_stats_interval: f64,
    pub smooth_transition: bool,
    pub transition_steps: u32,
    /// s between transition steps
    pub transition_delay: f64,
    pub parallel_operations: bool,
    pub max_workers: usize,
    pub retry_attempts: u32,
    /// s before the first retry (doubles each time)
    pub retry_delay: f64,

    /// What an emergency stop and a fallback apply.
    pub safe_settings: SafeSettings,
    /// mV; floor of the envelope
    pub min_voltage: u32,
    /// MHz; floor of the envelope
    pub min_frequency: f64,
    /// °C, voltage regulator
    pub max_vr_temp: f64,
    /// °C below `max_temp` (and % below `max_power`) a throttled miner must stay before restoring
    pub temp_hysteresis: f64,
    /// consecutive cool checks before a throttled miner gets its schedule back
    pub restore_after: u32,
    /// consecutive failed polls before a miner counts as offline
    pub offline_after: u32,
    /// consecutive polls with frozen hashrate and shares before a miner counts as stalled
    pub stall_after: u32,
    /// how often the engine re-applies settings the firmware changed by itself, per target
    pub max_drift_fixes: u32,
    /// IANA zone for the day/night times (e.g. "Europe/Berlin"); empty: the computer's zone
    pub timezone: String,
    /// days of samples kept in the history database
    pub history_retention_days: u32,
    /// minutes after the firmware's own overheat recovery before the schedule may raise that
    /// miner again
    pub overheat_cooloff_minutes: f64,
    /// minutes before a target the miner would not take is tried again (doubles each time)
    pub give_up_backoff_minutes: f64,

    /// Named profiles beside the built-in ones (see `profiles`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: crate::profiles::ProfileMap,
    /// The weekly plan; absent: the seed's day/night windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::schedule::PlanConfig>,
    /// Groups of miners with a plan of their own.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: crate::schedule::GroupMap,
    /// Profiles chosen by the electricity price, tried in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub price_rules: Vec<crate::schedule::PriceRule>,
    /// Electricity prices: fixed windows and/or a price feed (see `prices`). Unset: no prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff: Option<crate::prices::TariffConfig>,
    /// The fleet's power cap and how changes are staggered (none: no cap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_budget: Option<crate::budget::PowerBudget>,
    /// The engine's HTTP API (absent: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<api::ApiConfig>,
    /// Alerts sent by the engine itself (ntfy, Telegram, webhook, e-mail); absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<alerts::AlertsConfig>,
    /// The MQTT bridge with Home Assistant discovery (absent: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<mqtt::MqttConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            miners: Vec::new(),
            global_day_settings: PeriodSettings {
                start_time: ClockTime::hm(7, 30),
                end_time: ClockTime::hm(20, 0),
                voltage: 1100,
                frequency: 425.0,
            },
            global_night_settings: PeriodSettings {
                start_time: ClockTime::hm(20, 0),
                end_time: ClockTime::hm(7, 30),
                voltage: 1200,
                frequency: 550.0,
            },
            max_voltage: 1250,
            max_frequency: 600.0,
            max_temp: 68.0,
            max_power: 30.0,
            check_interval: 60.0,
            temp_check_interval: 30.0,
            log_stats_interval: 300.0,
            smooth_transition: true,
            transition_steps: 5,
            transition_delay: 10.0,
            parallel_operations: true,
            max_workers: 5,
            retry_attempts: 3,
            retry_delay: 5.0,
            safe_settings: SafeSettings {
                voltage: 1100,
                frequency: 400.0,
            },
            min_voltage: 1000,
            min_frequency: 100.0,
            max_vr_temp: 90.0,
            temp_hysteresis: 5.0,
            restore_after: 3,
            offline_after: 3,
            stall_after: 3,
            max_drift_fixes: 3,
            timezone: String::new(),
            history_retention_days: 30,
            overheat_cooloff_minutes: 30.0,
            give_up_backoff_minutes: 10.0,
            profiles: BTreeMap::new(),
            plan: None,
            groups: BTreeMap::new(),
            price_rules: Vec::new(),
            tariff: None,
            power_budget: None,
            api: None,
            alerts: None,
            mqtt: None,
        }
    }
}

pub(crate) fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

impl Config {
    /// Parse text (comments allowed, a UTF-8 byte-order mark ignored) and validate: unknown keys,
    /// types, ranges. `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let plain = comments::strip(text).map_err(|at| ConfigError::Syntax {
            path: path.to_path_buf(),
            line: at.line,
            column: at.column,
            message: "a /* comment is never closed with */".into(),
        })?;
        // Syntax first, so a broken file reports where it breaks.
        let value: serde_json::Value =
            serde_json::from_str(&plain).map_err(|e| ConfigError::Syntax {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: e
                    .to_string()
                    .split(" at line")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            })?;
        if let Some(d) = first_duplicate(&plain) {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: Some(d.second_line),
                key: path_string(&d.path),
                message: format!(
                    "written twice (lines {} and {}); JSON would silently keep only the last, so keep one",
                    d.first_line, d.second_line
                ),
            });
        }
        if let Some(problem) = schema::unknown_keys(&value).into_iter().next() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of(&plain, &problem.path),
                key: path_string(&problem.path),
                message: problem.message,
            });
        }
        // Every key the file leaves out, at any depth, takes its documented default.
        let mut merged = serde_json::to_value(Config::default()).unwrap_or_default();
        merge(&mut merged, value);
        let config: Config = serde_path_to_error::deserialize(merged).map_err(|e| {
            let segs = error_path(e.path());
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of(&plain, &segs)
                    .or_else(|| line_of(&plain, &segs[..segs.len().saturating_sub(1)])),
                key: path_string(&segs),
                message: e.into_inner().to_string(),
            }
        })?;
        if let Some(problem) = config.validate().into_iter().next() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: line_of(&plain, &problem.path),
                key: path_string(&problem.path),
                message: problem.message,
            });
        }
        Ok(config)
    }

    /// Read and validate a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Load, or write the documented default first when the file does not exist.
    /// Returns the config and whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Config, bool), ConfigError> {
        if path.exists() {
            return Config::load(path).map(|c| (c, false));
        }
        let config = Config::default();
        config.save(path)?;
        Ok((config, true))
    }

    /// Validate, then save: the existing text is edited in place (comments, key order and
    /// unchanged values kept; see `edit`), written atomically through a symlink with the file's
    /// permissions kept and both file and folder fsynced; the previous file is kept as `FILE.bak`.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        if let Some(problem) = self.validate().into_iter().next() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: None,
                key: path_string(&problem.path),
                message: problem.message,
            });
        }
        let old_text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let text = self.render(old_text.as_deref(), path);
        if let Some(old) = &old_text {
            if *old == text {
                return Ok(());
            }
            let backup = backup_path(path);
            write_atomic(&backup, old.as_bytes()).map_err(|source| ConfigError::Io {
                path: backup,
                source,
            })?;
        }
        write_atomic(path, text.as_bytes()).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The text a save writes: `old_text` edited in place when that gives back exactly this
    /// config, else the whole config afresh.
    fn render(&self, old_text: Option<&str>, path: &Path) -> String {
        let mut new = serde_json::to_value(self).unwrap_or_default();
        whole_numbers(&mut new);
        let edited = old_text.and_then(|text| {
            let (bom, body) = match text.strip_prefix('\u{feff}') {
                Some(body) => ("\u{feff}", body),
                None => ("", text),
            };
            let old = Config::parse(body, path).ok()?;
            let mut old = serde_json::to_value(old).ok()?;
            whole_numbers(&mut old);
            let edited = format!("{bom}{}", edit::in_place(body, &old, &new)?);
            (Config::parse(&edited, path).ok()? == *self).then_some(edited)
        });
        edited.unwrap_or_else(|| edit::fresh(&new))
    }

    /// The safe settings as plain settings.
    pub fn safe(&self) -> crate::safety::Settings {
        crate::safety::Settings::new(self.safe_settings.voltage, self.safe_settings.frequency)
    }

    /// The enabled miners, in config order.
    pub fn enabled(&self) -> Vec<MinerConfig> {
        self.miners.iter().filter(|m| m.enabled).cloned().collect()
    }

    /// The safety envelope this config asks for (hard caps applied).
    pub fn envelope(&self) -> Envelope {
        Envelope::new(
            self.min_voltage,
            self.max_voltage,
            self.min_frequency,
            self.max_frequency,
        )
    }

    pub fn miner(&self, name: &str) -> Option<&MinerConfig> {
        self.miners.iter().find(|m| m.name == name)
    }
}

/// Write `60`, not `60.0`, for whole values, as a person would.
fn whole_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15 && !n.is_i64() && !n.is_u64())
            {
                *v = serde_json::Value::from(f as i64);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(whole_numbers),
        serde_json::Value::Object(o) => o.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Overlay `over` on `base`: objects merge key by key, anything else replaces.
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

fn error_path(path: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

pub fn backup_path(path: &Path) -> PathBuf {
    with_suffix(path, ".bak")
}

/// `FILE` + `suffix`, beside `FILE` (the lock, the state file and the backup of a config).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests;
