//! Checks of the values: documented ranges, the envelope, names and addresses.

use super::ranges::{LIMIT_RANGES, RANGES};
use super::{key, Config, Problem, Seg};
use crate::safety::GAMMA_MAX_VOLTAGE_MV;

impl Config {
    /// Every problem with the values, each with its key path.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut bad = |path: Vec<Seg>, message: String| out.push(Problem { path, message });
        let env = self.envelope();
        let values = serde_json::to_value(self).unwrap_or_default();
        for range in RANGES {
            if let Some(msg) = values
                .get(range.key)
                .and_then(|v| v.as_f64())
                .and_then(|v| range.check(v))
            {
                bad(vec![key(range.key)], msg);
            }
        }
        for (i, m) in self.miners.iter().enumerate() {
            let Some(limits) = values.pointer(&format!("/miners/{i}/limits")) else {
                continue;
            };
            for range in LIMIT_RANGES {
                if let Some(msg) = limits
                    .get(range.key)
                    .and_then(|v| v.as_f64())
                    .and_then(|v| range.check(v))
                {
                    bad(
                        vec![key("miners"), Seg::Index(i), key("limits"), key(range.key)],
                        msg,
                    );
                }
            }
            let Some(l) = &m.limits else { continue };
            let voltage_crossed =
                matches!((l.min_voltage, l.max_voltage), (Some(lo), Some(hi)) if lo > hi);
            let frequency_crossed =
                matches!((l.min_frequency, l.max_frequency), (Some(lo), Some(hi)) if lo > hi);
            if voltage_crossed || frequency_crossed {
                let k = if voltage_crossed {
                    "max_voltage"
                } else {
                    "max_frequency"
                };
                bad(
                    vec![key("miners"), Seg::Index(i), key("limits"), key(k)],
                    "must not be below the matching minimum".into(),
                );
            }
        }
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
        let mut addresses: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        for (i, m) in self.miners.iter().enumerate() {
            let Some(address) = same_device(&m.ip) else {
                continue;
            };
            if let Some(&first) = addresses.get(&address) {
                bad(
                    vec![key("miners"), Seg::Index(i), key("ip")],
                    format!(
                        "miners {:?} (miners[{first}]) and {:?} (miners[{i}]) both have the address {address}; one device must not be driven twice",
                        self.miners[first].name, m.name
                    ),
                );
            } else {
                addresses.insert(address, i);
            }
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
        out.extend(crate::profiles::validate(self));
        out.extend(crate::schedule::validate(self));
        out.extend(self.tariff.iter().flat_map(|t| t.problems()));
        out.extend(self.alerts.iter().flat_map(|a| a.problems()));
        out.extend(super::mqtt::problems(self));
        out
    }
}

/// The address as one device sees it: normalised, host in lower case, the default port dropped.
fn same_device(ip: &str) -> Option<String> {
    let url = axeos::normalize_address(ip).ok()?.to_ascii_lowercase();
    Some(url.strip_suffix(":80").map(str::to_string).unwrap_or(url))
}
