//! How long the firmware takes to act on a PATCH, from the version it reports (reference §3.2).
//!
//! The power-management task looks at the stored settings once per pass: every 2000 ms before
//! v2.7, 1800 ms from v2.7 to v2.13, 100 ms from v2.14. In a pass a changed voltage is applied at
//! once; a changed frequency then ramps in 6.25 MHz steps, one every 100 ms, blocking the pass.
//! v2.14+ reports the clock it reached (`actualFrequency`); older firmware does not, so the only
//! safe wait there is one pass plus the ramp time plus a margin.

use std::time::Duration;

/// One PLL step of the firmware's frequency ramp, MHz.
pub const RAMP_STEP_MHZ: f64 = 6.25;
/// Time between two PLL steps of the ramp.
pub const RAMP_STEP_TIME: Duration = Duration::from_millis(100);
/// Added to every computed wait: the NVS queue, the HTTP round trip, a late pass.
pub const SETTLE_MARGIN: Duration = Duration::from_millis(300);
/// `coreVoltageActual` (after its offset) within this of the target confirms a voltage change.
pub const VOLTAGE_TOLERANCE_MV: f64 = 20.0;
/// A larger stored-minus-measured gap is not a sensor offset (the voltage is still changing).
const MAX_VOLTAGE_OFFSET_MV: f64 = 30.0;
/// `actualFrequency` within this of the target counts as reached (the PLL reports e.g. 599.8
/// for 600).
pub const FREQUENCY_TOLERANCE_MHZ: f64 = 0.5;

/// What the engine knows about a miner's power loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FirmwareTiming {
    /// Time between two passes of the power-management loop.
    pub pass: Duration,
    /// Whether `/info` carries `actualFrequency` (v2.14+), so a ramp can be watched.
    pub reports_actual_frequency: bool,
    /// Stored minus measured core voltage while settled (the regulator reads a few mV under),
    /// so a voltage change can be watched in `coreVoltageActual`; `None` when not known.
    pub voltage_offset: Option<f64>,
}

impl FirmwareTiming {
    /// The slowest loop there is, for a miner whose version is unknown.
    pub const CONSERVATIVE: FirmwareTiming = FirmwareTiming {
        pass: Duration::from_millis(2000),
        reports_actual_frequency: false,
        voltage_offset: None,
    };

    /// From the version string the miner reports (`v2.14.1`, `2.4.0`, `v2.9.0-fork`).
    pub fn from_version(version: Option<&str>) -> FirmwareTiming {
        match version.and_then(parse_version) {
            Some((2, minor)) if minor >= 14 => FirmwareTiming {
                pass: Duration::from_millis(100),
                reports_actual_frequency: true,
                voltage_offset: None,
            },
            Some((2, minor)) if minor >= 7 => FirmwareTiming {
                pass: Duration::from_millis(1800),
                reports_actual_frequency: false,
                voltage_offset: None,
            },
            Some((major, _)) if major > 2 => FirmwareTiming {
                pass: Duration::from_millis(100),
                reports_actual_frequency: true,
                voltage_offset: None,
            },
            _ => FirmwareTiming::CONSERVATIVE,
        }
    }

    /// From one `/info` reply: the version, and `actualFrequency` if it is there whatever the
    /// version says (forks).
    pub fn of(info: &axeos::Info) -> FirmwareTiming {
        let mut t = FirmwareTiming::from_version(info.version.as_deref());
        if info.actual_frequency.is_some() {
            t.reports_actual_frequency = true;
        }
        if let (Some(v), Some(a)) = (info.core_voltage, info.core_voltage_actual) {
            let offset = f64::from(v) - a;
            if a > 0.0 && offset.abs() <= MAX_VOLTAGE_OFFSET_MV {
                t.voltage_offset = Some(offset);
            }
        }
        t
    }

