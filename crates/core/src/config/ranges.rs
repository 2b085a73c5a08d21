//! The documented range of every numeric key, checked on load and before every save, and
//! conversions of checked seconds to `Duration`s that cannot panic.
//!
//! A value outside its range is a config error naming the key and its line: today's engine turns
//! seconds into `Duration`s and step counts into allocations, and an absurd value (1e300 s, four
//! billion steps) must stop at the door, not in a worker.

use std::time::Duration;

/// One numeric key's accepted values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Key path in the file (`miners[].limits.max_voltage` for per-miner keys).
    pub key: &'static str,
    pub min: f64,
    pub max: f64,
    /// The maximum itself is refused (`max_temp` must stay below the firmware's 75 °C).
    pub below_max: bool,
    pub unit: &'static str,
    /// Why the bound is where it is, when it is not obvious.
    pub why: &'static str,
}

const fn r(key: &'static str, min: f64, max: f64, unit: &'static str) -> Range {
    Range {
        key,
        min,
        max,
        below_max: false,
        unit,
        why: "",
    }
}

/// The firmware stops the ASIC by itself above this die temperature (power_management_task.c).
pub const FIRMWARE_OVERHEAT_C: f64 = 75.0;
/// The firmware stops the ASIC by itself above this regulator temperature.
pub const FIRMWARE_VR_OVERHEAT_C: f64 = 105.0;
/// The longest sleep any key can ask for (one day).
pub const MAX_SECONDS: f64 = 86_400.0;

/// Every top-level numeric key. Profile voltages and frequencies are checked against the envelope
/// (`min_voltage`..`max_voltage`, `min_frequency`..`max_frequency`) instead.
pub const RANGES: &[Range] = &[
    r("max_voltage", 1000.0, 1500.0, "mV"),
    r("min_voltage", 1000.0, 1300.0, "mV"),
    r("max_frequency", 50.0, 1000.0, "MHz"),
    r("min_frequency", 50.0, 1000.0, "MHz"),
    Range {
        below_max: true,
        why: "at 75 °C the firmware's own overheat protection stops the miner (and persists \
              -100 mV/-100 MHz), so the scheduler's throttle would never act first",
        ..r("max_temp", 1.0, FIRMWARE_OVERHEAT_C, "°C")
    },
    Range {
        below_max: true,
        why: "at 105 °C the firmware stops the miner for a regulator overheat by itself",
        ..r("max_vr_temp", 1.0, FIRMWARE_VR_OVERHEAT_C, "°C")
    },
    r("max_power", 1.0, 100.0, "W"),
    r("check_interval", 0.05, MAX_SECONDS, "s"),
    r("temp_check_interval", 0.05, MAX_SECONDS, "s"),
    r("log_stats_interval", 0.05, MAX_SECONDS, "s"),
    r("transition_steps", 1.0, 50.0, "steps"),
    r("transition_delay", 0.0, 600.0, "s"),
    r("max_workers", 1.0, 1024.0, "miners"),
    r("retry_attempts", 0.0, 10.0, "retries"),
    r("retry_delay", 0.0, 300.0, "s"),
    r("temp_hysteresis", 0.0, 30.0, "°C"),
    r("restore_after", 1.0, 1000.0, "checks"),
    r("offline_after", 1.0, 1000.0, "polls"),
    r("stall_after", 1.0, 1000.0, "polls"),
    r("max_drift_fixes", 0.0, 100.0, "fixes"),
    r("history_retention_days", 1.0, 3650.0, "days"),
    r("overheat_cooloff_minutes", 0.0, 1440.0, "min"),
    r("give_up_backoff_minutes", 1.0, 1440.0, "min"),
];

/// Per-miner `limits` keys (they may describe a model other than the Gamma 601).
pub const LIMIT_RANGES: &[Range] = &[
    r("min_voltage", 500.0, 1500.0, "mV"),
    r("max_voltage", 500.0, 1500.0, "mV"),
    r("min_frequency", 1.0, 1500.0, "MHz"),
    r("max_frequency", 1.0, 1500.0, "MHz"),
];

impl Range {
    /// `None` when `value` is accepted, else a sentence for the user.
    pub fn check(&self, value: f64) -> Option<String> {
        let above = if self.below_max {
            value >= self.max
        } else {
            value > self.max
        };
        if value.is_finite() && value >= self.min && !above {
            return None;
        }
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        let bound = if self.below_max {
            format!("from {} up to (not including) {}{unit}", self.min, self.max)
        } else {
            format!("from {} to {}{unit}", self.min, self.max)
        };
        let why = if self.why.is_empty() {
            String::new()
        } else {
            format!(": {}", self.why)
        };
        Some(format!("{value} is out of range; use {bound}{why}"))
    }
}

/// Seconds from the config as a `Duration`, without ever panicking: NaN and negatives give zero,
/// anything above a day gives a day. Validated configs never hit either bound.
pub fn seconds(value: f64) -> Duration {
    if value.is_nan() || value <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(value.min(MAX_SECONDS)).unwrap_or(Duration::ZERO)
}

impl super::Config {
    /// `check_interval` as a `Duration` (see [`seconds`]).
    pub fn check_every(&self) -> Duration {
        seconds(self.check_interval)
    }

    /// `temp_check_interval` as a `Duration`.
    pub fn temp_check_every(&self) -> Duration {
        seconds(self.temp_check_interval)
    }

    /// `log_stats_interval` as a `Duration`.
    pub fn stats_every(&self) -> Duration {
        seconds(self.log_stats_interval)
    }

    /// `transition_delay` as a `Duration`.
    pub fn step_delay(&self) -> Duration {
        seconds(self.transition_delay)
    }

    /// `retry_delay` (the first retry's wait) as a `Duration`.
    pub fn first_retry_delay(&self) -> Duration {
        seconds(self.retry_delay)
    }

    /// `transition_steps`, never 0 and never more than the documented maximum.
    pub fn steps(&self) -> u32 {
        self.transition_steps.clamp(1, 50)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_never_panic() {
        for v in [f64::NAN, -1.0, 0.0, 1e300, f64::INFINITY, f64::MAX] {
            let _ = seconds(v);
        }
        assert_eq!(seconds(1e300), Duration::from_secs(86_400));
        assert_eq!(seconds(0.25), Duration::from_millis(250));
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
    }

    #[test]
    fn bounds_are_inclusive_unless_below_max() {
        let steps = RANGES
            .iter()
            .find(|r| r.key == "transition_steps")
            .expect("steps");
        assert!(steps.check(1.0).is_none() && steps.check(50.0).is_none());
        assert!(steps.check(0.0).is_some() && steps.check(51.0).is_some());
        let temp = RANGES.iter().find(|r| r.key == "max_temp").expect("temp");
        assert!(temp.check(74.9).is_none());
        let msg = temp.check(75.0).expect("75 refused");
        assert!(msg.contains("firmware"), "{msg}");
    }
}
