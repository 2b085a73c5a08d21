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
        actual_frequency: Some(f),
        fan: Some(FanMode {
            auto: true,
            manual_percent: Some(100.0),
        }),
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
    // Cool in the same room: going back to 525 MHz, where it was 66 °C, would be hot again
    // (62 + 66 - 62 > 60), so it holds.
    for _ in 0..(c.restore_after * 3) {
        let (d, _) = decide(&c, &env, want, &obs(1180, 500.0, 59.0, 18.0), &mut m);
        assert_eq!(d, Decision::Nothing);
    }
    // The room cools: one throttle step back up, not straight to the target.
    let mut raised = None;
    for _ in 0..c.restore_after {
        let (d, f) = decide(&c, &env, want, &obs(1180, 500.0, 50.0, 18.0), &mut m);
        if let Some(to) = moved_to(&d) {
            assert_eq!(f, vec![Finding::Raised(Settings::new(1190, 525.0))]);
            raised = Some(to);
        }
    }
    assert_eq!(raised, Some(Settings::new(1190, 525.0)));
}

#[test]
fn restore_climbs_one_throttle_step_per_cool_streak() {
    let c = cfg();
    let env = c.envelope();
    let want = Settings::new(1200, 550.0);
    let mut m = Memory {
        throttle_cap: Some(Settings::new(1170, 475.0)),
        ..Memory::default()
    };
    let mut at = Settings::new(1170, 475.0);
    let mut moves = Vec::new();
    for _ in 0..(c.restore_after * 5) {
        let (d, _) = decide(
            &c,
            &env,
            want,
            &obs(at.voltage, at.frequency, 55.0, 18.0),
            &mut m,
        );
        if let Some(to) = moved_to(&d) {
            moves.push(to);
            at = to;
        }
    }
    assert_eq!(
        moves,
        vec![
            Settings::new(1180, 500.0),
            Settings::new(1190, 525.0),
            Settings::new(1200, 550.0)
        ]
    );
    assert_eq!(m.throttle_cap, None);
}

