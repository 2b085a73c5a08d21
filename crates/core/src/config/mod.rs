//! The configuration file: the seed's `multi_scheduler_config.json`, `//` and `/* */` comments
//! accepted, every key defaulted, errors that name the line and the key, atomic saves with a backup.

mod locate;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use locate::{line_of, Seg};

use crate::safety::{Envelope, GAMMA_MAX_VOLTAGE_MV};

/// `HH:MM` local wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
pub struct ProfileOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voltage: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// Per-miner hard limits (see [`MinerConfig::limits`]). Unset fields fall back to the config's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
pub struct SafeSettings {
    pub voltage: u32,
    pub frequency: f64,
}

/// The whole file. Seed keys first, then the keys this project added (all defaulted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
        }
    }
}

/// Why a configuration could not be used. Every variant names the file; most name a line and key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: line {line}, column {column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}{}: {key}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        message: String,
    },
}

impl ConfigError {
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Io { .. } => "config_io",
            ConfigError::Syntax { .. } => "config_syntax",
            ConfigError::Invalid { .. } => "config_invalid",
        }
    }
}

/// A problem found by [`Config::validate`]: the key path and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: Vec<Seg>,
    pub message: String,
}

pub fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

impl Config {
    /// Parse text (comments allowed) and validate. `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut plain = String::with_capacity(text.len());
        std::io::Read::read_to_string(
            &mut json_comments::StripComments::new(text.as_bytes()),
            &mut plain,
        )
        .map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
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

    /// Validate, then write atomically (temp file + rename) keeping the previous file as `FILE.bak`.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        if let Some(problem) = self.validate().into_iter().next() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: None,
                key: path_string(&problem.path),
                message: problem.message,
            });
        }
        let mut value = serde_json::to_value(self).unwrap_or_default();
        whole_numbers(&mut value);
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        if path.exists() {
            let backup = backup_path(path);
            std::fs::copy(path, &backup).map_err(|source| ConfigError::Io {
                path: backup,
                source,
            })?;
        }
        write_atomic(path, text.as_bytes()).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })
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

    /// Every problem with the values, each with its key path.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut bad = |path: Vec<Seg>, message: String| out.push(Problem { path, message });
        let env = self.envelope();
        if self.min_voltage < crate::safety::GAMMA_MIN_VOLTAGE_MV {
            bad(
                vec![key("min_voltage")],
                format!(
                    "{} mV is below the regulator's floor of {} mV",
                    self.min_voltage,
                    crate::safety::GAMMA_MIN_VOLTAGE_MV
                ),
            );
        }
        if self.min_voltage >= env.max_voltage {
            bad(
                vec![key("max_voltage")],
                format!(
                    "must be above min_voltage ({} mV) and at most {GAMMA_MAX_VOLTAGE_MV} mV",
                    self.min_voltage
                ),
            );
        }
        if !(self.min_frequency > 0.0 && self.min_frequency < self.max_frequency) {
            bad(
                vec![key("max_frequency")],
                format!("must be above min_frequency ({} MHz)", self.min_frequency),
            );
        }
        let mut check_settings = |path: Vec<Seg>, voltage: Option<u32>, frequency: Option<f64>| {
            if let Some(v) = voltage {
                if let Err(msg) = env.check_voltage(v) {
                    let mut p = path.clone();
                    p.push(key("voltage"));
                    bad(p, msg);
                }
            }
            if let Some(f) = frequency {
                if let Err(msg) = env.check_frequency(f) {
                    let mut p = path.clone();
                    p.push(key("frequency"));
                    bad(p, msg);
                }
            }
        };
        for (name, p) in [
            ("global_day_settings", &self.global_day_settings),
            ("global_night_settings", &self.global_night_settings),
        ] {
            check_settings(vec![key(name)], Some(p.voltage), Some(p.frequency));
        }
        check_settings(
            vec![key("safe_settings")],
            Some(self.safe_settings.voltage),
            Some(self.safe_settings.frequency),
        );
        for (i, m) in self.miners.iter().enumerate() {
            let at = |k: &str| vec![key("miners"), Seg::Index(i), key(k)];
            for (k, o) in [
                ("day_settings", &m.day_settings),
                ("night_settings", &m.night_settings),
            ] {
                if let Some(o) = o {
                    check_settings(at(k), o.voltage, o.frequency);
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.miners.iter().enumerate() {
            let at = |k: &str| vec![key("miners"), Seg::Index(i), key(k)];
            if m.name.trim().is_empty() {
                bad(at("name"), "a miner needs a name".into());
            } else if !seen.insert(m.name.as_str()) {
                bad(at("name"), format!("{:?} is used by another miner", m.name));
            }
            if let Err(e) = axeos::normalize_address(&m.ip) {
                bad(at("ip"), e.to_string());
            }
        }
        for (k, v) in [
            ("check_interval", self.check_interval),
            ("temp_check_interval", self.temp_check_interval),
            ("log_stats_interval", self.log_stats_interval),
        ] {
            if !(v >= 0.05 && v.is_finite()) {
                bad(vec![key(k)], "must be at least 0.05 seconds".into());
            }
        }
        if self.transition_steps == 0 {
            bad(vec![key("transition_steps")], "must be at least 1".into());
        }
        if self.max_workers == 0 {
            bad(vec![key("max_workers")], "must be at least 1".into());
        }
        if !(self.transition_delay >= 0.0 && self.retry_delay >= 0.0) {
            bad(
                vec![key("transition_delay")],
                "delays must be 0 or more seconds".into(),
            );
        }
        if !(self.max_temp > 0.0 && self.max_power > 0.0 && self.max_vr_temp > 0.0) {
            bad(
                vec![key("max_temp")],
                "temperature and power limits must be positive".into(),
            );
        }
        if self.offline_after == 0 || self.stall_after == 0 {
            bad(
                vec![key("offline_after")],
                "offline_after and stall_after must be at least 1".into(),
            );
        }
        if !self.timezone.is_empty() && self.timezone.parse::<chrono_tz::Tz>().is_err() {
            bad(
                vec![key("timezone")],
                format!(
                    "{:?} is not an IANA time zone (e.g. \"Europe/Berlin\")",
                    self.timezone
                ),
            );
        }
        out
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

/// Write `bytes` to `path` so that a crash leaves either the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests;
