//! The simulated miner's state and physics, advanced in simulated seconds. Pure: no I/O, no clocks.
//!
//! Time runs on the firmware's 100 ms grid: continuous effects (heat, shares, averages) are
//! integrated between ticks, and discrete ones (the power-management pass, PLL ramp steps, boot,
//! overheat) happen on ticks. See [`crate::power_loop`] for the pass and the brownout detector.
//!
//! Calibration (Gamma 601, BM1370): power = 5 W + K·f·V² with K fitted to 18.8 W at 525 MHz / 1.15 V;
//! die temperature = ambient + R(fan)·core power, R fitted to 60 °C at 48 % fan in 25 °C air;
//! expected hashrate = 2.04 GH/s per MHz; firmware overheat at ASIC > 75 °C or VR > 105 °C.

use rand::Rng;
use serde::{Deserialize, Serialize};

pub const GHS_PER_MHZ: f64 = 2.04;
const POWER_OFFSET_W: f64 = 5.0;
const POWER_K: f64 = 13.8 / (525.0 * 1.15 * 1.15);
/// The firmware's scheduling grain: one PLL ramp step, and the v2.14+ power-loop period, s.
pub const TICK_S: f64 = 0.1;
const THERMAL_TAU_S: f64 = 20.0;
const POOL_DIFFICULTY: f64 = 1000.0;
pub const OVERHEAT_ASIC_C: f64 = 75.0;
pub const OVERHEAT_VR_C: f64 = 105.0;
const OVERHEAT_COOL_S: f64 = 30.0;
pub const BOOT_S: f64 = 5.0;

/// Which firmware the simulated miner behaves like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Personality {
    /// v2.6.x: 2000 ms power loop, integer frequency, string difficulties (`"4.29G"`), no
    /// `/asic`, unknown `/api/*` redirected to `/`, `stratumDiff` and `flipscreen`.
    V2_6,
    /// v2.10.x: pretty JSON, string difficulties, no PATCH validation, overheat sticks at 50 MHz.
    V2_10,
    /// v2.12.x: pretty JSON, numeric difficulties, PATCH validation, automatic overheat recovery.
    V2_12,
    /// v2.14+: compact JSON, `actualFrequency`, `miningPaused`, pause and resume.
    #[default]
    V2_14,
}

impl Personality {
    pub fn version(self) -> &'static str {
        match self {
            Personality::V2_6 => "v2.6.0",
            Personality::V2_10 => "v2.10.1",
            Personality::V2_12 => "v2.12.2",
            Personality::V2_14 => "v2.14.1",
        }
    }
    /// Whether this firmware is at least `major.minor`.
    pub fn since(self, major: u32, minor: u32) -> bool {
        self.release() >= (major, minor)
    }
    /// v2.11+: type and range checks, all-or-nothing.
    pub fn validates_patch(self) -> bool {
        self.since(2, 11)
    }
    /// Tab-indented JSON before v2.14.
    pub fn pretty(self) -> bool {
        !self.since(2, 14)
    }
    pub fn can_pause(self) -> bool {
        self.since(2, 14)
    }
    /// v2.10+ stores `frequency` as a float; older firmware truncates it to an integer.
    pub fn float_frequency(self) -> bool {
        self.since(2, 10)
    }
    /// v2.11+ recovers from an overheat on its own; older firmware reboots into 50 MHz / 1000 mV.
    pub fn recovers_from_overheat(self) -> bool {
        self.since(2, 11)
    }
    /// `(major, minor)` of [`Personality::version`].
    pub fn release(self) -> (u32, u32) {
        let mut parts = self.version().trim_start_matches('v').split('.');
        let mut next = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        (next(), next())
    }
    /// The power-management task's `POLL_RATE`, s: 2000 ms (v2.2–v2.6), 1800 ms (v2.7–v2.13),
    /// 100 ms (v2.14+).
    pub fn pass_period_s(self) -> f64 {
        match self.release() {
            (2, minor) if minor <= 6 => 2.0,
            (2, minor) if minor <= 13 => 1.8,
            _ => 0.1,
        }
    }
    /// Whether `/info` has `actualFrequency` (v2.14+).
    pub fn reports_actual_frequency(self) -> bool {
        self.since(2, 14)
    }
}

