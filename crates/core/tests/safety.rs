//! The engine's safety behaviour against simulated miners with the firmware's faults: bounded
//! effort, the firmware's overheat recovery, emergency pre-emption, permits, shutdown.

mod support;

use std::time::Duration;

use bitaxe_core::config::ProfileOverride;
use bitaxe_core::events::Event;
use bitaxe_core::safety::Settings;
use bitaxe_core::MinerCommand;
use bitaxe_sim::{Faults, Personality};
use chrono::Duration as Minutes;
use support::*;

fn is_gave_up(name: &str) -> impl FnMut(&Event) -> bool + '_ {
    move |e| matches!(e, Event::GaveUp { miner, .. } if miner == name)
}

/// Collect every event for `for_` (real time), returning them.
async fn drain(h: &mut Harness, for_: Duration) -> Vec<Event> {
    let until = tokio::time::Instant::now() + for_;
    let mut out = Vec::new();
    while let Ok(Ok(e)) = tokio::time::timeout_at(until, h.events.recv()).await {
        out.push(e);
    }
    out
}

#[tokio::test]
async fn a_target_the_miner_ignores_is_given_up_once_within_the_write_bound() {
    let miners = sims(1, Personality::V2_14).await;
    miners[0].set_faults(Faults {
        ignore_patch: true,
        ..Faults::default()
    });
    let mut h = Harness::start(miners, NIGHT, |c| {
        c.retry_attempts = 1;
        c.give_up_backoff_minutes = 10.0;
    })
    .await;
    let e = h.expect("given up", 15, is_gave_up("sim-1")).await;
    let Event::GaveUp {
        target, retry_at, ..
    } = &e
    else {
        unreachable!()
    };
    assert_eq!(*target, Settings::new(1200, 550.0));
    assert_eq!(*retry_at, Some(utc(NIGHT) + Minutes::minutes(10)));
    let bound = 2 * (5 + 1);
    let first = h.miners[0].patches().len();
    assert!(first <= bound, "{first} PATCHes > {bound}");
    assert!(h.engine.status().miners[0].gave_up.is_some());
    // Held: no more writes and no second alert while polls go on.
    let later = drain(&mut h, Duration::from_millis(1500)).await;
    assert_eq!(h.miners[0].patches().len(), first);
    assert!(!later.iter().any(|e| matches!(e, Event::GaveUp { .. })));
    // The backoff ends: one more try with a fresh budget, then a doubled backoff.
    h.clock.advance(Minutes::minutes(10));
    let e = h.expect("given up again", 15, is_gave_up("sim-1")).await;
    assert!(
        matches!(e, Event::GaveUp { retry_at: Some(t), .. } if t == utc(NIGHT) + Minutes::minutes(30))
    );
    let second = h.miners[0].patches().len();
    assert!(second > first && second - first <= bound);
    // The user asks: tried again at once.
    h.engine
        .command("sim-1", MinerCommand::Retry)
        .await
        .expect("retry");
    h.expect("given up a third time", 15, is_gave_up("sim-1"))
        .await;
    assert!(h.miners[0].patches().len() > second);
}

#[tokio::test]
async fn a_truncated_frequency_is_reached_and_not_rewritten() {
    let miners = sims(1, Personality::V2_14).await;
    miners[0].set_faults(Faults {
        truncate_frequency: true,
        ..Faults::default()
    });
    let mut h = Harness::start(miners, NIGHT, |c| {
        c.smooth_transition = false;
        c.miners[0].night_settings = Some(ProfileOverride {
            voltage: Some(1200),
            frequency: Some(531.25),
        });
    })
    .await;
    h.expect("night", 10, done("sim-1")).await;
    assert_eq!(h.miner_settings(0), Settings::new(1200, 531.0));
    let writes = h.miners[0].patches().len();
    assert_eq!(writes, 2);
    let later = drain(&mut h, Duration::from_millis(1500)).await;
    assert_eq!(h.miners[0].patches().len(), writes, "no loop");
    assert!(!later
        .iter()
        .any(|e| matches!(e, Event::Drift { .. } | Event::GaveUp { .. })));
}

