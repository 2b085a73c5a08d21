use super::*;
use proptest::prelude::*;

fn cfg() -> Config {
    Config {
        max_temp: 65.0,
        max_power: 25.0,
        max_vr_temp: 90.0,
        ..Config::default()
    }
}

fn obs(v: u32, f: f64, temp: f64, power: f64) -> Observation {
    Observation {
        reported: Some(Settings::new(v, f)),
        temp: Some(temp),
        vr_temp: Some(60.0),
        power: Some(power),
        hashrate: Some(f * 2.04),
        shares_accepted: Some((temp * 100.0) as u64 + f as u64),
        overheat_flag: false,
        paused: false,
    }
}

fn moved_to(d: &Decision) -> Option<Settings> {
    match d {
        Decision::Move { to, .. } => Some(to.get()),
        _ => None,
    }
}

#[test]
fn a_new_target_is_a_schedule_move() {
    let c = cfg();
    let mut m = Memory::default();
    let (d, f) = decide(
        &c,
        &c.envelope(),
        Settings::new(1200, 550.0),
        &obs(1100, 425.0, 55.0, 15.0),
        &mut m,
    );
    assert_eq!(moved_to(&d), Some(Settings::new(1200, 550.0)));
    assert!(matches!(
        d,
        Decision::Move {
            reason: Reason::Schedule,
            ..
        }
    ));
    assert!(f.is_empty());
}

#[test]
fn outside_the_envelope_is_corrected_first_even_when_hot() {
    let c = cfg();
    let mut m = Memory::default();
    let (d, f) = decide(
        &c,
        &c.envelope(),
        Settings::new(1200, 550.0),
        &obs(1400, 700.0, 80.0, 30.0),
        &mut m,
    );
    assert_eq!(moved_to(&d), Some(Settings::new(1250, 600.0)));
    assert!(matches!(
        d,
        Decision::Move {
            reason: Reason::SafetyCorrection,
            ..
        }
    ));
    assert!(matches!(f[0], Finding::OutsideEnvelope { .. }));
}

#[test]
fn hot_steps_down_and_restores_after_cool_checks() {
    let c = cfg();
    let env = c.envelope();
    let want = Settings::new(1200, 550.0);
    let mut m = Memory::default();
    let (d, f) = decide(&c, &env, want, &obs(1200, 550.0, 70.0, 20.0), &mut m);
    assert_eq!(moved_to(&d), Some(Settings::new(1190, 525.0)));
    assert!(matches!(&f[0], Finding::Hot(r) if r.contains("max_temp")));
    // Still hot: another step.
    let (d, _) = decide(&c, &env, want, &obs(1190, 525.0, 66.0, 20.0), &mut m);
    assert_eq!(moved_to(&d), Some(Settings::new(1180, 500.0)));
    // In the hysteresis band: hold, no restore.
    let (d, _) = decide(&c, &env, want, &obs(1180, 500.0, 62.0, 20.0), &mut m);
    assert_eq!(d, Decision::Nothing);
    assert!(m.throttle_cap.is_some());
    // Cool for restore_after checks: the cap goes and the schedule comes back.
    for i in 0..c.restore_after {
        let (d, f) = decide(&c, &env, want, &obs(1180, 500.0, 55.0, 18.0), &mut m);
        if i + 1 < c.restore_after {
            assert_eq!(d, Decision::Nothing);
        } else {
            assert_eq!(f, vec![Finding::Cool]);
            assert_eq!(moved_to(&d), Some(want));
        }
    }
}

#[test]
fn power_over_the_limit_throttles_and_names_it() {
    let c = cfg();
    let mut m = Memory::default();
    let (d, f) = decide(
        &c,
        &c.envelope(),
        Settings::new(1250, 600.0),
        &obs(1250, 600.0, 55.0, 27.0),
        &mut m,
    );
    assert!(matches!(&f[0], Finding::Hot(r) if r.contains("max_power")));
    assert_eq!(moved_to(&d), Some(Settings::new(1240, 575.0)));
}

#[test]
fn throttling_never_goes_below_the_safe_settings() {
    let c = cfg();
    let env = c.envelope();
    let mut m = Memory::default();
    let mut at = Settings::new(1200, 550.0);
    for _ in 0..40 {
        let (d, _) = decide(
            &c,
            &env,
            Settings::new(1200, 550.0),
            &obs(at.voltage, at.frequency, 80.0, 20.0),
            &mut m,
        );
        if let Some(to) = moved_to(&d) {
            at = to;
        }
    }
    assert_eq!(at, Settings::new(1100, 400.0));
}

