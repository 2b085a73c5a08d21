//! The JSON state a device publishes after each poll; its keys are the ones the discovery
//! payloads' `value_template`s read. A value the miner did not report is `null` (Home Assistant
//! shows it as unknown), never left out, so no template fails.

use std::collections::BTreeMap;

use bitaxe_core::events::MinerState;
use bitaxe_core::status::{FleetStatus, MinerStatus};
use serde_json::{json, Value};

use crate::discovery::state_name;

/// Today's measured energy, kWh: per miner name and for the fleet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnergyToday {
    pub miners: BTreeMap<String, f64>,
    pub fleet: Option<f64>,
}

fn on(b: bool) -> &'static str {
    if b {
        "ON"
    } else {
        "OFF"
    }
}

/// One miner's state object.
pub fn miner(m: &MinerStatus, energy: &EnergyToday) -> Value {
    let up = m.is_up();
    let info = m.info.as_ref().filter(|_| up);
    let voltage_mv = info.and_then(|i| {
        i.core_voltage_actual
            .or(i.core_voltage.map(f64::from))
            .filter(|v| *v > 0.0)
    });
    let frequency = info.and_then(|i| i.actual_frequency.or(i.frequency));
    let hashrate = info.and_then(|i| i.hash_rate);
    let power = info.and_then(|i| i.power);
    let efficiency = match (power, hashrate) {
        (Some(p), Some(h)) => bitaxe_core::axeos::efficiency(p, h),
        _ => None,
    };
    let overheated = m.state == MinerState::Overheated
        || m.info
            .as_ref()
            .and_then(|i| i.overheat_mode)
            .unwrap_or(false);
    json!({
        "hashrate": hashrate,
        "power": power,
        // Read but without rows for this miner: nothing measured today.
        "energy": energy.miners.get(&m.name).copied().or(energy.fleet.map(|_| 0.0)),
        "temp": info.and_then(|i| i.temp),
        "vr_temp": info.and_then(|i| i.vr_temp),
        "voltage": voltage_mv.map(|mv| mv / 1000.0),
        "frequency": frequency,
        "efficiency": efficiency,
        "fan": info.and_then(|i| i.fan_percent),
        "fan_rpm": info.and_then(|i| i.fan_rpm),
        "state": state_name(m.state),
        "profile": m.target.as_ref().map(|t| t.profile.name().to_string()),
        "throttled": on(m.state == MinerState::Throttled),
        "stalled": on(m.state == MinerState::Stalled),
        "overheated": on(overheated),
        "paused": on(m.info.as_ref().and_then(|i| i.mining_paused).unwrap_or(false)),
    })
}

/// Whether the miner's own entities are available: it answered its last polls.
pub fn availability(m: &MinerStatus) -> &'static str {
    if m.is_up() {
        "online"
    } else {
        "offline"
    }
}

/// The fleet's state object.
pub fn fleet(s: &FleetStatus, energy: &EnergyToday) -> Value {
    json!({
        "hashrate": s.totals.hashrate,
        "power": s.totals.power,
        "energy": energy.fleet,
        "efficiency": s.totals.efficiency,
        "online": s.totals.online,
        "total": s.totals.total,
        "profile": s.profile.name(),
        "source": s.source,
        "paused": on(s.paused),
        "emergency": on(s.emergency),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_converted_and_missing_ones_are_null() {
        let mut m = MinerStatus::new("a", "http://127.0.0.1:1", true);
        m.state = MinerState::Throttled;
        m.info = Some(bitaxe_core::axeos::Info::from_json(json!({
            "hashRate": 1000.0,
            "power": 15.0,
            "coreVoltageActual": 1150.0,
            "frequency": 525.0,
            "temp": 61.5,
            "miningPaused": true,
        })));
        let e = EnergyToday {
            miners: [("a".to_string(), 0.25)].into(),
            fleet: Some(0.25),
        };
        let v = miner(&m, &e);
        assert_eq!(v["hashrate"], 1000.0);
        assert_eq!(v["voltage"], 1.15);
        assert_eq!(v["frequency"], 525.0);
        assert_eq!(v["efficiency"], 15.0);
        assert_eq!(v["energy"], 0.25);
        assert_eq!(v["vr_temp"], Value::Null);
        assert_eq!(v["throttled"], "ON");
        assert_eq!(v["stalled"], "OFF");
        assert_eq!(v["paused"], "ON");
        assert_eq!(v["state"], "throttled");
        assert_eq!(availability(&m), "online");
        m.state = MinerState::Offline;
        let v = miner(&m, &e);
        assert_eq!(
            v["hashrate"],
            Value::Null,
            "an offline miner's old numbers are not shown"
        );
        assert_eq!(availability(&m), "offline");
    }
}