#[tokio::test]
async fn a_flagless_firmware_overheat_is_an_overheat_never_drift() {
    let miners = sims(1, Personality::V2_14).await;
    miners[0].set_faults(Faults {
        hide_overheat_flag: true,
        ..Faults::default()
    });
    let mut h = Harness::start(miners, DAY, |c| {
        c.smooth_transition = false;
        c.max_temp = 74.0;
        c.max_vr_temp = 104.9;
        c.max_power = 100.0;
        c.overheat_cooloff_minutes = 30.0;
    })
    .await;
    h.expect("day", 10, done("sim-1")).await;
    // Very hot air: the firmware stops the chip before the engine's next poll can throttle.
    h.miners[0].update(|s| s.ambient_c = 150.0);
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen
        .iter()
        .any(|e| matches!(e, Event::FirmwareOverheat { .. }))
    {
        let e = tokio::time::timeout_at(deadline, h.events.recv())
            .await
            .expect("overheat seen")
            .expect("bus");
        seen.push(e);
    }
    h.miners[0].update(|s| s.ambient_c = 25.0);
    loop {
        let e = tokio::time::timeout_at(deadline + Duration::from_secs(20), h.events.recv())
            .await
            .expect("fan restored")
            .expect("bus");
        let restored = matches!(e, Event::FanRestored { auto: true, .. });
        seen.push(e);
        if restored {
            break;
        }
    }
    let s = h.miners[0].state();
    assert!(s.nvs.autofanspeed, "fan back on automatic");
    assert_eq!(s.overheat_events, 1);
    let status = h.engine.status();
    let m = &status.miners[0];
    assert!(m.cooloff_until.is_some(), "{m:?}");
    // The firmware's -100 mV / -100 MHz from day (1100/425), or from one throttle step under it
    // when a poll caught the heat first (990 mV is then brought up to the 1000 mV floor).
    let cap = m.throttle_cap.expect("capped");
    assert!(
        cap == Settings::new(1000, 325.0) || cap == Settings::new(1000, 300.0),
        "{cap:?}"
    );
    seen.extend(drain(&mut h, Duration::from_millis(800)).await);
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Drift { .. })),
        "{:#?}",
        seen.iter().map(Event::describe).collect::<Vec<_>>()
    );
    // Held at the firmware's settings through the cool-off.
    assert_eq!(h.miner_settings(0), cap);
}

