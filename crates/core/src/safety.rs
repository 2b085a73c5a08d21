//! The safety envelope: the one place that decides what may be written to a miner.
//!
//! Nothing reaches a miner except a [`SafeSettings`], and only [`Envelope::clamp`] makes one. The
//! envelope is the config's limits intersected with the model's hard limits ([`models`]) and the
//! miner's own `limits`, and never past the global caps below, whatever the config says. Order rule for any change: raise voltage, lower frequency, raise frequency, lower
//! voltage — so the chip never runs a clock higher than its voltage was set for.

use serde::{Deserialize, Serialize};

pub mod models;
pub use models::{envelope_for, model_of, ModelLimits, UnknownModel};

/// Never write more than this, whatever the config says (Gamma 601).
pub const GAMMA_MAX_VOLTAGE_MV: u32 = 1300;
/// The TPS546 regulator's floor (1.0 V); lower requests are refused by the hardware.
pub const GAMMA_MIN_VOLTAGE_MV: u32 = 1000;
/// Never write a higher clock than this (the firmware's highest preset is 625 MHz).
pub const GAMMA_MAX_FREQUENCY_MHZ: f64 = 800.0;
/// Never write a clock under this: below it the firmware treats the ASIC as stopped.
pub const GAMMA_MIN_FREQUENCY_MHZ: f64 = 50.0;

/// Core voltage (mV) and frequency (MHz) of one miner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    pub voltage: u32,
    pub frequency: f64,
}

impl Settings {
    pub fn new(voltage: u32, frequency: f64) -> Settings {
        Settings { voltage, frequency }
    }
}

impl std::fmt::Display for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}mV @ {}MHz", self.voltage, fmt_mhz(self.frequency))
    }
}

/// `525`, or `531.25` when the value has a fraction.
pub fn fmt_mhz(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{f:.0}")
    } else {
        format!("{}", (f * 100.0).round() / 100.0)
    }
}

/// Settings that have passed the envelope. Private fields: the only way to get one is
/// [`Envelope::clamp`], so every write in the engine is inside the envelope by construction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SafeSettings(Settings);

impl SafeSettings {
    pub fn get(&self) -> Settings {
        self.0
    }
}

/// One write to a miner: a voltage or a frequency (the order rule needs them apart).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Write {
    Voltage(u32),
    Frequency(f64),
}

/// Limits for one miner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Envelope {
    pub min_voltage: u32,
    pub max_voltage: u32,
    pub min_frequency: f64,
    pub max_frequency: f64,
}

impl Envelope {
    /// The config's limits, narrowed to the hardware's.
    pub fn new(
        min_voltage: u32,
        max_voltage: u32,
        min_frequency: f64,
        max_frequency: f64,
    ) -> Envelope {
        let max_voltage = max_voltage.clamp(GAMMA_MIN_VOLTAGE_MV, GAMMA_MAX_VOLTAGE_MV);
        let min_voltage = min_voltage.clamp(GAMMA_MIN_VOLTAGE_MV, max_voltage);
        let max_frequency = if max_frequency.is_finite() {
            max_frequency.min(GAMMA_MAX_FREQUENCY_MHZ)
        } else {
            GAMMA_MIN_FREQUENCY_MHZ
        };
        let min_frequency = if min_frequency.is_finite() {
            min_frequency.max(GAMMA_MIN_FREQUENCY_MHZ)
        } else {
            GAMMA_MIN_FREQUENCY_MHZ
        };
        Envelope {
            min_voltage,
            max_voltage,
            min_frequency: min_frequency.min(max_frequency.max(GAMMA_MIN_FREQUENCY_MHZ)),
            max_frequency: max_frequency.max(GAMMA_MIN_FREQUENCY_MHZ),
        }
    }

    /// Bring any settings inside the envelope.
    pub fn clamp(&self, s: Settings) -> SafeSettings {
        let frequency = if s.frequency.is_finite() {
            s.frequency
        } else {
            self.min_frequency
        };
        SafeSettings(Settings {
            voltage: s.voltage.clamp(self.min_voltage, self.max_voltage),
            frequency: frequency.clamp(self.min_frequency, self.max_frequency),
        })
    }

    pub fn contains(&self, s: Settings) -> bool {
        self.clamp(s).get() == s
    }

    /// For config validation: a clear sentence naming the limit.
    pub fn check_voltage(&self, v: u32) -> Result<(), String> {
        if v > self.max_voltage {
            Err(format!("{v} mV is above the maximum of {} mV (max_voltage, never above {GAMMA_MAX_VOLTAGE_MV} mV on a Gamma 601)", self.max_voltage))
        } else if v < self.min_voltage {
            Err(format!(
                "{v} mV is below the minimum of {} mV (min_voltage)",
                self.min_voltage
            ))
        } else {
            Ok(())
        }
    }