/// Faults that can be switched on and off at run time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Refuse connections.
    pub offline: bool,
    /// Accept requests and never answer.
    pub black_hole: bool,
    /// Extra delay before every answer, ms.
    pub latency_ms: u64,
    /// Answer every API call with HTTP 500.
    pub http500: bool,
    /// Answer `/info` with text that is not JSON.
    pub malformed: bool,
    /// Answer `/info` with JSON cut off half way.
    pub truncated: bool,
    /// Hashrate frozen and shares no longer moving.
    pub stall: bool,
    /// PATCH answered 200 but nothing stored.
    pub ignore_patch: bool,
    /// `frequency` stored as an integer, like firmware before v2.10.
    pub truncate_frequency: bool,
    /// Every `/api/*` request answered `307 Temporary Redirect` with `Location: /`.
    pub redirect: bool,
    /// v2.14+ behaviour: `overheat_mode` in `/info` never shows 1 during the overheat recovery.
    pub hide_overheat_flag: bool,
}

/// Settings kept in flash ("NVS"): what a PATCH changes and a reboot keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nvs {
    pub core_voltage: u32,
    pub frequency: f64,
    pub autofanspeed: bool,
    pub manual_fan: f64,
    pub min_fan: f64,
    pub temp_target: f64,
    pub overheat_mode: u8,
    pub hostname: String,
}

impl Default for Nvs {
    fn default() -> Self {
        Nvs {
            core_voltage: 1150,
            frequency: 525.0,
            autofanspeed: true,
            manual_fan: 100.0,
            min_fan: 25.0,
            temp_target: 60.0,
            overheat_mode: 0,
            hostname: "bitaxe".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    Mining,
    Paused,
    /// Firmware overheat protection: core off, cooling since `since` (sim seconds).
    Overheat {
        since: f64,
    },
    /// Rebooting until `until` (sim seconds): the server is unreachable.
    Booting {
        until: f64,
    },
}

/// Everything about one simulated miner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MinerState {
    pub personality: Personality,
    pub nvs: Nvs,
    pub phase: Phase,
    pub faults: Faults,
    pub ambient_c: f64,
    /// Sim seconds since the simulator started.
    pub now: f64,
    pub boot_at: f64,
    pub actual_frequency: f64,
    pub temp: f64,
    pub vr_temp: f64,
    pub fan_percent: f64,
    pub hashrate: f64,
    pub hashrate_1m: f64,
    pub shares_accepted: f64,
    pub shares_rejected: u64,
    pub best_diff: f64,
    pub best_session_diff: f64,
    pub overheat_events: u32,
    /// `macAddr`; `None`: derived from the miner's name (stable per name).
    #[serde(default)]
    pub mac: Option<String>,
    /// Core voltage the regulator runs now, mV (`coreVoltageActual` reports it, a few mV under).
    /// Follows `nvs.core_voltage` only when the power-management pass applies it.
    pub applied_voltage: f64,
    /// The frequency the power loop last took from NVS (the firmware's `last_asic_frequency`).
    pub loop_frequency: f64,
    /// Sim seconds at which the next power-management pass may start.
    pub next_pass_at: f64,
    /// While `Some`, a PLL ramp to this MHz is running and blocks the power-management pass.
    pub ramp_target: Option<f64>,
    /// 100 ms ticks done since the simulator started.
    pub ticks: u64,
    /// Moments at which the clock ran ahead of the voltage (see [`crate::power_loop`]).
    pub brownouts: u32,
    /// One line per brownout: sim time and the values involved.
    pub brownout_log: Vec<String>,
}

impl MinerState {
    pub fn new(personality: Personality, ambient_c: f64) -> MinerState {
        let mut s = MinerState {
            personality,
            nvs: Nvs::default(),
            phase: Phase::Mining,
            faults: Faults::default(),
            ambient_c,
            now: 0.0,
            boot_at: 0.0,
            actual_frequency: 525.0,
            temp: ambient_c,
            vr_temp: ambient_c,
            fan_percent: 40.0,
            hashrate: 0.0,
            hashrate_1m: 0.0,
            shares_accepted: 0.0,
            shares_rejected: 0,
            best_diff: 49_224_525.0,
            best_session_diff: 0.0,
            overheat_events: 0,
            mac: None,
            applied_voltage: 1150.0,
            loop_frequency: 525.0,
            next_pass_at: 0.0,
            ramp_target: None,
            ticks: 0,
            brownouts: 0,
            brownout_log: Vec::new(),
        };
        s.applied_voltage = f64::from(s.nvs.core_voltage);
        s.loop_frequency = s.nvs.frequency;
        // Start at thermal steady state so a fresh fleet looks like one that has been running.
        let p = s.core_power();
        s.temp = s.steady_die_temp(p, 48.0);
        s.vr_temp = s.ambient_c + 2.0 * (p + POWER_OFFSET_W);
        s.fan_percent = 48.0;
        s.hashrate = s.ideal_hashrate();
        s.hashrate_1m = s.hashrate;
        s
    }