#[test]
fn a_hot_miner_that_hides_its_settings_gets_the_safe_settings() {
    let c = cfg();
    let env = c.envelope();
    let mut m = Memory::default();
    let hidden = Observation {
        reported: None,
        ..obs(1200, 550.0, 80.0, 20.0)
    };
    let (d, f) = decide(&c, &env, Settings::new(1200, 550.0), &hidden, &mut m);
    assert_eq!(moved_to(&d), Some(env.clamp(c.safe()).get()));
    assert!(matches!(&f[0], Finding::Hot(_)));
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
        vec![Finding::FirmwareResumed {
            at: Settings::new(1100, 450.0),
            cooloff_until: None
        }]
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

mod firmware_overheat {
    use super::*;
    use crate::schedule::Profile;
    use chrono::{DateTime, Duration, Utc};

    const FORCED: FanMode = FanMode {
        auto: false,
        manual_percent: Some(100.0),
    };

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_780_000_000, 0).expect("time") + Duration::minutes(min)
    }

    fn goal(s: Settings, min: i64) -> Goal {
        Goal {
            settings: s,
            profile: Some(Profile::night()),
            emergency: false,
            now: Some(t(min)),
        }
    }

    /// v2.14+ with the flag hidden: hashrate 0, clock 50 MHz, ASIC off, fan forced.
    fn stopped(v: u32, f: f64) -> Observation {
        Observation {
            temp: None,
            hashrate: Some(0.0),
            power: Some(5.0),
            actual_frequency: Some(50.0),
            fan: Some(FORCED),
            ..obs(v, f, 0.0, 5.0)
        }
    }

    fn forced(v: u32, f: f64, temp: f64) -> Observation {
        Observation {
            fan: Some(FORCED),
            ..obs(v, f, temp, 15.0)
        }
    }

    fn no_drift(f: &[Finding]) -> bool {
        !f.iter().any(|x| matches!(x, Finding::Drift { .. }))
    }

    #[test]
    fn the_signature_without_the_flag_is_an_overheat_never_drift() {
        let c = cfg();
        let env = c.envelope();
        let want = Settings::new(1200, 550.0);
        let mut m = Memory::default();
        // Running normally on automatic fan; confirmed.
        assert_eq!(
            decide(
                &c,
                &env,
                goal(want, 0),
                &obs(1200, 550.0, 60.0, 20.0),
                &mut m
            )
            .0,
            Decision::Nothing
        );
        let (d, f) = decide(&c, &env, goal(want, 1), &stopped(1200, 550.0), &mut m);
        assert_eq!(d, Decision::Wait);
        assert_eq!(f, vec![Finding::FirmwareOverheat]);
        // Resumed at -100/-100 with the fan still forced: held there, the fan put back.
        let (d, f) = decide(&c, &env, goal(want, 2), &forced(1100, 450.0, 55.0), &mut m);
        assert!(no_drift(&f), "{f:?}");
        assert!(matches!(f[0], Finding::FirmwareResumed { .. }), "{f:?}");
        assert_eq!(
            d,
            Decision::RestoreFan(FanMode {
                auto: true,
                manual_percent: Some(100.0)
            })
        );
        assert_eq!(m.throttle_cap, Some(Settings::new(1100, 450.0)));
        assert_eq!(m.cooloff_until, Some(t(2 + 30)));
        // The fan restore is written at most twice, then left alone; never a drift.
        let (d, f) = decide(&c, &env, goal(want, 3), &forced(1100, 450.0, 55.0), &mut m);
        assert!(matches!(d, Decision::RestoreFan(_)) && no_drift(&f));
        let (d, f) = decide(&c, &env, goal(want, 4), &forced(1100, 450.0, 55.0), &mut m);
        assert_eq!(d, Decision::Nothing);
        assert!(no_drift(&f));
    }

    #[test]
    fn a_missed_stop_is_recognised_from_the_reduced_settings_and_the_forced_fan() {
        let c = cfg();
        let env = c.envelope();
        let want = Settings::new(1200, 550.0);
        let mut m = Memory::default();
        decide(
            &c,
            &env,
            goal(want, 0),
            &obs(1200, 550.0, 60.0, 20.0),
            &mut m,
        );
        let (d, f) = decide(&c, &env, goal(want, 5), &forced(1100, 450.0, 50.0), &mut m);
        assert!(no_drift(&f), "{f:?}");
        assert_eq!(f[0], Finding::FirmwareOverheat);
        assert!(matches!(f[1], Finding::FirmwareResumed { .. }));
        assert!(matches!(
            d,
            Decision::RestoreFan(FanMode { auto: true, .. })
        ));
        assert_eq!(m.throttle_cap, Some(Settings::new(1100, 450.0)));
    }

    #[test]
    fn after_the_cooloff_it_climbs_back_one_throttle_step_at_a_time() {
        let c = cfg();
        let env = c.envelope();
        let want = Settings::new(1200, 550.0);
        let mut m = Memory::default();
        decide(
            &c,
            &env,
            goal(want, 0),
            &obs(1200, 550.0, 60.0, 20.0),
            &mut m,
        );
        decide(&c, &env, goal(want, 1), &stopped(1200, 550.0), &mut m);
        decide(
            &c,
            &env,
            goal(want, 2),
            &obs(1100, 450.0, 50.0, 15.0),
            &mut m,
        );
        // Cool all through the cool-off: no raise.
        for min in 3..32 {
            let (d, _) = decide(
                &c,
                &env,
                goal(want, min),
                &obs(1100, 450.0, 50.0, 15.0),
                &mut m,
            );
            assert_eq!(d, Decision::Nothing, "minute {min}");
        }
        let mut at = Settings::new(1100, 450.0);
        let mut moves = Vec::new();
        for min in 32..60 {
            let (d, _) = decide(
                &c,
                &env,
                goal(want, min),
                &obs(at.voltage, at.frequency, 50.0, 15.0),
                &mut m,
            );
            if let Some(to) = moved_to(&d) {
                moves.push(to);
                at = to;
            }
        }
        assert_eq!(moves[0], Settings::new(1125, 475.0));
        assert_eq!(moves.len(), 4, "{moves:?}");
        assert_eq!(moves.last(), Some(&want));
        for w in moves.windows(2) {
            assert!(w[1].frequency - w[0].frequency <= THROTTLE_STEP_MHZ + 1e-9);
        }
    }

    #[test]
    fn a_second_overheat_at_a_profile_within_a_day_lowers_its_ceiling() {
        let c = cfg();
        let env = c.envelope();
        let want = Settings::new(1200, 550.0);
        let mut m = Memory::default();
        for (start, expect_lowered) in [(0, false), (120, true)] {
            decide(
                &c,
                &env,
                goal(want, start),
                &obs(1200, 550.0, 60.0, 20.0),
                &mut m,
            );
            let (_, f) = decide(
                &c,
                &env,
                goal(want, start + 1),
                &stopped(1200, 550.0),
                &mut m,
            );
            assert_eq!(
                f.contains(&Finding::CeilingLowered {
                    profile: Profile::night(),
                    steps: 1
                }),
                expect_lowered,
                "{f:?}"
            );
            decide(
                &c,
                &env,
                goal(want, start + 2),
                &obs(1100, 450.0, 50.0, 15.0),
                &mut m,
            );
            // Pretend the cool-off and restore ran: the miner is back at its goal.
            m.throttle_cap = None;
            m.cooloff_until = None;
        }
        assert_eq!(m.ceiling(Profile::night()), 1);
        // The night goal is now one throttle step lower on this miner.
        let (d, _) = decide(
            &c,
            &env,
            goal(want, 200),
            &obs(1200, 550.0, 50.0, 15.0),
            &mut m,
        );
        assert_eq!(moved_to(&d), Some(Settings::new(1190, 525.0)));
        m.clear_ceilings();
        let (d, _) = decide(
            &c,
            &env,
            goal(want, 201),
            &obs(1190, 525.0, 50.0, 15.0),
            &mut m,
        );
        assert_eq!(moved_to(&d), Some(want));
    }
}

