//! Typed views of AxeOS replies. Every firmware generation from v2.0 to v2.15 and the common forks
//! parse: a missing or oddly typed key becomes `None`, never an error, and the raw JSON is kept.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `GET /api/system/info`, normalised across firmware generations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Info {
    /// W (on a Gamma: regulator estimate plus a fixed 5 W).
    pub power: Option<f64>,
    /// Input voltage, mV.
    pub input_voltage: Option<f64>,
    /// Core-rail current, mA.
    pub current: Option<f64>,
    /// ASIC die temperature, °C (`None` while the ASIC is off: the firmware reports -1).
    pub temp: Option<f64>,
    pub temp2: Option<f64>,
    /// Regulator temperature, °C.
    pub vr_temp: Option<f64>,
    /// Instantaneous hashrate, GH/s.
    pub hash_rate: Option<f64>,
    pub hash_rate_1m: Option<f64>,
    pub expected_hashrate: Option<f64>,
    pub error_percentage: Option<f64>,
    /// Configured (NVS) core voltage, mV.
    pub core_voltage: Option<u32>,
    /// Measured core voltage, mV.
    pub core_voltage_actual: Option<f64>,
    /// Configured (NVS) frequency, MHz.
    pub frequency: Option<f64>,
    /// PLL frequency reached now, MHz (v2.14+).
    pub actual_frequency: Option<f64>,
    /// Fan duty, %.
    pub fan_percent: Option<f64>,
    pub fan_rpm: Option<f64>,
    pub auto_fan: Option<bool>,
    pub manual_fan_percent: Option<f64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub shares_accepted: Option<u64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub shares_rejected: Option<u64>,
    pub best_diff: Option<f64>,
    pub best_session_diff: Option<f64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub uptime_seconds: Option<u64>,
    pub overheat_mode: Option<bool>,
    pub mining_paused: Option<bool>,
    pub version: Option<String>,
    pub asic_model: Option<String>,
    /// `deviceModel` (e.g. `"Gamma"`), when the firmware or fork puts it in `/info`.
    #[serde(default)]
    pub device_model: Option<String>,
    pub board_version: Option<String>,
    /// `macAddr` (v2.3+), upper-case `AA:BB:CC:DD:EE:FF` as the firmware prints it.
    #[serde(default)]
    pub mac_addr: Option<String>,
    pub hostname: Option<String>,
    pub small_core_count: Option<u32>,
    pub asic_count: Option<u32>,
    /// Screen orientation in degrees (`flipscreen` 1 on old firmware is 180).
    pub rotation: Option<u32>,
    /// The reply as the miner sent it, for display.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub raw: Value,
}

/// Why a `/api/system/info` reply is not an info object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    InvalidJson(String),
    #[error("expected a JSON object, got {0}")]
    NotAnObject(&'static str),
}

impl Info {
    /// Parse one `/api/system/info` reply body as the client does (bytes that are not UTF-8 are
    /// replaced, a leading byte-order mark is skipped, then JSON). Any object is accepted ([`Info::from_json`]); anything else is a
    /// [`ParseError`]. Never panics, whatever the bytes (fuzzed in `tests/fuzz_info.rs`).
    pub fn parse(body: &[u8]) -> Result<Info, ParseError> {
        let text = String::from_utf8_lossy(body);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let value: Value =
            serde_json::from_str(text).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
        let kind = match &value {
            Value::Object(_) => return Ok(Info::from_json(value)),
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
        };
        Err(ParseError::NotAnObject(kind))
    }

    /// Normalise one `/api/system/info` object. Never fails: unknown shapes give `None` fields.
    pub fn from_json(raw: Value) -> Info {
        let empty = Map::new();
        let o = raw.as_object().unwrap_or(&empty);
        let num = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k).and_then(number));
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| match o.get(*k)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let flag = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k).and_then(boolean));
        let whole = |keys: &[&str]| num(keys).filter(|v| *v >= 0.0).map(|v| v.round() as u64);
        // -1 (and 0 on some v2.10 second sensors) means "no reading".
        let temperature = |keys: &[&str]| num(keys).filter(|t| *t > 0.0);
        let rotation = num(&["rotation"])
            .map(|r| r as u32)
            .or_else(|| flag(&["flipscreen"]).map(|flipped| if flipped { 180 } else { 0 }));
        Info {
            power: num(&["power"]),
            input_voltage: num(&["voltage"]),
            current: num(&["current"]),
            temp: temperature(&["temp"]),
            temp2: temperature(&["temp2"]),
            vr_temp: temperature(&["vrTemp", "vr_temp"]),
            hash_rate: num(&["hashRate", "hashrate"]),
            hash_rate_1m: num(&["hashRate_1m"]),
            expected_hashrate: num(&["expectedHashrate"]),
            error_percentage: num(&["errorPercentage"]),
            core_voltage: num(&["coreVoltage"]).map(|v| v.round() as u32),
            core_voltage_actual: num(&["coreVoltageActual"]),
            frequency: num(&["frequency"]),
            actual_frequency: num(&["actualFrequency"]),
            fan_percent: num(&["fanspeed"]),
            fan_rpm: num(&["fanrpm", "fanSpeedRpm", "fanSpeed"]),
            auto_fan: flag(&["autofanspeed"]),
            manual_fan_percent: num(&["manualFanSpeed"]),
            shares_accepted: whole(&["sharesAccepted"]),
            shares_rejected: whole(&["sharesRejected"]),
            best_diff: o.get("bestDiff").and_then(difficulty),
            best_session_diff: o.get("bestSessionDiff").and_then(difficulty),
            uptime_seconds: whole(&["uptimeSeconds"]),
            overheat_mode: flag(&["overheat_mode", "overheat"]),
            mining_paused: flag(&["miningPaused"]),
            version: text(&["version"]),
            asic_model: text(&["ASICModel", "asicModel"]),
            device_model: text(&["deviceModel"]),
            board_version: text(&["boardVersion"]),
            mac_addr: o.get("macAddr").and_then(mac),
            hostname: text(&["hostname"]),
            small_core_count: num(&["smallCoreCount"]).map(|v| v as u32),
            asic_count: num(&["asicCount"]).map(|v| v as u32),
            rotation,
            raw,
        }
    }

    /// Efficiency in J/TH, when both power and a non-zero hashrate are known.
    pub fn efficiency_j_per_th(&self) -> Option<f64> {
        efficiency(self.power?, self.hash_rate?)
    }
}