#[tokio::test]
async fn an_emergency_preempts_a_running_change_and_one_waiting_for_a_permit() {
    let mut h = Harness::start(sims(2, Personality::V2_14).await, NIGHT, |c| {
        c.max_workers = 1;
        c.transition_steps = 5;
        c.transition_delay = 1.0;
    })
    .await;
    // One miner runs its slow transition; the other waits for the permit but is still polled.
    let Event::TransitionStarted { miner: first, .. } = h
        .expect("one started", 5, |e| {
            matches!(e, Event::TransitionStarted { .. })
        })
        .await
    else {
        unreachable!()
    };
    let waiting = if first == "sim-1" { "sim-2" } else { "sim-1" };
    let seen = drain(&mut h, Duration::from_millis(700)).await;
    let polls = seen
        .iter()
        .filter(|e| matches!(e, Event::Sampled(s) if s.miner == waiting))
        .count();
    assert!(
        polls >= 2,
        "{waiting} keeps being polled while it waits ({polls})"
    );
    assert!(!seen
        .iter()
        .any(|e| matches!(e, Event::TransitionStarted { miner, .. } if miner == waiting)));
    let started = std::time::Instant::now();
    h.engine.emergency_stop().expect("stop");
    h.expect(
        "pre-empted",
        3,
        |e| matches!(e, Event::TransitionStopped { reason, .. } if reason.contains("emergency")),
    )
    .await;
    let safe = Settings::new(1100, 400.0);
    while h.miner_settings(0) != safe || h.miner_settings(1) != safe {
        assert!(started.elapsed() < Duration::from_secs(5), "safe in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_miner_waiting_for_a_permit_is_still_throttled() {
    let miners = sims(2, Personality::V2_14).await;
    let mut h = Harness::start(miners, NIGHT, |c| {
        c.max_workers = 1;
        c.transition_steps = 5;
        c.transition_delay = 2.0;
        c.max_power = 100.0;
        c.max_vr_temp = 104.9;
    })
    .await;
    let Event::TransitionStarted { miner: first, .. } = h
        .expect("one started", 5, |e| {
            matches!(e, Event::TransitionStarted { .. })
        })
        .await
    else {
        unreachable!()
    };
    let (other, idx) = if first == "sim-1" {
        ("sim-2", 1)
    } else {
        ("sim-1", 0)
    };
    // The waiting miner gets hot (max_temp 68 °C; the sim's die follows the air) while the
    // other's transition still has seconds to run.
    h.miners[idx].update(|s| s.ambient_c = 60.0);
    let e = h
        .expect(
            "throttled while waiting",
            6,
            |e| matches!(e, Event::Throttled { miner, .. } if miner == other),
        )
        .await;
    assert!(e.describe().contains("max_temp"), "{}", e.describe());
}

#[tokio::test]
async fn shutdown_during_a_long_transition_is_quick_and_leaves_every_miner_inside() {
    let miners = sims(3, Personality::V2_12).await;
    // This one takes nothing: it sits in a long retry backoff when shutdown comes.
    miners[2].set_faults(Faults {
        ignore_patch: true,
        ..Faults::default()
    });
    let mut h = Harness::start(miners, NIGHT, |c| {
        c.transition_steps = 5;
        c.transition_delay = 60.0;
        c.retry_delay = 60.0;
    })
    .await;
    h.expect("a step", 10, |e| matches!(e, Event::TransitionStep { .. }))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let finished = h.engine.shutdown(Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(finished, "every task ended");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    eprintln!("shutdown during a transition took {took:?}");
    let env = bitaxe_core::config::Config::default().envelope();
    for i in 0..3 {
        assert!(
            env.contains(h.miner_settings(i)),
            "{:?}",
            h.miner_settings(i)
        );
    }
}

#[tokio::test]
async fn pause_and_restart_go_through_the_miners_worker() {
    let h = Harness::start(sims(1, Personality::V2_14).await, DAY, |_| {}).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.engine.pause_miner("sim-1", true).await.expect("pause");
    assert_eq!(h.miners[0].state().phase, bitaxe_sim::Phase::Paused);
    h.engine.pause_miner("sim-1", false).await.expect("resume");
    assert_eq!(h.miners[0].state().phase, bitaxe_sim::Phase::Mining);
    let err = h.engine.restart_miner("nobody").await.expect_err("unknown");
    assert!(err.to_string().contains("nobody"), "{err}");
}

#[tokio::test]
async fn a_different_device_at_a_known_address_is_not_written_until_confirmed() {
    let mut h = Harness::start(sims(1, Personality::V2_14).await, DAY, |c| {
        c.smooth_transition = false;
    })
    .await;
    h.expect("day", 10, done("sim-1")).await;
    let recorded = bitaxe_core::identity::load(&h.path).expect("identity file");
    assert!(recorded.miners["sim-1"].known.mac.is_some());
    // Another device answers at the address, running other settings.
    h.miners[0].update(|s| {
        s.mac = Some("02:00:00:00:00:99".into());
        s.nvs.frequency = 500.0;
    });
    let e = h
        .expect("identity alert", 5, |e| {
            matches!(e, Event::IdentityChanged { .. })
        })
        .await;
    assert!(
        e.describe().contains("02:00:00:00:00:99"),
        "{}",
        e.describe()
    );
    let writes = h.miners[0].patches().len();
    let later = drain(&mut h, Duration::from_millis(1000)).await;
    assert_eq!(h.miners[0].patches().len(), writes, "not written to");
    assert!(
        !later
            .iter()
            .any(|e| matches!(e, Event::IdentityChanged { .. })),
        "said once"
    );
    assert!(h.engine.status().miners[0]
        .reason
        .contains("different device"));
    assert!(
        h.engine.status().miners[0].identity_pending,
        "status says so"
    );
    bitaxe_core::identity::confirm(&h.path, "sim-1").expect("confirm");
    h.expect("written after confirmation", 10, done("sim-1"))
        .await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 425.0));
    assert!(!h.engine.status().miners[0].identity_pending);
}