/// Properties over SEQUENCES of observations, not single polls.
mod sequences {
    use super::*;

    /// A miner whose die follows its settings at once: hotter with clock and voltage.
    fn temp_of(s: Settings, ambient: f64, per_25_mhz: f64) -> f64 {
        ambient + per_25_mhz * s.frequency / 25.0 + f64::from(s.voltage.saturating_sub(1000)) / 20.0
    }

    fn steady(at: Settings, temp: f64) -> Observation {
        Observation {
            power: Some(15.0),
            ..obs(at.voltage, at.frequency, temp, 15.0)
        }
    }

    fn any_settings() -> impl Strategy<Value = Settings> {
        (1000u32..1300, 300.0f64..650.0).prop_map(|(v, f)| Settings::new(v, f))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// In a steady room, a throttle episode never raises, lowers and raises again.
        #[test]
        fn no_raise_lower_raise_within_a_throttle_episode(
            ambient in 0.0f64..40.0, per_step in 0.2f64..3.0, hysteresis in 0.5f64..8.0,
            restore_after in 1u32..4, goal in any_settings(), start in any_settings(),
            polls in 20usize..200,
        ) {
            let c = Config { temp_hysteresis: hysteresis, restore_after, max_power: 100.0, max_vr_temp: 200.0, ..cfg() };
            let env = c.envelope();
            let mut m = Memory::default();
            let mut at = env.clamp(start).get();
            // An episode: from a hot reading until the throttle cap goes, or until a raise after
            // the documented long hold (HOLD_BEFORE_RETRY × restore_after quiet checks).
            let hold = HOLD_BEFORE_RETRY * restore_after;
            let mut episode = 0u32;
            let mut in_episode = false;
            let mut quiet = 0u32;
            let mut moves: Vec<(u32, f64)> = Vec::new();
            for _ in 0..polls {
                let (d, f) = decide(&c, &env, goal, &steady(at, temp_of(at, ambient, per_step)), &mut m);
                if f.iter().any(|x| matches!(x, Finding::Hot(_))) && !in_episode {
                    in_episode = true;
                    episode += 1;
                }
                match moved_to(&d) {
                    Some(to) => {
                        let up = to.frequency > at.frequency + 1e-9;
                        if in_episode && up && quiet >= hold {
                            episode += 1;
                        }
                        if in_episode && (to.frequency - at.frequency).abs() > 1e-9 {
                            moves.push((episode, (to.frequency - at.frequency).signum()));
                        }
                        at = to;
                        quiet = 0;
                    }
                    None => quiet += 1,
                }
                if m.throttle_cap.is_none() {
                    in_episode = false;
                }
            }
            for e in 0..=episode {
                let dirs: Vec<f64> = moves.iter().filter(|(x, _)| *x == e).map(|(_, d)| *d).collect();
                let mut up_then_down = false;
                let mut was_up = false;
                for d in &dirs {
                    if *d > 0.0 {
                        prop_assert!(!up_then_down, "episode {e}: {dirs:?}");
                        was_up = true;
                    } else if was_up {
                        up_then_down = true;
                    }
                }
            }
        }

        /// Once an emergency holds, every move is at or under the safe settings, and a miner above
        /// them is moved at once (unless the firmware has the chip stopped).
        #[test]
        fn an_emergency_always_wins(
            goal in any_settings(),
            seq in proptest::collection::vec((any_settings(), 30.0f64..90.0, 5.0f64..40.0, any::<bool>(), any::<bool>()), 1..40),
            switch_at in 0usize..40,
        ) {
            let c = cfg();
            let env = c.envelope();
            let safe = env.clamp(c.safe()).get();
            let mut m = Memory { confirmed: Some(goal), ..Memory::default() };
            for (i, (reported, temp, power, flag, forced)) in seq.into_iter().enumerate() {
                let emergency = i >= switch_at;
                let g = Goal { settings: goal, profile: None, emergency, now: None };
                let o = Observation {
                    overheat_flag: flag && i % 3 == 0,
                    fan: Some(FanMode { auto: !forced, manual_percent: Some(100.0) }),
                    ..obs(reported.voltage, reported.frequency, temp, power)
                };
                let (d, _) = decide(&c, &env, g, &o, &mut m);
                if !emergency {
                    continue;
                }
                match d {
                    Decision::Move { to, .. } => {
                        let to = to.get();
                        prop_assert!(to.voltage <= safe.voltage && to.frequency <= safe.frequency + 1e-9, "{to:?}");
                    }
                    Decision::Wait => prop_assert!(o.overheat_flag || m.firmware_overheat),
                    Decision::Nothing => {
                        let r = env.clamp(reported).get();
                        prop_assert!(
                            env.contains(reported) && r.voltage <= safe.voltage && r.frequency < safe.frequency + SAME_FREQUENCY_MHZ,
                            "left at {reported:?} in an emergency"
                        );
                    }
                    Decision::RestoreFan(_) => prop_assert!(false, "a fan write before the emergency move"),
                }
            }
        }

        /// A target is re-applied after drift at most `max_drift_fixes` times, whatever the miner
        /// (or a person) does to it.
        #[test]
        fn drift_fixes_are_bounded(
            goal in any_settings(), max_fixes in 0u32..5,
            drifts in proptest::collection::vec(proptest::option::of(any_settings()), 1..80),
        ) {
            let c = Config { max_drift_fixes: max_fixes, ..cfg() };
            let env = c.envelope();
            let want = env.clamp(goal).get();
            let mut m = Memory::default();
            let mut at = want;
            let mut moves = 0;
            for drift in drifts {
                if let Some(d) = drift {
                    at = env.clamp(d).get();
                }
                let (d, _) = decide(&c, &env, goal, &obs(at.voltage, at.frequency, 50.0, 15.0), &mut m);
                if let Some(to) = moved_to(&d) {
                    // As the worker does when a move is read back.
                    moves += 1;
                    at = to;
                    m.confirmed = Some(to);
                }
            }
            prop_assert!(moves <= max_fixes + 1, "{moves} moves for one target");
        }
    }
}
