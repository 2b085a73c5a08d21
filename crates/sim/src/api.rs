//! What the simulated miner says over HTTP: `/info` in each personality's key set, PATCH validation.

use serde_json::{json, Map, Value};

use crate::physics::{MinerState, Personality, Phase, GHS_PER_MHZ};

/// The `/api/system/info` object for this miner's personality: the key set of its release (§4.2
/// of the reference), in the firmware's order, without the keys that only appear once a pool job
/// or the hashrate monitor exists.
pub fn info(s: &MinerState, name: &str) -> Value {
    let p = s.personality;
    let since = |minor: u32| p.since(2, minor);
    let mining = s.mining();
    let round7 = |v: f64| (v * 1e7).round() / 1e7;
    let core_v = s.applied_voltage;
    let current_ma = if mining && core_v > 0.0 {
        s.core_power() / (core_v / 1000.0) * 1000.0
    } else {
        0.0
    };
    let diff = |d: f64| -> Value {
        if since(11) {
            json!(d.round())
        } else {
            json!(difficulty_text(p, d))
        }
    };
    // v2.9–v2.13 send these flags as 0/1, v2.14+ as booleans.
    let flag = |b: bool| -> Value {
        if since(14) {
            json!(b)
        } else {
            json!(u8::from(b))
        }
    };
    let overheat_shown = match s.phase {
        Phase::Overheat { .. } if s.faults.hide_overheat_flag => 0,
        _ => s.nvs.overheat_mode,
    };
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("power", json!(round7(s.power())));
    put("voltage", json!(5093.75));
    put("current", json!(round7(current_ma)));
    put("temp", json!(if mining { round7(s.temp) } else { -1.0 }));
    if since(10) {
        put("temp2", json!(if since(11) { -1 } else { 0 }));
    }
    put("vrTemp", json!(s.vr_temp.round()));
    if since(6) {
        put("maxPower", json!(40));
        put("nominalVoltage", json!(5));
    }
    put("hashRate", json!(round7(s.hashrate)));
    if since(12) {
        put("hashRate_1m", json!(round7(s.hashrate_1m)));
        put("hashRate_10m", json!(round7(s.hashrate_1m)));
        put("hashRate_1h", json!(round7(s.hashrate_1m)));
    }
    if since(8) {
        put("expectedHashrate", json!(s.expected_hashrate().round()));
    }
    if since(11) {
        put("errorPercentage", json!(0.1));
    }
    put("bestDiff", diff(s.best_diff));
    put("bestSessionDiff", diff(s.best_session_diff));
    if since(9) {
        put("poolDifficulty", json!(1000));
    } else {
        put("stratumDiff", json!(1000));
    }
    put("isUsingFallbackStratum", json!(0));
    if since(11) && !since(13) {
        put("poolAddrFamily", json!(2));
    }
    if since(13) {
        put("poolConnectionInfo", json!("IPv4"));
    }
    if since(6) {
        put("isPSRAMAvailable", json!(1));
    }
    put("freeHeap", json!(8_212_708));
    if since(11) {
        put("freeHeapInternal", json!(104_027));
        put("freeHeapSpiram", json!(8_140_652));
    }
    put("coreVoltage", json!(s.nvs.core_voltage));
    put(
        "coreVoltageActual",
        json!(if mining { core_v - 6.0 } else { 0.0 }),
    );
    put("frequency", json!(s.nvs.frequency));
    if p.reports_actual_frequency() {
        put("actualFrequency", json!(round7(s.actual_frequency)));
    }
    put("ssid", json!("sim-wifi"));
    put("macAddr", json!(mac_address(s, name)));
    put("hostname", json!(s.nvs.hostname));
    if since(11) {
        put("ipv4", json!("127.0.0.1"));
        put("ipv6", json!("FE80::1"));
    }
    put("wifiStatus", json!("Connected!"));
    if since(6) {
        put("wifiRSSI", json!(-44));
        put("apEnabled", json!(0));
    }
    put("sharesAccepted", json!(s.shares_accepted.floor() as u64));
    put("sharesRejected", json!(s.shares_rejected));
    if since(6) {
        put("sharesRejectedReasons", json!([]));
    }
    put("uptimeSeconds", json!(s.uptime().floor() as u64));
    put("smallCoreCount", json!(2040));
    if !since(9) {
        put("asicCount", json!(1));
    }
    put("ASICModel", json!("BM1370"));
    put("stratumURL", json!("pool.invalid"));
    put("stratumPort", json!(3333));
    put("stratumUser", json!(format!("sim.{name}")));
    put("fallbackStratumURL", json!("fallback.pool.invalid"));
    put("fallbackStratumPort", json!(3334));
    put("fallbackStratumUser", json!(format!("sim.{name}")));
    if since(9) {
        for prefix in ["stratum", "fallbackStratum"] {
            put(&format!("{prefix}SuggestedDifficulty"), json!(1000));
            put(&format!("{prefix}ExtranonceSubscribe"), flag(false));
            if since(13) {
                put(&format!("{prefix}TLS"), json!(0));
                put(&format!("{prefix}Cert"), json!(""));
                put(&format!("{prefix}DecodeCoinbase"), flag(true));
            }
            if since(14) {
                put(&format!("{prefix}Protocol"), json!(0));
                put(&format!("{prefix}V2AuthorityPubkey"), json!(""));
                put(&format!("{prefix}V2ChannelType"), json!(0));
            }
        }
        put("responseTime", json!(22.5));
    }
    if since(14) {
        put("responseShareBatch", json!(0));
        put("processTime", json!(0));
    }
    put("version", json!(p.version()));
    if since(9) {
        put("axeOSVersion", json!(p.version()));
    }
    if since(5) {
        put("idfVersion", json!("v5.5.1"));
    }
    put("boardVersion", json!("601"));
    if since(12) {
        put("resetReason", json!("Software reset via esp_restart"));
    }
    put("runningPartition", json!("ota_0"));
    put("overheat_mode", json!(overheat_shown));
    if since(6) {
        put("overclockEnabled", json!(0));
    }
    if since(8) {
        put("display", json!("SSD1306 (128x32)"));
    }
    if since(9) {
        put("rotation", json!(0));
    } else {
        put("flipscreen", json!(0));
    }
    put("invertscreen", json!(0));
    if since(7) {
        put("displayTimeout", json!(-1));
    } else {
        put("invertfanpolarity", json!(1));
    }
    put("autofanspeed", json!(u8::from(s.nvs.autofanspeed)));
    put("fanspeed", json!(round7(s.fan_percent)));
    if since(11) {
        put("manualFanSpeed", json!(s.nvs.manual_fan));
    }
    if since(10) {
        put("minFanSpeed", json!(s.nvs.min_fan));
    }
    if since(7) {
        put("temptarget", json!(s.nvs.temp_target));
    }
    put("fanrpm", json!((s.fan_percent * 81.0).round()));
    if since(11) {
        put("fan2rpm", json!(0));
    }
    if since(9) {
        put("statsFrequency", json!(0));
    }
    if since(11) {
        put("blockFound", json!(0));
    }
    if since(13) {
        put("showNewBlock", json!(false));
    }
    if since(14) {
        put("miningPaused", json!(s.phase == Phase::Paused));
        put("cpuUsage", json!(12.5));
        put("statsLimit", json!(720));
    }
    Value::Object(m)
}

