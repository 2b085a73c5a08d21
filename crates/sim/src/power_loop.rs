//! The firmware's power-management task (`power_management_task.c`, v2.2+) and a brownout detector.
//!
//! Every `POLL_RATE` (see [`Personality::pass_period_s`](crate::Personality::pass_period_s)) the
//! task reads the stored (NVS) settings. A changed voltage is applied first, at once; then a
//! changed frequency is ramped on the 6.25 MHz grid, one PLL write every 100 ms, and the pass is
//! blocked until the ramp ends. So a client that writes both values in one PATCH gets the voltage
//! before the clock, whatever the direction.
//!
//! A brownout is a moment at which the clock runs ahead of the voltage: the applied voltage is
//! lowered while the clock is still above the stored frequency, or the clock steps up while the
//! applied voltage is below the stored voltage. Each one is counted and logged.

use crate::physics::MinerState;

/// One PLL step, MHz.
pub const RAMP_STEP_MHZ: f64 = 6.25;
const EPS: f64 = 1e-6;

impl MinerState {
    /// One 100 ms tick of the power-management task while mining.
    pub(crate) fn power_loop_tick(&mut self) {
        if let Some(target) = self.ramp_target {
            self.ramp_step(target);
        } else if self.now + EPS >= self.next_pass_at {
            self.pass();
        }
    }

    /// The ASIC is (re)started from NVS: after a boot, a resume or the overheat recovery. The
    /// regulator gets the stored voltage, then the PLL ramps from 50 MHz to the stored frequency.
    pub(crate) fn restart_asic(&mut self) {
        self.applied_voltage = f64::from(self.nvs.core_voltage);
        self.actual_frequency = 50.0;
        self.loop_frequency = self.nvs.frequency;
        self.ramp_target = Some(self.nvs.frequency);
    }

    fn pass(&mut self) {
        let stored_v = f64::from(self.nvs.core_voltage);
        if (stored_v - self.applied_voltage).abs() > EPS {
            self.apply_voltage(stored_v);
        }
        if (self.nvs.frequency - self.loop_frequency).abs() > EPS {
            self.loop_frequency = self.nvs.frequency;
            self.ramp_target = Some(self.nvs.frequency);
            // The first PLL write happens at once, the next ones every 100 ms.
            self.ramp_step(self.nvs.frequency);
        } else {
            self.end_pass();
        }
    }

    fn end_pass(&mut self) {
        self.next_pass_at = self.now + self.personality.pass_period_s();
    }

    fn apply_voltage(&mut self, mv: f64) {
        let stored_f = self.nvs.frequency;
        if mv < self.applied_voltage - EPS && self.actual_frequency > stored_f + EPS {
            self.brownout(format!(
                "voltage lowered {:.0} -> {mv:.0} mV while the clock still ran {:.2} MHz, \
                 above the stored {stored_f:.2} MHz",
                self.applied_voltage, self.actual_frequency
            ));
        }
        self.applied_voltage = mv;
    }

    fn ramp_step(&mut self, target: f64) {
        let from = self.actual_frequency;
        let next = next_pll_step(from, target);
        let stored_v = f64::from(self.nvs.core_voltage);
        if next > from + EPS && self.applied_voltage < stored_v - EPS {
            self.brownout(format!(
                "clock raised {from:.2} -> {next:.2} MHz while the regulator ran {:.0} mV, \
                 below the stored {stored_v:.0} mV",
                self.applied_voltage
            ));
        }
        self.actual_frequency = next;
        if (next - target).abs() <= EPS {
            self.actual_frequency = target;
            self.ramp_target = None;
            self.end_pass();
        }
    }

    fn brownout(&mut self, what: String) {
        self.brownouts += 1;
        self.brownout_log
            .push(format!("t={:.1} s: {what}", self.now));
    }
}

