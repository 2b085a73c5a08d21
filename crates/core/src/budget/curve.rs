//! What a miner draws on each profile: the median of its own measured samples on that profile
//! (AxeOS `power` on a Gamma is itself an estimate, Vout·Iout + 5 W, so expect 5–20 % error
//! against a wall meter), and its J/TH there. Before a profile has been measured, the draw is
//! estimated from voltage² × frequency, scaled on the miner's current reading.

use std::collections::{HashMap, VecDeque};

use crate::safety::Settings;

/// Draw with the ASIC core off (paused, or the fixed offset the Gamma adds), W.
pub const IDLE_WATTS: f64 = 5.0;
/// Core watts per MHz·V² of a Gamma 601 (13.8 W of core power at 525 MHz and 1.15 V, from a
/// real capture of 18.8 W in total).
pub const CORE_WATTS_PER_MHZ_V2: f64 = 13.8 / (525.0 * 1.15 * 1.15);
/// Expected hashrate per MHz of a Gamma 601 (2040 small cores, one ASIC), GH/s.
pub const GHS_PER_MHZ: f64 = 2.04;
/// Samples kept per profile.
const KEPT: usize = 60;

fn v2f(s: Settings) -> f64 {
    let v = f64::from(s.voltage) / 1000.0;
    v * v * s.frequency.max(0.0)
}

/// Expected draw on `target`, W: the idle floor plus the core power of `reading` (settings and
/// measured watts while mining) scaled by voltage² × frequency; without a usable reading, the
/// Gamma's nominal curve.
pub fn estimate_watts(reading: Option<(Settings, f64)>, target: Settings) -> f64 {
    let per_unit = reading
        .filter(|(s, w)| v2f(*s) > 0.0 && w.is_finite() && *w > IDLE_WATTS + 0.5)
        .map(|(s, w)| (w - IDLE_WATTS) / v2f(s))
        .unwrap_or(CORE_WATTS_PER_MHZ_V2);
    IDLE_WATTS + per_unit * v2f(target)
}

/// Estimated J/TH for `watts` at `frequency` MHz (expected hashrate), or infinity at 0 MHz.
pub fn estimate_jth(watts: f64, frequency: f64) -> f64 {
    let ths = frequency * GHS_PER_MHZ / 1000.0;
    if ths > 0.0 {
        watts / ths
    } else {
        f64::INFINITY
    }
}

/// One miner's measured draw and hashrate per profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PowerCurve {
    samples: HashMap<String, VecDeque<(f64, f64)>>,
}

impl PowerCurve {
    /// A steady reading on `profile`: `watts`, `hashrate` in GH/s.
    pub fn record(&mut self, profile: &str, watts: f64, hashrate: f64) {
        if !watts.is_finite() || watts <= 0.0 || !hashrate.is_finite() {
            return;
        }
        let q = self.samples.entry(profile.to_string()).or_default();
        if q.len() == KEPT {
            q.pop_front();
        }
        q.push_back((watts, hashrate.max(0.0)));
    }

    /// Median measured draw on `profile`, W.
    pub fn watts(&self, profile: &str) -> Option<f64> {
        median(self.samples.get(profile)?.iter().map(|(w, _)| *w))
    }

    /// Median measured J/TH on `profile` (samples with a hashrate only).
    pub fn jth(&self, profile: &str) -> Option<f64> {
        median(
            self.samples
                .get(profile)?
                .iter()
                .filter(|(_, h)| *h > 0.0)
                .map(|(w, h)| w / (h / 1000.0)),
        )
    }
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nominal_curve_matches_the_capture() {
        let w = estimate_watts(None, Settings::new(1150, 525.0));
        assert!((w - 18.8).abs() < 0.01, "{w}");
    }

    #[test]
    fn an_estimate_scales_the_miners_own_reading() {
        // This miner draws 10 % more core power than nominal.
        let reading = (Settings::new(1150, 525.0), IDLE_WATTS + 13.8 * 1.1);
        let w = estimate_watts(Some(reading), Settings::new(1200, 600.0));
        let nominal = estimate_watts(None, Settings::new(1200, 600.0));
        assert!(((w - IDLE_WATTS) / (nominal - IDLE_WATTS) - 1.1).abs() < 1e-9);
        // A paused reading (core off) says nothing about the curve.
        let paused = (Settings::new(1150, 525.0), IDLE_WATTS);
        assert_eq!(
            estimate_watts(Some(paused), Settings::new(1200, 600.0)),
            nominal
        );
    }

    #[test]
    fn medians_per_profile_ignore_outliers() {
        let mut c = PowerCurve::default();
        for w in [18.0, 18.5, 40.0, 18.2, 0.0] {
            c.record("day", w, 1070.0);
        }
        assert_eq!(c.watts("day"), Some(18.35));
        assert_eq!(c.watts("night"), None);
        let jth = c.jth("day").unwrap_or_default();
        assert!((jth - 18.35 / 1.07).abs() < 1e-9, "{jth}");
        for i in 0..200 {
            c.record("night", 20.0 + f64::from(i % 3), 0.0);
        }
        assert_eq!(c.watts("night"), Some(21.0));
        assert_eq!(c.jth("night"), None, "no hashrate, no J/TH");
    }
}
