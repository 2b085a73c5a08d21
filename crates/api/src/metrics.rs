//! `GET /metrics`: the fleet in Prometheus (OpenMetrics) text, built from the engine's status
//! board at each scrape. Base units throughout: hashes per second, watts, celsius, volts, hertz.
//! Per miner (labels `name`, `mac`, `model`): `bitaxe_hashrate_hashes_per_second`,
//! `bitaxe_power_watts`, `bitaxe_temperature_celsius`, `bitaxe_vr_temperature_celsius`,
//! `bitaxe_core_voltage_volts`, `bitaxe_frequency_hertz`, `bitaxe_shares_accepted_total`,
//! `bitaxe_shares_rejected_total`, `bitaxe_up`, `bitaxe_throttled`, `bitaxe_state{state}` (1 for
//! the current state, 0 for the others), `bitaxe_profile{profile}` (1 for the profile it is meant
//! to run). Fleet: `bitaxe_fleet_hashrate_hashes_per_second`,
//! `bitaxe_fleet_power_watts`, `bitaxe_fleet_miners_online`, `bitaxe_fleet_miners`,
//! `bitaxe_fleet_paused`, `bitaxe_fleet_emergency`.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bitaxe_core::events::MinerState;
use bitaxe_core::status::FleetStatus;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::state::Shared;

type Labels = Vec<(&'static str, String)>;
type GaugeF = Gauge<f64, AtomicU64>;

const STATES: [MinerState; 8] = [
    MinerState::Unknown,
    MinerState::Online,
    MinerState::Offline,
    MinerState::Transitioning,
    MinerState::Throttled,
    MinerState::Stalled,
    MinerState::Overheated,
    MinerState::Disabled,
];

struct Families {
    registry: Registry,
}

impl Families {
    fn gauge(&mut self, name: &str, help: &str, unit: Option<Unit>) -> Family<Labels, GaugeF> {
        let f = Family::<Labels, GaugeF>::default();
        match unit {
            Some(u) => self.registry.register_with_unit(name, help, u, f.clone()),
            None => self.registry.register(name, help, f.clone()),
        }
        f
    }

    fn counter(&mut self, name: &str, help: &str) -> Family<Labels, Counter> {
        let f = Family::<Labels, Counter>::default();
        self.registry.register(name, help, f.clone());
        f
    }

    fn one(&mut self, name: &str, help: &str, unit: Option<Unit>, v: f64) {
        let g = GaugeF::default();
        g.set(v);
        match unit {
            Some(u) => self.registry.register_with_unit(name, help, u, g),
            None => self.registry.register(name, help, g),
        }
    }
}

fn other(s: &str) -> Option<Unit> {
    Some(Unit::Other(s.to_string()))
}

/// The text exposition of `status`.
pub fn render(status: &FleetStatus) -> Result<String, std::fmt::Error> {
    let mut f = Families {
        registry: Registry::with_prefix("bitaxe"),
    };
    let hashrate = f.gauge(
        "hashrate",
        "Hashrate reported by the miner",
        other("hashes_per_second"),
    );
    let power = f.gauge("power", "Power drawn by the miner", other("watts"));
    let temp = f.gauge("temperature", "ASIC temperature", Some(Unit::Celsius));
    let vr_temp = f.gauge(
        "vr_temperature",
        "Voltage regulator temperature",
        Some(Unit::Celsius),
    );
    let voltage = f.gauge("core_voltage", "ASIC core voltage set", Some(Unit::Volts));
    let frequency = f.gauge("frequency", "ASIC frequency set", other("hertz"));
    let accepted = f.counter("shares_accepted", "Shares accepted since the miner booted");
    let rejected = f.counter("shares_rejected", "Shares rejected since the miner booted");
    let up = f.gauge("up", "1 if the miner answered its last poll", None);
    let throttled = f.gauge(
        "throttled",
        "1 if held below its schedule for heat or power",
        None,
    );
    let state = f.gauge("state", "1 for the miner's current state", None);
    let profile = f.gauge(
        "profile",
        "1 for the profile the miner is meant to run",
        None,
    );
    for m in &status.miners {
        let info = m.info.as_ref();
        let model = info
            .and_then(|i| i.device_model.clone().or_else(|| i.asic_model.clone()))
            .unwrap_or_default();
        let labels: Labels = vec![
            ("name", m.name.clone()),
            (
                "mac",
                info.and_then(|i| i.mac_addr.clone()).unwrap_or_default(),
            ),
            ("model", model),
        ];
        for s in STATES {
            let mut l = labels.clone();
            l.push(("state", s.label().to_ascii_lowercase()));
            state
                .get_or_create(&l)
                .set(if s == m.state { 1.0 } else { 0.0 });
        }
        if let Some(t) = &m.target {
            let mut l = labels.clone();
            l.push(("profile", t.profile.to_string()));
            profile.get_or_create(&l).set(1.0);
        }
        up.get_or_create(&labels)
            .set(if m.is_up() { 1.0 } else { 0.0 });
        throttled
            .get_or_create(&labels)
            .set(if m.throttle_cap.is_some() { 1.0 } else { 0.0 });
        let Some(i) = info.filter(|_| m.is_up()) else {
            continue;
        };
        let set = |fam: &Family<Labels, GaugeF>, v: Option<f64>| {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                fam.get_or_create(&labels).set(v);
            }
        };
        set(&hashrate, i.hash_rate.map(|g| g * 1e9));
        set(&power, i.power);
        set(&temp, i.temp);
        set(&vr_temp, i.vr_temp);
        set(&voltage, i.core_voltage.map(|mv| f64::from(mv) / 1000.0));
        set(&frequency, i.frequency.map(|mhz| mhz * 1e6));
        if let Some(n) = i.shares_accepted {
            accepted.get_or_create(&labels).inc_by(n);
        }
        if let Some(n) = i.shares_rejected {
            rejected.get_or_create(&labels).inc_by(n);
        }
    }
    let t = &status.totals;
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    f.one(
        "fleet_hashrate",
        "Hashrate of the miners up",
        other("hashes_per_second"),
        t.hashrate * 1e9,
    );
    f.one(
        "fleet_power",
        "Power of the miners up",
        other("watts"),
        t.power,
    );
    f.one(
        "fleet_miners_online",
        "Enabled miners that answered their last poll",
        None,
        t.online as f64,
    );
    f.one("fleet_miners", "Enabled miners", None, t.total as f64);
    f.one(
        "fleet_paused",
        "1 if schedule changes are held",
        None,
        flag(status.paused),
    );
    f.one(
        "fleet_emergency",
        "1 while an emergency stop is in force",
        None,
        flag(status.emergency),
    );
    let mut out = String::new();
    encode(&mut out, &f.registry)?;
    Ok(out)
}

pub async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    match render(&s.engine.status()) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