    pub fn mining(&self) -> bool {
        self.phase == Phase::Mining
    }

    pub fn uptime(&self) -> f64 {
        (self.now - self.boot_at).max(0.0)
    }

    /// Power drawn by the ASIC core, W (zero when the core is switched off).
    pub fn core_power(&self) -> f64 {
        if !self.mining() {
            return 0.0;
        }
        let v = self.applied_voltage / 1000.0;
        POWER_K * self.actual_frequency * v * v
    }

    pub fn power(&self) -> f64 {
        POWER_OFFSET_W + self.core_power()
    }

    /// Voltage the ASIC needs for `f` MHz; below it the hashrate suffers.
    fn required_voltage(f: f64) -> f64 {
        1000.0 + (f - 400.0).max(0.0) * 0.6
    }

    pub fn ideal_hashrate(&self) -> f64 {
        if !self.mining() {
            return 0.0;
        }
        let short = Self::required_voltage(self.actual_frequency) - self.applied_voltage;
        let factor = if short > 0.0 {
            (1.0 - short / 150.0).max(0.2)
        } else {
            1.0
        };
        self.actual_frequency * GHS_PER_MHZ * factor
    }

    pub fn expected_hashrate(&self) -> f64 {
        if self.mining() {
            self.nvs.frequency * GHS_PER_MHZ
        } else {
            0.0
        }
    }

    fn thermal_resistance(fan: f64) -> f64 {
        4.0 - 3.0 * fan / 100.0
    }

    fn steady_die_temp(&self, core_power: f64, fan: f64) -> f64 {
        self.ambient_c + Self::thermal_resistance(fan) * core_power
    }

    /// Advance the simulation to `now` (sim seconds).
    pub fn advance(&mut self, now: f64, rng: &mut impl Rng) {
        while self.now < now {
            let next_tick = (self.ticks + 1) as f64 * TICK_S;
            if next_tick <= now {
                self.integrate(next_tick - self.now);
                self.now = next_tick;
                self.ticks += 1;
                self.tick();
            } else {
                self.integrate(now - self.now);
                self.now = now;
            }
        }
        if self.mining() && !self.faults.stall {
            let noise: f64 = rng.gen_range(-0.02..0.02);
            self.hashrate = self.ideal_hashrate() * (1.0 + noise);
        } else if !self.mining() {
            self.hashrate = 0.0;
        }
    }

    /// Discrete events on the 100 ms grid, at `self.now`.
    fn tick(&mut self) {
        let t = self.now;
        match self.phase {
            Phase::Booting { until } if t >= until => self.finish_boot(),
            Phase::Overheat { since } if t - since >= OVERHEAT_COOL_S && self.vr_temp <= 95.0 => {
                self.recover_from_overheat();
            }
            _ => {}
        }
        if self.mining() {
            self.power_loop_tick();
        }
        if self.mining() && (self.temp > OVERHEAT_ASIC_C || self.vr_temp > OVERHEAT_VR_C) {
            self.enter_overheat(t);
        }
    }

