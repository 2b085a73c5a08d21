//! Off on simulated miners of both firmware generations: paused where the firmware can
//! (v2.14+), the lowest safe settings elsewhere, paused again after a reboot resumed it, and
//! resumed (then moved to the new target step by step) on leaving Off.

mod support;

use std::time::Duration;

use bitaxe_core::budget::PowerBudget;
use bitaxe_core::events::Event;
use bitaxe_core::safety::Settings;
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

fn set_budget(h: &Harness, watts: f64) {
    let mut cfg = (*h.engine.config()).clone();
    cfg.power_budget = budget(watts);
    h.engine.save_config(cfg).expect("save");
}

/// v2.14: a budget of 0 W puts every miner on Off: paused (core off, about 5 W). A reboot resumes
/// mining on the miner; the engine pauses it again. Room again: resumed, then back on day.
#[tokio::test]
async fn off_pauses_v2_14_again_after_a_reboot_and_resumes_on_leaving() {
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
    // The firmware forgets a pause across a reboot.
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

/// v2.12 has no pause route: Off runs the lowest safe settings (min_voltage / min_frequency,
/// inside the model's envelope) through the normal stepwise path, and leaves them on leaving Off.
#[tokio::test]
async fn off_on_v2_12_runs_the_lowest_safe_settings() {
    let mut h = Harness::start(sims(1, Personality::V2_12).await, DAY, |c| {
        c.power_budget = budget(0.0);
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
    set_budget(&h, 200.0);
    h.expect("back on day", 15, |e| {
        matches!(e, Event::TransitionDone { settings, .. } if *settings == Settings::new(1150, 525.0))
    })
    .await;
    assert_eq!(h.miner_settings(0), Settings::new(1150, 525.0));
}