/// J/TH from W and GH/s; `None` when the miner is not hashing.
pub fn efficiency(power_w: f64, hashrate_ghs: f64) -> Option<f64> {
    (hashrate_ghs > 0.0 && power_w >= 0.0).then(|| power_w / (hashrate_ghs / 1000.0))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A MAC address as six hex bytes separated by `:` or `-`, normalised to upper case with `:`.
fn mac(v: &Value) -> Option<String> {
    let s = v.as_str()?.trim();
    let bytes: Vec<&str> = s.split([':', '-']).collect();
    let valid = bytes.len() == 6
        && bytes
            .iter()
            .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()));
    valid.then(|| bytes.join(":").to_ascii_uppercase())
}

fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim() {
            "1" | "true" => Some(true),
            "0" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A difficulty as a number, or as the old firmware's string with an SI suffix
/// (`"4.29G"`, `"2.03 G"`, `"13M"`, `"138.17 M"`).
pub fn difficulty(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_si(s),
        _ => None,
    }
    // "1e999 G" parses to infinity: no difficulty (found by tests/fuzz_info.rs).
    .filter(|d| d.is_finite())
}

fn parse_si(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(s.len());
    let (digits, suffix) = s.split_at(split);
    let value: f64 = digits.trim().parse().ok()?;
    let scale = match suffix.trim() {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        _ => return None,
    };
    Some(value * scale)
}

/// `GET /api/system/asic` (v2.7+): the model and the UI's preset options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AsicInfo {
    pub asic_model: Option<String>,
    pub device_model: Option<String>,
    pub asic_count: Option<u32>,
    pub default_frequency: Option<f64>,
    pub default_voltage: Option<u32>,
    pub frequency_options: Vec<f64>,
    pub voltage_options: Vec<u32>,
}

impl AsicInfo {
    pub fn from_json(raw: &Value) -> AsicInfo {
        let get = |k: &str| raw.get(k);
        let list = |k: &str| -> Vec<f64> {
            get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(number).collect())
                .unwrap_or_default()
        };
        AsicInfo {
            asic_model: get("ASICModel").and_then(Value::as_str).map(str::to_string),
            device_model: get("deviceModel")
                .and_then(Value::as_str)
                .map(str::to_string),
            asic_count: get("asicCount").and_then(number).map(|v| v as u32),
            default_frequency: get("defaultFrequency").and_then(number),
            default_voltage: get("defaultVoltage").and_then(number).map(|v| v as u32),
            frequency_options: list("frequencyOptions"),
            voltage_options: list("voltageOptions")
                .into_iter()
                .map(|v| v as u32)
                .collect(),
        }
    }
}

/// The settings the scheduler writes with `PATCH /api/system`. Unset fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SettingsPatch {
    #[serde(rename = "coreVoltage", skip_serializing_if = "Option::is_none")]
    pub core_voltage: Option<u32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "whole_when_integral"
    )]
    pub frequency: Option<f64>,
    /// Only 0 is accepted by the firmware (clears the overheat flag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overheat_mode: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autofanspeed: Option<u8>,
    /// Manual fan duty, % (v2.11+; older firmware names it `fanspeed`).
    #[serde(rename = "manualFanSpeed", skip_serializing_if = "Option::is_none")]
    pub manual_fan_speed: Option<u8>,
}

/// Old firmware truncates `frequency` to an integer; send `525`, not `525.0`, when it is whole.
fn whole_when_integral<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e9 => s.serialize_i64(*f as i64),
        Some(f) => s.serialize_f64(*f),
        None => s.serialize_none(),
    }
}