    pub fn check_frequency(&self, f: f64) -> Result<(), String> {
        if !f.is_finite() || f > self.max_frequency {
            Err(format!(
                "{} MHz is above the maximum of {} MHz (max_frequency)",
                fmt_mhz(f),
                fmt_mhz(self.max_frequency)
            ))
        } else if f < self.min_frequency {
            Err(format!(
                "{} MHz is below the minimum of {} MHz (min_frequency)",
                fmt_mhz(f),
                fmt_mhz(self.min_frequency)
            ))
        } else {
            Ok(())
        }
    }
}

/// The writes that take a miner from `from` to `to`, in the safe order: raise voltage, lower
/// frequency, raise frequency, lower voltage. Unchanged values are not written.
pub fn ordered_writes(from: Settings, to: SafeSettings) -> Vec<Write> {
    let to = to.get();
    let mut out = Vec::with_capacity(2);
    if to.voltage > from.voltage {
        out.push(Write::Voltage(to.voltage));
    }
    if to.frequency < from.frequency {
        out.push(Write::Frequency(to.frequency));
    }
    if to.frequency > from.frequency {
        out.push(Write::Frequency(to.frequency));
    }
    if to.voltage < from.voltage {
        out.push(Write::Voltage(to.voltage));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case(
        Envelope::new(1000, 1400, 100.0, 600.0),
        Settings::new(1350, 650.0),
        Settings::new(1300, 600.0)
    )]
    #[case(
        Envelope::new(900, 1250, 100.0, 600.0),
        Settings::new(950, 50.0),
        Settings::new(1000, 100.0)
    )]
    #[case(
        Envelope::new(1000, 1250, 100.0, 600.0),
        Settings::new(1150, 525.0),
        Settings::new(1150, 525.0)
    )]
    #[case(
        Envelope::new(1000, 1250, 100.0, 600.0),
        Settings::new(1150, f64::NAN),
        Settings::new(1150, 100.0)
    )]
    fn clamp_cases(#[case] env: Envelope, #[case] input: Settings, #[case] expected: Settings) {
        assert_eq!(env.clamp(input).get(), expected);
    }

    #[rstest]
    #[case(Settings::new(1100, 400.0), Settings::new(1200, 550.0), vec![Write::Voltage(1200), Write::Frequency(550.0)])]
    #[case(Settings::new(1200, 550.0), Settings::new(1100, 400.0), vec![Write::Frequency(400.0), Write::Voltage(1100)])]
    #[case(Settings::new(1100, 550.0), Settings::new(1200, 400.0), vec![Write::Voltage(1200), Write::Frequency(400.0)])]
    #[case(Settings::new(1200, 400.0), Settings::new(1100, 550.0), vec![Write::Frequency(550.0), Write::Voltage(1100)])]
    #[case(Settings::new(1150, 525.0), Settings::new(1150, 525.0), vec![])]
    fn order_cases(#[case] from: Settings, #[case] to: Settings, #[case] expected: Vec<Write>) {
        let env = Envelope::new(1000, 1300, 50.0, 800.0);
        assert_eq!(ordered_writes(from, env.clamp(to)), expected);
    }

    fn any_settings() -> impl Strategy<Value = Settings> {
        (0u32..3000, -100.0f64..2000.0).prop_map(|(v, f)| Settings::new(v, f))
    }

    proptest! {
        #[test]
        fn nothing_leaves_the_envelope(
            min_v in 0u32..2000, max_v in 0u32..3000, min_f in -10.0f64..900.0, max_f in -10.0f64..2000.0,
            s in any_settings(),
        ) {
            let env = Envelope::new(min_v, max_v, min_f, max_f);
            let safe = env.clamp(s).get();
            prop_assert!(safe.voltage <= GAMMA_MAX_VOLTAGE_MV);
            prop_assert!(safe.voltage >= GAMMA_MIN_VOLTAGE_MV);
            prop_assert!(safe.voltage <= max_v.max(GAMMA_MIN_VOLTAGE_MV));
            prop_assert!(safe.frequency <= GAMMA_MAX_FREQUENCY_MHZ && safe.frequency >= GAMMA_MIN_FREQUENCY_MHZ);
            prop_assert!(env.contains(safe));
        }

        #[test]
        fn every_write_sequence_keeps_voltage_ahead_of_frequency(from in any_settings(), to in any_settings()) {
            let env = Envelope::new(1000, 1300, 50.0, 800.0);
            let from = env.clamp(from).get();
            let writes = ordered_writes(from, env.clamp(to));
            let target = env.clamp(to).get();
            let mut now = from;
            for w in &writes {
                match *w {
                    Write::Voltage(v) => now.voltage = v,
                    Write::Frequency(f) => now.frequency = f,
                }
                // Never a clock above both ends while the voltage is below both ends.
                prop_assert!(now.frequency <= from.frequency.max(target.frequency));
                prop_assert!(now.voltage >= from.voltage.min(target.voltage));
                // The only state with the lower voltage and the higher clock at once is
                // never visited unless the target itself is it.
                let low_v = now.voltage < from.voltage.max(target.voltage);
                let high_f = now.frequency > from.frequency.min(target.frequency);
                if low_v && high_f {
                    prop_assert!(now == target || now == from);
                }
            }
            prop_assert_eq!(now, target);
        }
    }
}