#[test]
fn firmware_overheat_waits_then_caps_at_what_the_firmware_chose() {
    let c = cfg();
    let env = c.envelope();
    let want = Settings::new(1200, 550.0);
    let mut m = Memory {
        confirmed: Some(want),
        ..Memory::default()
    };
    let cooling = Observation {
        overheat_flag: true,
        temp: None,
        hashrate: Some(0.0),
        ..obs(1200, 550.0, 0.0, 5.0)
    };
    let (d, f) = decide(&c, &env, want, &cooling, &mut m);
    assert_eq!(d, Decision::Wait);
    assert_eq!(f, vec![Finding::FirmwareOverheat]);
    let (d, _) = decide(&c, &env, want, &cooling, &mut m);
    assert_eq!(d, Decision::Wait);
    let resumed = obs(1100, 450.0, 50.0, 12.0);
    let (d, f) = decide(&c, &env, want, &resumed, &mut m);
    assert_eq!(
        f,
        vec![Finding::FirmwareResumed(Settings::new(1100, 450.0))]
    );
    assert_eq!(
        d,
        Decision::Nothing,
        "held at the firmware's settings while throttled"
    );
}

#[test]
fn drift_is_fixed_a_limited_number_of_times() {
    let c = Config {
        max_drift_fixes: 2,
        ..cfg()
    };
    let env = c.envelope();
    let want = Settings::new(1200, 550.0);
    let mut m = Memory::default();
    assert_eq!(
        decide(&c, &env, want, &obs(1200, 550.0, 55.0, 20.0), &mut m).0,
        Decision::Nothing
    );
    for fix in 0..2 {
        let (d, f) = decide(
            &c,
            &env,
            want,
            &obs(1150, 525.0, 55.0 + fix as f64, 20.0),
            &mut m,
        );
        assert!(matches!(
            d,
            Decision::Move {
                reason: Reason::DriftFix,
                ..
            }
        ));
        assert!(matches!(f[0], Finding::Drift { fixing: true, .. }));
    }
    let (d, f) = decide(&c, &env, want, &obs(1150, 525.0, 58.0, 20.0), &mut m);
    assert_eq!(d, Decision::Nothing);
    assert!(matches!(f[0], Finding::Drift { fixing: false, .. }));
    let (_, f) = decide(&c, &env, want, &obs(1150, 525.0, 59.0, 20.0), &mut m);
    assert!(f.is_empty(), "giving up is said once");
}

#[test]
fn frozen_hashrate_and_shares_is_a_stall() {
    let c = cfg();
    let env = c.envelope();
    let want = Settings::new(1150, 525.0);
    let mut m = Memory::default();
    let frozen = obs(1150, 525.0, 55.0, 19.0);
    let mut stalled_at = None;
    for i in 0..=c.stall_after {
        let (_, f) = decide(&c, &env, want, &frozen, &mut m);
        if f.contains(&Finding::Stalled) {
            stalled_at = Some(i);
        }
    }
    assert_eq!(stalled_at, Some(c.stall_after));
    let (_, f) = decide(&c, &env, want, &obs(1150, 525.0, 56.0, 19.0), &mut m);
    assert_eq!(f, vec![Finding::StallCleared]);
}

proptest! {
    /// For any config limits, target and telemetry, a move is inside the envelope, and a throttle
    /// never raises either setting.
    #[test]
    fn no_decision_leaves_the_envelope(
        max_v in 1000u32..1500, max_f in 150.0f64..900.0, want_v in 0u32..2000, want_f in 0.0f64..1200.0,
        v in 0u32..2000, f in 0.0f64..1200.0, temp in 20.0f64..90.0, power in 1.0f64..40.0,
        steps in 0usize..6,
    ) {
        let c = Config { max_voltage: max_v, max_frequency: max_f, ..cfg() };
        let env = c.envelope();
        let mut m = Memory::default();
        let mut at = Settings::new(v, f);
        for _ in 0..=steps {
            let (d, _) = decide(&c, &env, Settings::new(want_v, want_f), &obs(at.voltage, at.frequency, temp, power), &mut m);
            if let Decision::Move { to, reason } = d {
                let to = to.get();
                prop_assert!(env.contains(to));
                prop_assert!(to.voltage <= crate::safety::GAMMA_MAX_VOLTAGE_MV);
                if let Reason::Throttle(_) = reason {
                    prop_assert!(to.voltage <= at.voltage && to.frequency <= at.frequency);
                }
                at = to;
            }
        }
    }
}