    /// Continuous effects over `dt` seconds (at most one tick).
    fn integrate(&mut self, dt: f64) {
        if dt <= 0.0 {
            return;
        }
        // Fan: the firmware's PID holds temp at the target, never under the floor.
        self.fan_percent = if self.nvs.autofanspeed {
            (self.nvs.min_fan + (self.temp - self.nvs.temp_target + 6.0) * 6.0)
                .clamp(self.nvs.min_fan, 100.0)
        } else {
            self.nvs.manual_fan
        };
        let k = 1.0 - (-dt / THERMAL_TAU_S).exp();
        let core = self.core_power();
        self.temp += (self.steady_die_temp(core, self.fan_percent) - self.temp) * k;
        self.vr_temp += (self.ambient_c + 2.0 * (core + POWER_OFFSET_W) - self.vr_temp) * k;
        if self.mining() && !self.faults.stall {
            let h = self.ideal_hashrate();
            self.hashrate_1m += (h - self.hashrate_1m) * (1.0 - (-dt / 60.0).exp());
            self.shares_accepted += h * 1e9 * dt / (POOL_DIFFICULTY * 4_294_967_296.0);
            let session = self
                .best_session_diff
                .max(POOL_DIFFICULTY * (1.0 + self.shares_accepted.sqrt()));
            self.best_session_diff = session;
            self.best_diff = self.best_diff.max(session);
        }
    }

    fn enter_overheat(&mut self, t: f64) {
        self.overheat_events += 1;
        self.nvs.autofanspeed = false;
        self.nvs.manual_fan = 100.0;
        self.nvs.overheat_mode = 1;
        self.actual_frequency = 50.0;
        self.ramp_target = None;
        if !self.personality.recovers_from_overheat() {
            // Old firmware: 1000 mV / 50 MHz written to flash, reboot, stay there until the user acts.
            self.nvs.core_voltage = 1000;
            self.nvs.frequency = 50.0;
            self.reboot(t);
        } else {
            self.phase = Phase::Overheat { since: t };
        }
    }

    fn recover_from_overheat(&mut self) {
        let v = self.nvs.core_voltage;
        self.nvs.core_voltage = if v <= 100 { 1000 } else { v - 100 };
        let f = self.nvs.frequency;
        self.nvs.frequency = if f <= 100.0 { 400.0 } else { f - 100.0 };
        self.nvs.overheat_mode = 0;
        self.phase = Phase::Mining;
        self.restart_asic();
    }

    /// Start a reboot now: unreachable for [`BOOT_S`], then RAM state reset.
    pub fn reboot(&mut self, t: f64) {
        self.phase = Phase::Booting { until: t + BOOT_S };
        self.actual_frequency = 0.0;
        self.ramp_target = None;
    }

    fn finish_boot(&mut self) {
        self.phase = Phase::Mining;
        self.boot_at = self.now;
        self.restart_asic();
        self.shares_accepted = 0.0;
        self.shares_rejected = 0;
        self.best_session_diff = 0.0;
        self.hashrate_1m = 0.0;
    }

    pub fn pause(&mut self) {
        if self.mining() {
            self.phase = Phase::Paused;
            self.actual_frequency = 50.0;
            self.ramp_target = None;
        }
    }

    pub fn resume(&mut self) {
        if self.phase == Phase::Paused {
            self.phase = Phase::Mining;
            self.restart_asic();
        }
    }

