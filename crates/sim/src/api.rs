//! What the simulated miner says over HTTP: `/info` in each personality's key set, PATCH validation.

use serde_json::{json, Map, Value};

use crate::physics::{MinerState, Personality, GHS_PER_MHZ};

/// The `/api/system/info` object for this miner's personality (§4 of the reference).
pub fn info(s: &MinerState, name: &str) -> Value {
    let p = s.personality;
    let mining = s.mining();
    let round7 = |v: f64| (v * 1e7).round() / 1e7;
    let core_v = s.applied_voltage;
    let current_ma = if mining && core_v > 0.0 {
        s.core_power() / (core_v / 1000.0) * 1000.0
    } else {
        0.0
    };
    let diff = |d: f64| -> Value {
        if p == Personality::V2_10 {
            json!(si_with_space(d))
        } else {
            json!(d.round())
        }
    };
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("power", json!(round7(s.power())));
    put("voltage", json!(5093.75));
    put("current", json!(round7(current_ma)));
    put("temp", json!(if mining { round7(s.temp) } else { -1.0 }));
    put("temp2", json!(if p == Personality::V2_10 { 0 } else { -1 }));
    put("vrTemp", json!(s.vr_temp.round()));
    put("maxPower", json!(40));
    put("nominalVoltage", json!(5));
    put("hashRate", json!(round7(s.hashrate)));
    put("expectedHashrate", json!(s.expected_hashrate().round()));
    put("bestDiff", diff(s.best_diff));
    put("bestSessionDiff", diff(s.best_session_diff));
    put("poolDifficulty", json!(1000));
    put("coreVoltage", json!(s.nvs.core_voltage));
    put(
        "coreVoltageActual",
        json!(if mining { core_v - 6.0 } else { 0.0 }),
    );
    put("frequency", json!(s.nvs.frequency));
    put("hostname", json!(s.nvs.hostname));
    put("wifiStatus", json!("Connected!"));
    put("sharesAccepted", json!(s.shares_accepted.floor() as u64));
    put("sharesRejected", json!(s.shares_rejected));
    put("uptimeSeconds", json!(s.uptime().floor() as u64));
    put("smallCoreCount", json!(2040));
    put("ASICModel", json!("BM1370"));
    put("stratumURL", json!("pool.invalid"));
    put("stratumPort", json!(3333));
    put("stratumUser", json!(format!("sim.{name}")));
    put("version", json!(p.version()));
    put("axeOSVersion", json!(p.version()));
    put("boardVersion", json!("601"));
    put("runningPartition", json!("ota_0"));
    put("overheat_mode", json!(s.nvs.overheat_mode));
    put("rotation", json!(0));
    put("autofanspeed", json!(u8::from(s.nvs.autofanspeed)));
    put("fanspeed", json!(round7(s.fan_percent)));
    put("temptarget", json!(s.nvs.temp_target));
    put("minFanSpeed", json!(s.nvs.min_fan));
    put("fanrpm", json!((s.fan_percent * 81.0).round()));
    put("statsFrequency", json!(0));
    if p != Personality::V2_10 {
        put("manualFanSpeed", json!(s.nvs.manual_fan));
        put("errorPercentage", json!(0.1));
        put("blockFound", json!(0));
        put("fan2rpm", json!(0));
        put("hashRate_1m", json!(round7(s.hashrate_1m)));
        put("resetReason", json!("Software reset via esp_restart"));
    }
    if p.reports_actual_frequency() {
        put("actualFrequency", json!(round7(s.actual_frequency)));
    }
    if p == Personality::V2_14 {
        put(
            "miningPaused",
            json!(s.phase == crate::physics::Phase::Paused),
        );
        put("cpuUsage", json!(12.5));
        put("statsLimit", json!(720));
    }
    Value::Object(m)
}

/// `/api/system/asic` for a Gamma 601 (unchanged from v2.7 to v2.15).
pub fn asic() -> Value {
    json!({
        "ASICModel": "BM1370", "deviceModel": "Gamma", "swarmColor": "green", "asicCount": 1,
        "hashDomains": 4, "defaultFrequency": 525, "frequencyOptions": [400, 490, 525, 550, 600, 625],
        "defaultVoltage": 1150, "voltageOptions": [1000, 1060, 1100, 1150, 1200, 1250]
    })
}

/// Serialise as the personality's firmware would: tab-indented cJSON before v2.14, compact after.
pub fn render(p: Personality, v: &Value) -> String {
    if !p.pretty() {
        return v.to_string();
    }
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    if serde::Serialize::serialize(v, &mut ser).is_err() {
        return v.to_string();
    }
    String::from_utf8(out).unwrap_or_default()
}

fn si_with_space(d: f64) -> String {
    let units = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, suffix) in units {
        if d >= scale {
            return format!("{:.2} {suffix}", d / scale);
        }
    }
    format!("{d:.2}")
}

/// Why a PATCH was refused, with the firmware's own reply text.
#[derive(Debug, PartialEq)]
pub enum PatchError {
    InvalidJson,
    WrongInput,
    TooLong,
}

impl PatchError {
    pub fn reply(&self) -> (u16, &'static str) {
        match self {
            PatchError::InvalidJson => (400, "Invalid JSON"),
            PatchError::WrongInput => (400, "Wrong API input"),
            PatchError::TooLong => (500, "content too long"),
        }
    }
}