/// `macAddr`: the one set on the state, else one derived from the name (stable across runs, a
/// locally administered unicast address so it can never be a real vendor's).
pub fn mac_address(s: &MinerState, name: &str) -> String {
    if let Some(mac) = &s.mac {
        return mac.clone();
    }
    // FNV-1a, 64 bit.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    format!(
        "02:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
        b[3], b[4], b[5], b[6], b[7]
    )
}

/// The page AxeOS serves at `/` (the Angular app's shell); third-party tools detect AxeOS by its
/// `<title>`.
pub fn index_html() -> &'static str {
    concat!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n",
        "  <title>AxeOS</title>\n  <base href=\"/\">\n",
        "  <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "</head>\n<body>\n  <app-root></app-root>\n</body>\n</html>\n"
    )
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

/// A difficulty as text, as firmware before v2.11 printed it: `"2.03 G"` (v2.10, a space before
/// the suffix), `"4.29G"` (v2.9, two decimals), `"4.29G"`/`"13M"` (up to v2.8, three significant
/// digits like `%.3g`).
pub fn difficulty_text(p: Personality, d: f64) -> String {
    let units = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    let (scaled, suffix) = units
        .iter()
        .find(|(scale, _)| d >= *scale)
        .map_or((d, ""), |(scale, suffix)| (d / scale, *suffix));
    if p.since(2, 10) {
        if suffix.is_empty() {
            format!("{scaled:.2}")
        } else {
            format!("{scaled:.2} {suffix}")
        }
    } else if p.since(2, 9) {
        format!("{scaled:.2}{suffix}")
    } else {
        format!("{}{suffix}", three_significant(scaled))
    }
}