    /// `coreVoltageActual` shows a change from `old` to `new` mV in force: past the half-way
    /// mark (and within [`VOLTAGE_TOLERANCE_MV`] of the end), after the sensor's offset.
    pub fn voltage_in_force(&self, old: u32, new: u32, actual: f64) -> bool {
        let Some(offset) = self.voltage_offset else {
            return false;
        };
        let seen = actual + offset;
        let half = (f64::from(old.abs_diff(new)) / 2.0).min(VOLTAGE_TOLERANCE_MV);
        if new >= old {
            seen >= f64::from(new) - half
        } else {
            seen <= f64::from(new) + half
        }
    }

    /// The longest a frequency change from `from` to `to` MHz can take to be in force: one pass
    /// for the loop to see it, the ramp, and the margin.
    pub fn frequency_wait(&self, from: f64, to: f64) -> Duration {
        self.pass + ramp_time(from, to) + SETTLE_MARGIN
    }

    /// The longest a voltage change can take: one pass and the margin.
    pub fn voltage_wait(&self) -> Duration {
        self.pass + SETTLE_MARGIN
    }
}

/// The firmware's ramp time between two clocks: one 100 ms step per started 6.25 MHz.
pub fn ramp_time(from: f64, to: f64) -> Duration {
    let delta = (to - from).abs();
    if !delta.is_finite() {
        return RAMP_STEP_TIME * 200;
    }
    let steps = (delta / RAMP_STEP_MHZ).ceil().min(10_000.0) as u32;
    RAMP_STEP_TIME * steps
}

/// `(major, minor)` from `v2.14.1`, `2.4.0`, `v2.9.0-nerd`; `None` when it is not a version.
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let t = text.trim();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    let mut parts = t.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Some("v2.14.1"), 100, true)]
    #[case(Some("v2.15.0"), 100, true)]
    #[case(Some("v2.13.1"), 1800, false)]
    #[case(Some("2.7.0"), 1800, false)]
    #[case(Some("v2.6.5"), 2000, false)]
    #[case(Some("v2.2.0"), 2000, false)]
    #[case(Some("v2.9.0-nerdqaxe"), 1800, false)]
    #[case(Some("garbage"), 2000, false)]
    #[case(None, 2000, false)]
    fn loop_pass_by_version(#[case] v: Option<&str>, #[case] ms: u64, #[case] actual: bool) {
        let t = FirmwareTiming::from_version(v);
        assert_eq!(t.pass, Duration::from_millis(ms));
        assert_eq!(t.reports_actual_frequency, actual);
    }

    #[test]
    fn a_voltage_change_is_seen_past_half_way_after_the_offset() {
        let info = axeos::Info {
            core_voltage: Some(1200),
            core_voltage_actual: Some(1194.0),
            ..Default::default()
        };
        let t = FirmwareTiming::of(&info);
        assert_eq!(t.voltage_offset, Some(6.0));
        assert!(!t.voltage_in_force(1200, 1190, 1194.0), "not yet");
        assert!(t.voltage_in_force(1200, 1190, 1184.0));
        assert!(!t.voltage_in_force(1190, 1200, 1184.0), "not yet");
        assert!(t.voltage_in_force(1190, 1200, 1194.0));
        assert!(
            !t.voltage_in_force(1100, 1250, 1200.0),
            "half way is not enough"
        );
        assert!(t.voltage_in_force(1100, 1250, 1240.0));
        assert!(!FirmwareTiming::CONSERVATIVE.voltage_in_force(1100, 1250, 1244.0));
    }

    #[test]
    fn ramp_is_100_ms_per_started_6_25_mhz() {
        assert_eq!(ramp_time(600.0, 525.0), Duration::from_millis(1200));
        assert_eq!(ramp_time(525.0, 531.25), Duration::from_millis(100));
        assert_eq!(ramp_time(525.0, 532.0), Duration::from_millis(200));
        assert_eq!(ramp_time(525.0, 525.0), Duration::ZERO);
        let old = FirmwareTiming::from_version(Some("v2.10.1"));
        assert_eq!(
            old.frequency_wait(600.0, 400.0),
            Duration::from_millis(1800 + 3200 + 300)
        );
    }
}