/// Apply a PATCH body as the personality's firmware would (§3.1): v2.11+ validates every known key
/// first and saves nothing if one fails; older firmware skips bad keys and stores the rest.
pub fn patch(s: &mut MinerState, body: &[u8]) -> Result<(), PatchError> {
    if body.len() >= 10240 {
        return Err(PatchError::TooLong);
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| PatchError::InvalidJson)?;
    let o = v.as_object().ok_or(PatchError::InvalidJson)?;
    let in_range = |k: &str, lo: f64, hi: f64| -> Option<Result<f64, ()>> {
        o.get(k)
            .map(|v| v.as_f64().filter(|f| (lo..=hi).contains(f)).ok_or(()))
    };
    let flag = |k: &str| -> Option<Result<bool, ()>> {
        o.get(k).map(|v| match v {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) if n.as_f64() == Some(0.0) || n.as_f64() == Some(1.0) => {
                Ok(n.as_f64() == Some(1.0))
            }
            _ => Err(()),
        })
    };
    let voltage = in_range("coreVoltage", 1.0, 65535.0);
    let frequency = in_range("frequency", 1.0, 65535.0);
    let overheat = in_range("overheat_mode", 0.0, 0.0);
    let auto_fan = flag("autofanspeed");
    let fan_key = if s.personality.validates_patch() {
        "manualFanSpeed"
    } else {
        "fanspeed"
    };
    let manual_fan = in_range(fan_key, 0.0, 100.0);
    let temp_target = in_range("temptarget", 35.0, 66.0);
    let hostname = o.get("hostname").map(|h| {
        h.as_str()
            .filter(|t| (1..=32).contains(&t.len()))
            .map(str::to_string)
            .ok_or(())
    });
    if s.personality.validates_patch() {
        let any_bad = [&voltage, &frequency, &overheat, &manual_fan, &temp_target]
            .iter()
            .any(|r| matches!(r, Some(Err(()))))
            || matches!(auto_fan, Some(Err(())))
            || matches!(hostname, Some(Err(())));
        if any_bad {
            return Err(PatchError::WrongInput);
        }
    } else if o.contains_key("overheat_mode") {
        // Before v2.11 any value of overheat_mode writes 0.
        s.nvs.overheat_mode = 0;
    }
    if let Some(Ok(v)) = voltage {
        s.nvs.core_voltage = v as u32;
    }
    if let Some(Ok(f)) = frequency {
        s.nvs.frequency = f;
    }
    if let Some(Ok(_)) = overheat {
        s.nvs.overheat_mode = 0;
    }
    if let Some(Ok(a)) = auto_fan {
        s.nvs.autofanspeed = a;
    }
    if let Some(Ok(m)) = manual_fan {
        s.nvs.manual_fan = m;
    }
    if let Some(Ok(t)) = temp_target {
        s.nvs.temp_target = t;
    }
    if let Some(Ok(h)) = hostname {
        s.nvs.hostname = h;
    }
    Ok(())
}

/// Hashrate the miner should report at `frequency` MHz, for tests that check plausibility.
pub fn expected_at(frequency: f64) -> f64 {
    frequency * GHS_PER_MHZ
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(p: Personality) -> MinerState {
        MinerState::new(p, 25.0)
    }

    #[test]
    fn v2_11_plus_saves_nothing_when_one_key_is_wrong() {
        let mut s = state(Personality::V2_12);
        let r = patch(&mut s, br#"{"coreVoltage": 1200, "frequency": "600"}"#);
        assert_eq!(r, Err(PatchError::WrongInput));
        assert_eq!(s.nvs.core_voltage, 1150);
        let r = patch(&mut s, br#"{"overheat_mode": 1}"#);
        assert_eq!(r, Err(PatchError::WrongInput));
    }

    #[test]
    fn unknown_keys_are_ignored_and_known_ones_saved() {
        let mut s = state(Personality::V2_14);
        assert_eq!(
            patch(
                &mut s,
                br#"{"coreVoltage": 1200, "frequency": 600, "bogus": 1}"#
            ),
            Ok(())
        );
        assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1200, 600.0));
    }

    #[test]
    fn old_firmware_stores_what_it_can() {
        let mut s = state(Personality::V2_10);
        assert_eq!(
            patch(&mut s, br#"{"coreVoltage": 1250, "frequency": "x"}"#),
            Ok(())
        );
        assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1250, 525.0));
    }

    #[test]
    fn bad_bodies() {
        let mut s = state(Personality::V2_14);
        assert_eq!(patch(&mut s, b"{nope"), Err(PatchError::InvalidJson));
        assert_eq!(patch(&mut s, &vec![b' '; 10240]), Err(PatchError::TooLong));
    }

    #[test]
    fn personalities_render_their_key_sets() {
        let old = info(&state(Personality::V2_10), "a");
        assert!(old["bestDiff"].is_string());
        assert!(old.get("actualFrequency").is_none());
        let new = info(&state(Personality::V2_14), "a");
        assert!(new["bestDiff"].is_number());
        assert!(new.get("actualFrequency").is_some());
        assert!(render(Personality::V2_12, &new).contains("\n\t\""));
        assert!(!render(Personality::V2_14, &new).contains('\n'));
    }
}