    /// When set, the sim seconds at which the miner becomes reachable again.
    pub fn booting_until(&self) -> Option<f64> {
        match self.phase {
            Phase::Booting { until } => Some(until),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn run(state: &mut MinerState, seconds: f64) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let until = state.now + seconds;
        state.advance(until, &mut rng);
    }

    #[test]
    fn stock_settings_match_the_real_capture() {
        let mut s = MinerState::new(Personality::V2_12, 25.0);
        run(&mut s, 120.0);
        assert!((s.power() - 18.8).abs() < 0.2, "power {}", s.power());
        assert!((s.temp - 60.0).abs() < 6.0, "temp {}", s.temp);
        assert!((s.expected_hashrate() - 1071.0).abs() < 0.5);
        assert!((s.hashrate - 1071.0).abs() < 1071.0 * 0.025);
    }

    #[test]
    fn frequency_ramps_in_steps_of_6_25_mhz_per_100_ms() {
        let mut s = MinerState::new(Personality::V2_14, 25.0);
        s.nvs.frequency = 600.0;
        run(&mut s, 0.5);
        assert!(
            (s.actual_frequency - (525.0 + 31.25)).abs() < 0.01,
            "{}",
            s.actual_frequency
        );
        run(&mut s, 2.0);
        assert_eq!(s.actual_frequency, 600.0);
    }

    #[test]
    fn hot_air_trips_the_overheat_recovery_after_cooling() {
        let mut s = MinerState::new(Personality::V2_12, 25.0);
        s.ambient_c = 70.0;
        run(&mut s, 60.0);
        assert!(matches!(s.phase, Phase::Overheat { .. }) || s.overheat_events > 0);
        s.ambient_c = 25.0;
        run(&mut s, 60.0);
        assert_eq!(s.nvs.core_voltage, 1050);
        assert_eq!(s.nvs.frequency, 425.0);
        assert!(!s.nvs.autofanspeed);
        assert_eq!(s.nvs.manual_fan, 100.0);
        assert!(s.mining());
    }

    #[test]
    fn old_firmware_overheat_sticks_at_50_mhz() {
        let mut s = MinerState::new(Personality::V2_10, 80.0);
        run(&mut s, 30.0);
        assert_eq!(s.nvs.frequency, 50.0);
        assert_eq!(s.nvs.core_voltage, 1000);
        assert_eq!(s.nvs.overheat_mode, 1);
    }

    #[test]
    fn undervolting_costs_hashrate() {
        let mut s = MinerState::new(Personality::V2_14, 25.0);
        s.nvs.frequency = 600.0;
        s.nvs.core_voltage = 1000;
        run(&mut s, 5.0);
        assert!(s.ideal_hashrate() < 600.0 * GHS_PER_MHZ * 0.5);
    }

    /// The v2.11+ recovery as a client sees it, second by second (§5.3 of the reference).
    #[test]
    fn overheat_recovery_has_the_firmware_signature() {
        for p in [Personality::V2_12, Personality::V2_14] {
            let mut s = MinerState::new(p, 25.0);
            s.faults.hide_overheat_flag = true;
            s.ambient_c = 72.0;
            let mut waited = 0.0;
            while s.mining() {
                run(&mut s, 1.0);
                waited += 1.0;
                assert!(waited < 300.0, "{p:?} never overheated");
            }
            let Phase::Overheat { since } = s.phase else {
                panic!("{p:?}: {:?}", s.phase)
            };
            s.ambient_c = 25.0;
            let power_before = 18.0;
            while !s.mining() {
                assert!(!s.nvs.autofanspeed, "fan forced to manual");
                assert_eq!(s.nvs.manual_fan, 100.0);
                assert_eq!(s.fan_percent, 100.0);
                assert_eq!(s.hashrate, 0.0);
                assert_eq!(s.actual_frequency, 50.0);
                assert!(
                    s.power() < power_before / 2.0,
                    "power collapses: {}",
                    s.power()
                );
                assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1150, 525.0));
                run(&mut s, 1.0);
            }
            assert!(
                s.now - since >= OVERHEAT_COOL_S,
                "cooled {} s",
                s.now - since
            );
            assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1050, 425.0));
            assert_eq!(s.nvs.overheat_mode, 0);
            run(&mut s, 15.0);
            assert!(
                s.mining() && s.hashrate > 400.0 * GHS_PER_MHZ,
                "{p:?} resumed"
            );
            assert_eq!(s.actual_frequency, 425.0);
            assert_eq!(s.applied_voltage, 1050.0);
            assert!(
                !s.nvs.autofanspeed && s.nvs.manual_fan == 100.0,
                "fan stays manual 100 %"
            );
            assert_eq!(s.brownouts, 0, "{:?}", s.brownout_log);
        }
    }

    #[test]
    fn v2_6_has_a_two_second_pass_and_old_overheat() {
        let p = Personality::V2_6;
        assert_eq!(p.pass_period_s(), 2.0);
        assert!(!p.float_frequency() && !p.validates_patch() && !p.reports_actual_frequency());
        let mut s = MinerState::new(p, 80.0);
        run(&mut s, 30.0);
        assert_eq!((s.nvs.core_voltage, s.nvs.frequency), (1000, 50.0));
    }
}