/// The next PLL write from `from` towards `target`: the next point of the 6.25 MHz grid, or the
/// exact target once it is within one step.
pub fn next_pll_step(from: f64, target: f64) -> f64 {
    let k = from / RAMP_STEP_MHZ;
    if target > from + EPS {
        let up = ((k + EPS).floor() + 1.0) * RAMP_STEP_MHZ;
        up.min(target)
    } else if target < from - EPS {
        let down = ((k - EPS).ceil() - 1.0) * RAMP_STEP_MHZ;
        down.max(target)
    } else {
        target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::Personality;
    use rand::SeedableRng;

    fn run(state: &mut MinerState, seconds: f64) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let until = state.now + seconds;
        state.advance(until, &mut rng);
    }

    fn at(p: Personality, voltage: u32, frequency: f64) -> MinerState {
        let mut s = MinerState::new(p, 25.0);
        s.nvs.core_voltage = voltage;
        s.nvs.frequency = frequency;
        run(&mut s, 20.0);
        assert_eq!(s.applied_voltage, f64::from(voltage));
        assert_eq!(s.actual_frequency, frequency);
        assert_eq!(s.brownouts, 0, "{:?}", s.brownout_log);
        s
    }

    #[test]
    fn grid_steps() {
        assert_eq!(next_pll_step(525.0, 600.0), 531.25);
        assert_eq!(next_pll_step(531.0, 600.0), 531.25);
        assert_eq!(next_pll_step(598.0, 599.8), 599.8);
        assert_eq!(next_pll_step(600.0, 525.0), 593.75);
        assert_eq!(next_pll_step(599.8, 500.0), 593.75);
        assert_eq!(next_pll_step(503.0, 500.0), 500.0);
        assert_eq!(next_pll_step(500.0, 500.0), 500.0);
    }

    #[test]
    fn wrong_order_down_browns_out_on_every_personality() {
        for p in [Personality::V2_10, Personality::V2_12, Personality::V2_14] {
            let mut s = at(p, 1250, 600.0);
            // One PATCH with both values lower: the pass applies the voltage first.
            s.nvs.core_voltage = 1100;
            s.nvs.frequency = 500.0;
            run(&mut s, 5.0);
            assert_eq!(s.brownouts, 1, "{p:?}: {:?}", s.brownout_log);
            assert!(
                s.brownout_log[0].contains("1250 -> 1100 mV"),
                "{:?}",
                s.brownout_log
            );
            assert_eq!((s.applied_voltage, s.actual_frequency), (1100.0, 500.0));
        }
    }

    #[test]
    fn right_order_down_has_no_brownout() {
        for p in [Personality::V2_10, Personality::V2_12, Personality::V2_14] {
            let mut s = at(p, 1250, 600.0);
            s.nvs.frequency = 500.0;
            // Wait until the clock reached the stored frequency, as a client reading
            // actualFrequency (or waiting one pass plus the ramp) does.
            let mut waited = 0.0;
            while s.actual_frequency != 500.0 {
                run(&mut s, 0.1);
                waited += 0.1;
                assert!(waited < 10.0);
            }
            s.nvs.core_voltage = 1100;
            run(&mut s, 5.0);
            assert_eq!(s.brownouts, 0, "{p:?}: {:?}", s.brownout_log);
            assert_eq!((s.applied_voltage, s.actual_frequency), (1100.0, 500.0));
        }
    }

    #[test]
    fn voltage_up_then_frequency_up_after_the_pass_has_no_brownout() {
        for p in [Personality::V2_10, Personality::V2_12, Personality::V2_14] {
            let mut s = at(p, 1150, 525.0);
            s.nvs.core_voltage = 1250;
            run(&mut s, p.pass_period_s() + 0.1);
            assert_eq!(s.applied_voltage, 1250.0, "{p:?}");
            s.nvs.frequency = 600.0;
            run(&mut s, 5.0);
            assert_eq!(s.brownouts, 0, "{p:?}: {:?}", s.brownout_log);
            assert_eq!(s.actual_frequency, 600.0);
        }
    }

    #[test]
    fn both_up_in_one_patch_is_safe_because_the_voltage_goes_first() {
        let mut s = at(Personality::V2_12, 1150, 525.0);
        s.nvs.core_voltage = 1250;
        s.nvs.frequency = 600.0;
        run(&mut s, 5.0);
        assert_eq!(s.brownouts, 0, "{:?}", s.brownout_log);
    }

    #[test]
    fn voltage_raised_during_a_frequency_ramp_up_browns_out() {
        let mut s = at(Personality::V2_14, 1150, 525.0);
        s.nvs.frequency = 600.0;
        run(&mut s, 0.35);
        assert!(s.ramp_target.is_some());
        // The pass is blocked by the ramp: the new voltage waits while the clock keeps rising.
        s.nvs.core_voltage = 1250;
        run(&mut s, 3.0);
        assert!(s.brownouts >= 1, "{:?}", s.brownout_log);
        assert!(s.brownout_log[0].contains("below the stored 1250 mV"));
        assert_eq!(s.applied_voltage, 1250.0);
    }

    /// When a change written right after a pass is first applied, per personality.
    #[test]
    fn pass_period_per_personality() {
        for (p, period) in [
            (Personality::V2_10, 1.8),
            (Personality::V2_12, 1.8),
            (Personality::V2_14, 0.1),
        ] {
            assert_eq!(p.pass_period_s(), period);
            let mut s = at(p, 1150, 525.0);
            // Step to just after a pass, then write a new voltage.
            while (s.next_pass_at - s.now - period).abs() > 1e-6 {
                run(&mut s, 0.1);
            }
            s.nvs.core_voltage = 1200;
            let written = s.now;
            while s.applied_voltage != 1200.0 {
                run(&mut s, 0.1);
                assert!(s.now - written < 5.0);
            }
            let took = s.now - written;
            assert!(
                (took - period).abs() < 0.15,
                "{p:?}: applied after {took:.2} s"
            );
        }
    }

    #[test]
    fn a_ramp_blocks_the_next_pass() {
        let mut s = at(Personality::V2_12, 1150, 525.0);
        while (s.next_pass_at - s.now - 1.8).abs() > 1e-6 {
            run(&mut s, 0.1);
        }
        s.nvs.frequency = 600.0; // 12 steps: 1.2 s of ramp
        run(&mut s, 1.8);
        let ramp_started = s.now;
        assert!(s.ramp_target.is_some());
        s.nvs.core_voltage = 1200;
        while s.ramp_target.is_some() {
            run(&mut s, 0.1);
        }
        assert!(
            (s.now - ramp_started - 1.1).abs() < 0.15,
            "{}",
            s.now - ramp_started
        );
        run(&mut s, 1.7);
        assert_eq!(
            s.applied_voltage, 1150.0,
            "the next pass waits a full period"
        );
        run(&mut s, 0.2);
        assert_eq!(s.applied_voltage, 1200.0);
    }
}
