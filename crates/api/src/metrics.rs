//! `GET /metrics`: the fleet in Prometheus (OpenMetrics) text, built from the engine's status
//! board at each scrape. Base units throughout: hashes per second, watts, celsius, volts, hertz.
//! Per miner (labels `name`, `mac`, `model`): `bitaxe_hashrate_hashes_per_second`,
//! `bitaxe_power_watts`, `bitaxe_temperature_celsius`, `bitaxe_vr_temperature_celsius`,
//! `bitaxe_core_voltage_volts`, `bitaxe_frequency_hertz`, `bitaxe_energy_joules_total` (from
//! the history's integrated energy), `bitaxe_shares_accepted_total`,
//! `bitaxe_shares_rejected_total`, `bitaxe_up`, `bitaxe_throttled`, `bitaxe_state{state}` (1 for
//! the current state, 0 for the others), `bitaxe_profile{profile}` (1 for the profile it is meant
//! to run). Fleet: `bitaxe_fleet_hashrate_hashes_per_second`,
//! `bitaxe_fleet_power_watts`, `bitaxe_fleet_miners_online`, `bitaxe_fleet_miners`,
//! `bitaxe_fleet_paused`, `bitaxe_fleet_emergency`, `bitaxe_fleet_energy_joules_total`. The
//! engine: `bitaxe_poll_duration_seconds` (histogram of every poll of every miner).

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

use bitaxe_core::engine::meters::PollSnapshot;
use bitaxe_core::events::MinerState;
use bitaxe_core::status::FleetStatus;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::state::Shared;

type Labels = Vec<(&'static str, String)>;
type GaugeF = Gauge<f64, AtomicU64>;
type CounterF = Counter<f64, AtomicU64>;

/// The engine's poll durations as a histogram (the engine counts per bucket; this only encodes).
#[derive(Debug)]
struct PollHistogram(PollSnapshot);

impl EncodeMetric for PollHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        // The encoder writes `+Inf` for `f64::MAX` (its own histograms' last bound).
        let buckets: Vec<(f64, u64)> = self
            .0
            .buckets
            .iter()
            .map(|&(b, n)| (if b.is_infinite() { f64::MAX } else { b }, n))
            .collect();
        encoder.encode_histogram::<()>(self.0.sum, self.0.count, &buckets, None)
    }

    fn metric_type(&self) -> prometheus_client::metrics::MetricType {
        prometheus_client::metrics::MetricType::Histogram
    }
}

/// What a scrape shows besides the status board.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Joules per miner name since the history began.
    pub energy: BTreeMap<String, f64>,
    pub polls: Option<PollSnapshot>,
}

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

/// The text exposition of `status` and `measured`.
pub fn render(status: &FleetStatus, measured: &Measured) -> Result<String, std::fmt::Error> {
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
    let energy = Family::<Labels, CounterF>::default();
    f.registry.register_with_unit(
        "energy",
        "Energy used, integrated from the power samples the history keeps",
        Unit::Joules,
        energy.clone(),
    );
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
        if let Some(j) = measured.energy.get(&m.name).filter(|j| j.is_finite()) {
            energy.get_or_create(&labels).inc_by(*j);
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
    let fleet_energy = CounterF::default();
    fleet_energy.inc_by(
        status
            .miners
            .iter()
            .filter_map(|m| measured.energy.get(&m.name))
            .filter(|j| j.is_finite())
            .sum::<f64>(),
    );
    f.registry.register_with_unit(
        "fleet_energy",
        "Energy used by the configured miners",
        Unit::Joules,
        fleet_energy,
    );
    if let Some(p) = &measured.polls {
        f.registry.register_with_unit(
            "poll_duration",
            "How long each poll of a miner took",
            Unit::Seconds,
            PollHistogram(p.clone()),
        );
    }
    let mut out = String::new();
    encode(&mut out, &f.registry)?;
    Ok(out)
}

/// Read what the engine measured: the energy counters block on SQLite, so off the async threads.
/// A history that cannot be read leaves the energy out of this scrape (logged), not the rest.
pub async fn measured(engine: &bitaxe_core::EngineHandle) -> Measured {
    let e = engine.clone();
    let energy = match tokio::task::spawn_blocking(move || e.energy_totals()).await {
        Ok(Ok(m)) => m,
        Ok(Err(err)) => {
            tracing::warn!("/metrics: energy not read: {err}");
            BTreeMap::new()
        }
        Err(_) => BTreeMap::new(),
    };
    Measured {
        energy,
        polls: Some(engine.poll_durations()),
    }
}

/// The same exposition in the older Prometheus text format (0.0.4), for clients that ask for
/// `text/plain` only (`curl -H 'Accept: text/plain'`, `promtool check metrics`): a counter's
/// HELP and TYPE name the `_total` series, and there are no UNIT lines nor `# EOF`.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Whether the client asked for the Prometheus text format rather than OpenMetrics.
fn wants_plain_text(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("text/plain") && !accept.contains("application/openmetrics-text")
}

pub async fn metrics(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let m = measured(&s.engine).await;
    match render(&s.engine.status(), &m) {
        Ok(text) if wants_plain_text(&headers) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            to_prometheus_text(&text),
        )
            .into_response(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_format_names_counters_by_their_series() {
        let om = "# HELP a_total_ish x.\n# TYPE a counter\n# HELP a Shares.\n# UNIT g celsius\n\
                  a_total 3\n# TYPE g gauge\ng 1.0\n# EOF\n";
        let t = to_prometheus_text(om);
        assert!(t.contains("# TYPE a_total counter\n"), "{t}");
        assert!(t.contains("# HELP a_total Shares.\n"), "{t}");
        assert!(t.contains("# TYPE g gauge\n"), "{t}");
        assert!(!t.contains("# UNIT") && !t.contains("# EOF"), "{t}");
        assert!(t.contains("a_total 3\n"));
    }
}
