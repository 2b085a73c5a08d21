//! Off on simulated miners of both firmware generations: paused where the firmware can
//! (v2.14+), the lowest safe settings elsewhere, paused again after a reboot resumed it, and
//! resumed (then moved to the new target step by step) on leaving Off.

mod support;

use std::time::Duration;

use bitaxe_core::budget::PowerBudget;
use bitaxe_core::config::{ClockTime, Config};
use bitaxe_core::events::Event;
use bitaxe_core::safety::Settings;
use bitaxe_core::schedule::{Period, PlanConfig};
use bitaxe_sim::Personality;
use support::*;
use tokio::time::Instant;

fn budget(watts: f64) -> Option<PowerBudget> {
    Some(PowerBudget {
        watts,
        stagger_seconds: 0,
    })
}

async fn until(what: &str, secs: u64, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Day by default, Off from 20:00 to 07:30, Quiet from 07:30 to 10:00 (every day).
fn off_at_night(c: &mut Config) {
    let period = |from: ClockTime, to: ClockTime, profile: &str| Period {
        days: None,
        from,
        to,
        profile: profile.into(),
    };
    c.plan = Some(PlanConfig {
        default: "day".into(),
        week: vec![
            period(ClockTime::hm(20, 0), ClockTime::hm(7, 30), "off"),
            period(ClockTime::hm(7, 30), ClockTime::hm(10, 0), "quiet"),
        ],
        exceptions: Vec::new(),
    });
}

fn set_budget(h: &Harness, watts: f64) {
    let mut cfg = (*h.engine.config()).clone();
    cfg.power_budget = budget(watts);
    h.engine.save_config(cfg).expect("save");
}

/// v2.14, Off in the plan: paused at 20:00 (core off, about 5 W, no PATCH), paused again when a
/// reboot resumed it, resumed at 07:30 and then moved to Quiet step by step.
#[tokio::test]
async fn the_plans_off_pauses_v2_14_again_after_a_reboot_and_resumes_on_leaving() {
    let mut h = Harness::start(sims(2, Personality::V2_14).await, DAY, off_at_night).await;
    h.expect_done(&["sim-1", "sim-2"]).await;
    let before = h.miners[0].patches().len();
    h.clock.set(utc(NIGHT));
    for _ in 0..2 {
        let e = h
            .expect("paused", 10, |e| matches!(e, Event::MiningPaused { .. }))
            .await;
        if let Event::MiningPaused { reason, .. } = e {
            assert_eq!(reason, "plan: off");
            assert_eq!(
                Event::MiningPaused {
                    miner: "Demo 1".into(),
                    reason
                }
                .describe(),
                "paused (plan: off)"
            );
        }
    }
    let sims = h.miners.clone();
    until("both paused", 5, || sims.iter().all(|m| m.paused())).await;
    assert!(sims.iter().all(|m| m.power() < 5.5));
    assert_eq!(sims[0].patches().len(), before, "paused, not patched");
    let why = h.engine.status().miners[0]
        .plan_why
        .clone()
        .unwrap_or_default();
    assert!(why.starts_with("Off: plan"), "{why}");
    h.engine.restart_miner("sim-1").await.expect("restart");
    let e = h
        .expect(
            "paused again",
            15,
            |e| matches!(e, Event::MiningPaused { miner, .. } if miner == "sim-1"),
        )
        .await;
    if let Event::MiningPaused { reason, .. } = e {
        assert!(reason.contains("mining again"), "{reason}");
    }
    until("paused again", 5, || sims[0].paused()).await;
    // 07:30: Quiet. Resumed first, then the stepwise move from day's settings.
    h.clock.set(utc("2026-06-02 08:00"));
    h.expect("resumed", 10, |e| matches!(e, Event::MiningResumed { .. }))
        .await;
    h.expect_done(&["sim-1", "sim-2"]).await;
    for (i, m) in sims.iter().enumerate() {
        assert!(!m.paused());
        assert_eq!(h.miner_settings(i), Settings::new(1050, 400.0));
    }
}

/// v2.14: a budget of 0 W puts every miner on Off: paused (core off, about 5 W). Room again:
/// resumed, then back on day.
#[tokio::test]
async fn a_budget_of_zero_pauses_v2_14_and_room_resumes_it() {
    let mut h = Harness::start(sims(2, Personality::V2_14).await, DAY, |c| {
        c.power_budget = budget(0.0);
    })
    .await;
    for _ in 0..2 {
        let e = h
            .expect("paused", 10, |e| matches!(e, Event::MiningPaused { .. }))
            .await;
        if let Event::MiningPaused { reason, .. } = e {
            assert_eq!(reason, "power budget: off");
        }
    }
    let sims = h.miners.clone();
    until("both paused", 5, || sims.iter().all(|m| m.paused())).await;
    for m in &sims {
        assert!(m.power() < 5.5, "{} draws {} W paused", m.name(), m.power());
        assert!(
            m.patches().is_empty(),
            "paused, not patched: {:?}",
            m.patches()
        );
    }
    // Room again: resume, then the normal move to day.
    set_budget(&h, 200.0);
    h.expect("resumed", 10, |e| matches!(e, Event::MiningResumed { .. }))
        .await;
    h.expect_done(&["sim-1", "sim-2"]).await;
    for (i, m) in sims.iter().enumerate() {
        assert!(!m.paused());
        assert_eq!(h.miner_settings(i), Settings::new(1100, 425.0));
    }
    assert!(sims.iter().all(|m| m.power() > 10.0));
}

/// v2.12 has no pause route: the plan's Off runs the lowest safe settings (min_voltage /
/// min_frequency, inside the model's envelope) through the normal stepwise path, and the next
/// profile's settings come back on leaving Off.
#[tokio::test]
async fn the_plans_off_on_v2_12_runs_the_lowest_safe_settings() {
    let mut h = Harness::start(sims(1, Personality::V2_12).await, DAY, |c| {
        off_at_night(c);
        // Older firmware is paced by its 1.8 s power loop in real time: one short step each way
        // keeps the test short (day is what the sim starts on).
        c.global_day_settings.voltage = 1150;
        c.global_day_settings.frequency = 525.0;
        c.min_voltage = 1100;
        c.min_frequency = 475.0;
        c.safe_settings.voltage = 1100;
        c.safe_settings.frequency = 475.0;
        c.smooth_transition = false;
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    h.clock.set(utc(NIGHT));
    let w = h
        .expect(
            "cannot pause",
            10,
            |e| matches!(e, Event::Warning { message } if message.contains("cannot pause")),
        )
        .await;
    if let Event::Warning { message } = w {
        assert!(message.contains("lowest safe settings"), "{message}");
    }
    h.expect("at the lowest settings", 15, done("sim-1")).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 475.0));
    assert!(!h.miners[0].paused());
    h.clock.set(utc("2026-06-02 12:00"));
    h.expect("back on day", 15, |e| {
        matches!(e, Event::TransitionDone { settings, .. } if *settings == Settings::new(1150, 525.0))
    })
    .await;
    assert_eq!(h.miner_settings(0), Settings::new(1150, 525.0));
}