/// `%.3g` for values from 0 to 999.9: three significant digits, trailing zeros dropped.
fn three_significant(v: f64) -> String {
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
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
/// first and saves nothing if one fails; older firmware skips bad keys and stores the rest. Keys
/// match case-insensitively, as cJSON's lookup does (`"CoreVoltage"` works).
pub fn patch(s: &mut MinerState, body: &[u8]) -> Result<(), PatchError> {
    if body.len() >= 10240 {
        return Err(PatchError::TooLong);
    }
    if s.faults.ignore_patch {
        return Ok(());
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| PatchError::InvalidJson)?;
    let o = v.as_object().ok_or(PatchError::InvalidJson)?;
    let p = s.personality;
    let get = |k: &str| {
        o.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    };
    let in_range = |k: &str, lo: f64, hi: f64| -> Option<Result<f64, ()>> {
        get(k).map(|v| v.as_f64().filter(|f| (lo..=hi).contains(f)).ok_or(()))
    };
    let flag = |k: &str| -> Option<Result<bool, ()>> {
        get(k).map(|v| match v {
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
    let fan_key = if p.validates_patch() {
        "manualFanSpeed"
    } else {
        "fanspeed"
    };
    let manual_fan = in_range(fan_key, 0.0, 100.0);
    let temp_target = if p.since(2, 7) {
        in_range("temptarget", 35.0, 66.0)
    } else {
        None
    };
    let hostname = get("hostname").map(|h| {
        h.as_str()
            .filter(|t| (1..=32).contains(&t.len()))
            .map(str::to_string)
            .ok_or(())
    });
    if p.validates_patch() {
        let any_bad = [&voltage, &frequency, &overheat, &manual_fan, &temp_target]
            .iter()
            .any(|r| matches!(r, Some(Err(()))))
            || matches!(auto_fan, Some(Err(())))
            || matches!(hostname, Some(Err(())));
        if any_bad {
            return Err(PatchError::WrongInput);
        }
    } else if get("overheat_mode").is_some() {
        // Before v2.11 any value of overheat_mode writes 0.
        s.nvs.overheat_mode = 0;
    }
    // Before v2.10 the frequency is stored as an integer (cJSON `valueint`).
    let truncate = !p.float_frequency() || s.faults.truncate_frequency;
    let frequency = frequency.map(|r| r.map(|f| if truncate { f.trunc() } else { f }));
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

    fn keys(v: &Value) -> std::collections::BTreeSet<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The key sets match the real captures, less the keys that only appear once a pool job or
    /// the hashrate monitor exists.
    #[test]
    fn key_sets_match_the_real_captures() {
        let conditional = [
            "blockHeight",
            "scriptsig",
            "networkDifficulty",
            "hashrateMonitor",
        ];
        for (p, capture) in [
            (
                Personality::V2_10,
                include_str!("../../axeos/tests/fixtures/info-v2.10.1-gamma601.json"),
            ),
            (
                Personality::V2_12,
                include_str!("../../axeos/tests/fixtures/info-v2.12.2-gamma601.json"),
            ),
        ] {
            let real: Value = serde_json::from_str(capture).unwrap_or_default();
            let mut want = keys(&real);
            want.retain(|k| !conditional.contains(&k.as_str()));
            let got = keys(&info(&state(p), "a"));
            assert_eq!(got, want, "{p:?}");
            for k in [
                "bestDiff",
                "temp2",
                "stratumExtranonceSubscribe",
                "coreVoltage",
            ] {
                assert_eq!(
                    std::mem::discriminant(&info(&state(p), "a")[k]),
                    std::mem::discriminant(&real[k]),
                    "{p:?} {k}"
                );
            }
        }
    }

    #[test]
    fn newer_and_older_key_sets() {
        let v14 = keys(&info(&state(Personality::V2_14), "a"));
        for k in [
            "actualFrequency",
            "miningPaused",
            "poolConnectionInfo",
            "stratumTLS",
        ] {
            assert!(v14.contains(k), "{k}");
        }
        assert!(!v14.contains("poolAddrFamily"));
        let v6 = info(&state(Personality::V2_6), "a");
        for k in [
            "stratumDiff",
            "flipscreen",
            "asicCount",
            "invertfanpolarity",
            "macAddr",
        ] {
            assert!(v6.get(k).is_some(), "{k}");
        }
        for k in [
            "poolDifficulty",
            "rotation",
            "temptarget",
            "expectedHashrate",
            "actualFrequency",
        ] {
            assert!(v6.get(k).is_none(), "{k}");
        }
        assert_eq!(v6["bestDiff"], "49.2M");
        for p in [Personality::V2_6, Personality::V2_10, Personality::V2_14] {
            let v = info(&state(p), "a");
            assert_eq!(v["isUsingFallbackStratum"], 0);
            assert_eq!(v["fallbackStratumPort"], 3334);
            assert!(v["fallbackStratumURL"].is_string() && v["fallbackStratumUser"].is_string());
        }
    }

    #[test]
    fn difficulty_text_per_release() {
        assert_eq!(difficulty_text(Personality::V2_10, 2.03e9), "2.03 G");
        assert_eq!(difficulty_text(Personality::V2_6, 4.29e9), "4.29G");
        assert_eq!(difficulty_text(Personality::V2_6, 13e6), "13M");
        assert_eq!(difficulty_text(Personality::V2_6, 138.17e6), "138M");
        assert_eq!(difficulty_text(Personality::V2_6, 512.0), "512");
    }

    #[test]
    fn mac_is_stable_per_name_and_can_be_set() {
        let s = state(Personality::V2_14);
        let a = mac_address(&s, "sim-1");
        assert_eq!(a, mac_address(&s, "sim-1"));
        assert_ne!(a, mac_address(&s, "sim-2"));
        assert_eq!(a.len(), 17);
        assert!(a.starts_with("02:"));
        let set = MinerState {
            mac: Some("AA:BB:CC:DD:EE:FF".into()),
            ..state(Personality::V2_14)
        };
        assert_eq!(info(&set, "sim-1")["macAddr"], "AA:BB:CC:DD:EE:FF");
    }

    #[test]
    fn keys_match_case_insensitively_like_cjson() {
        for p in [Personality::V2_6, Personality::V2_12, Personality::V2_14] {
            let mut s = state(p);
            assert_eq!(
                patch(&mut s, br#"{"CoreVoltage": 1200, "FREQUENCY": 600}"#),
                Ok(())
            );
            assert_eq!(
                (s.nvs.core_voltage, s.nvs.frequency),
                (1200, 600.0),
                "{p:?}"
            );
        }
    }

    #[test]
    fn frequency_is_truncated_before_v2_10_or_with_the_fault() {
        let mut s = state(Personality::V2_6);
        assert_eq!(patch(&mut s, br#"{"frequency": 531.25}"#), Ok(()));
        assert_eq!(s.nvs.frequency, 531.0);
        let mut s = state(Personality::V2_14);
        assert_eq!(patch(&mut s, br#"{"frequency": 531.25}"#), Ok(()));
        assert_eq!(s.nvs.frequency, 531.25);
        s.faults.truncate_frequency = true;
        assert_eq!(patch(&mut s, br#"{"frequency": 543.75}"#), Ok(()));
        assert_eq!(s.nvs.frequency, 543.0);
    }

    #[test]
    fn ignore_patch_answers_ok_and_stores_nothing() {
        let mut s = state(Personality::V2_14);
        s.faults.ignore_patch = true;
        assert_eq!(
            patch(&mut s, br#"{"coreVoltage": 1200, "frequency": 600}"#),
            Ok(())
        );
        assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1150, 525.0));
    }

    #[test]
    fn hide_overheat_flag_keeps_overheat_mode_at_zero_during_recovery() {
        let mut s = state(Personality::V2_14);
        s.nvs.overheat_mode = 1;
        s.phase = crate::physics::Phase::Overheat { since: 0.0 };
        assert_eq!(info(&s, "a")["overheat_mode"], 1);
        s.faults.hide_overheat_flag = true;
        assert_eq!(info(&s, "a")["overheat_mode"], 0);
    }
}
