//! The engine against real simulated miners on loopback: schedule, steps, faults, safety, locks.

mod support;

use std::time::Duration;

use bitaxe_core::config::{ClockTime, Config, MinerConfig, ProfileOverride};
use bitaxe_core::events::{Event, MinerState};
use bitaxe_core::safety::Settings;
use bitaxe_core::schedule::Profile;
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::{Faults, Personality, SimMiner};
use serde_json::json;
use support::*;

#[tokio::test]
async fn night_is_applied_in_five_ordered_steps_on_every_miner() {
    let mut h = Harness::start(sims(3, Personality::V2_14).await, NIGHT, |_| {}).await;
    h.expect_done(&["sim-1", "sim-2", "sim-3"]).await;
    let night = Settings::new(1200, 550.0);
    for i in 0..3 {
        assert_eq!(h.miner_settings(i), night);
        let patches = h.miners[i].patches();
        // 1150/525 -> 1200/550 is "up": each step writes voltage, then frequency.
        assert_eq!(patches.len(), 10, "{patches:?}");
        for pair in patches.chunks(2) {
            assert!(
                pair[0].get("coreVoltage").is_some() && pair[0].get("frequency").is_none(),
                "{pair:?}"
            );
            assert!(pair[1].get("frequency").is_some(), "{pair:?}");
        }
        assert_eq!(patches[9], json!({"frequency": 550}));
        for p in &patches {
            assert!(p.get("coreVoltage").and_then(|v| v.as_u64()).unwrap_or(0) <= 1300);
        }
    }
    let status = h.engine.status();
    assert_eq!(status.profile, Profile::night());
    assert_eq!(status.totals.total, 3);
    // The schedule turns to day: frequency comes down before voltage.
    h.clock.set(utc("2026-06-02 08:00"));
    let name = h.miners[0].name().to_string();
    h.expect("day profile", 5, |e| {
        matches!(
            e,
            Event::ProfileChanged { profile, .. } if *profile == Profile::day()
        )
    })
    .await;
    h.expect("day applied", 10, done(&name)).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 425.0));
    let patches = h.miners[0].patches();
    assert!(
        patches[10].get("frequency").is_some(),
        "down: frequency first: {:?}",
        &patches[10..]
    );
    assert!(
        patches[11].get("coreVoltage").is_some(),
        "then the voltage: {:?}",
        &patches[10..]
    );
    h.assert_no_brownouts();
}

#[tokio::test]
async fn per_miner_partial_override_inherits_the_global_frequency() {
    let mut h = Harness::start(sims(1, Personality::V2_12).await, NIGHT, |c| {
        c.smooth_transition = false;
        c.miners[0].night_settings = Some(ProfileOverride {
            voltage: Some(1180),
            frequency: None,
        });
    })
    .await;
    h.expect("applied", 10, done("sim-1")).await;
    assert_eq!(h.miner_settings(0), Settings::new(1180, 550.0));
    assert_eq!(h.miners[0].patches().len(), 2, "one step: two writes");
}

#[tokio::test]
async fn a_dead_miner_goes_offline_and_never_delays_the_others() {
    let miners = sims(3, Personality::V2_14).await;
    miners[1].set_faults(Faults {
        black_hole: true,
        ..Faults::default()
    });
    miners[2].set_faults(Faults {
        offline: true,
        ..Faults::default()
    });
    miners[2].settle().await;
    let mut h = Harness::start(miners, DAY, |c| c.smooth_transition = false).await;
    // In either order (under load the refusing one can be declared offline first).
    let (mut healthy_done, mut refusing_offline) = (false, false);
    while !(healthy_done && refusing_offline) {
        let e = h
            .expect("healthy one done, refusing one offline", 10, |e| {
                done("sim-1")(e) || matches!(e, Event::StateChanged { miner, to: MinerState::Offline, .. } if miner == "sim-3")
            })
            .await;
        healthy_done |= matches!(&e, Event::TransitionDone { miner, .. } if miner == "sim-1");
        refusing_offline |= matches!(&e, Event::StateChanged { miner, .. } if miner == "sim-3");
    }
    h.expect("black hole offline", 10, |e| matches!(e, Event::StateChanged { miner, to: MinerState::Offline, .. } if miner == "sim-2")).await;
    // Meanwhile the healthy miner kept being polled every 0.2 s.
    let before = h.miners[0].requests().len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        h.miners[0].requests().len() >= before + 2,
        "healthy miner still polled"
    );
    let status = h.engine.status();
    let s3 = status
        .miners
        .iter()
        .find(|m| m.name == "sim-3")
        .expect("sim-3");
    assert!(s3.reason.contains("refused"), "{}", s3.reason);
    assert_eq!(status.totals.online, 1);
    // Back online.
    h.miners[2].set_faults(Faults::default());
    h.expect("back online", 20, |e| matches!(e, Event::StateChanged { miner, from: MinerState::Offline, .. } if miner == "sim-3")).await;
}

#[tokio::test]
async fn bad_replies_are_isolated_and_reported() {
    let miners = sims(2, Personality::V2_14).await;
    miners[0].set_faults(Faults {
        malformed: true,
        ..Faults::default()
    });
    miners[1].set_faults(Faults {
        http500: true,
        ..Faults::default()
    });
    let mut h = Harness::start(miners, DAY, |_| {}).await;
    let e = h
        .expect(
            "invalid json",
            5,
            |e| matches!(e, Event::PollFailed { miner, .. } if miner == "sim-1"),
        )
        .await;
    assert!(e.describe().contains("invalid JSON"), "{}", e.describe());
    let e = h
        .expect(
            "500",
            5,
            |e| matches!(e, Event::PollFailed { miner, .. } if miner == "sim-2"),
        )
        .await;
    assert!(e.describe().contains("500"), "{}", e.describe());
    h.miners[0].set_faults(Faults {
        truncated: true,
        ..Faults::default()
    });
    h.expect("offline after 3", 5, |e| matches!(e, Event::StateChanged { miner, to: MinerState::Offline, .. } if miner == "sim-1")).await;
    assert!(
        h.miners[0].patches().is_empty(),
        "nothing is written to a miner that does not answer sensibly"
    );
}

#[tokio::test]
async fn a_hot_miner_is_throttled_then_restored_when_cool() {
    let miners = sims(1, Personality::V2_14).await;
    let mut h = Harness::start(miners, NIGHT, |c| {
        c.smooth_transition = false;
        c.max_temp = 66.0;
        c.restore_after = 2;
    })
    .await;
    h.expect("night", 10, done("sim-1")).await;
    // A heat wave: 20x sim speed, the die warms within a couple of seconds.
    h.miners[0].update(|s| {
        s.ambient_c = 30.0;
        s.nvs.autofanspeed = false;
        s.nvs.manual_fan = 40.0;
    });
    let e = h
        .expect("throttled", 20, |e| matches!(e, Event::Throttled { .. }))
        .await;
    assert!(e.describe().contains("max_temp"), "{}", e.describe());
    h.expect("stepped down", 5, done("sim-1")).await;
    let s = h.miner_settings(0);
    assert!(
        s.frequency < 550.0 && s.voltage < 1200,
        "stepped down: {s:?}"
    );
    let status = h.engine.status();
    assert!(
        matches!(
            status.miners[0].state,
            MinerState::Throttled | MinerState::Transitioning
        ),
        "{:?}",
        status.miners[0].state
    );
    h.miners[0].update(|s| {
        s.ambient_c = 20.0;
        s.nvs.autofanspeed = true;
    });
    h.expect("restored", 30, |e| matches!(e, Event::Restored { .. }))
        .await;
    h.expect("schedule back", 10, done("sim-1")).await;
    assert_eq!(h.miner_settings(0), Settings::new(1200, 550.0));
}

#[tokio::test]
async fn power_over_the_limit_throttles() {
    let mut h = Harness::start(sims(1, Personality::V2_14).await, NIGHT, |c| {
        c.smooth_transition = false;
        c.max_power = 20.0;
    })
    .await;
    let e = h
        .expect("throttled on power", 15, |e| {
            matches!(e, Event::Throttled { .. })
        })
        .await;
    assert!(e.describe().contains("max_power"), "{}", e.describe());
    let status = h.engine.status();
    assert!(
        status.miners[0].reason.contains("max_power") || status.miners[0].throttle_cap.is_some()
    );
}

#[tokio::test]
async fn settings_changed_by_the_firmware_are_detected_and_reapplied() {
    let mut h = Harness::start(sims(1, Personality::V2_14).await, DAY, |c| {
        c.smooth_transition = false
    })
    .await;
    h.expect("day", 10, done("sim-1")).await;
    // Someone (or the firmware) writes other settings.
    h.miners[0].update(|s| {
        s.nvs.core_voltage = 1150;
        s.nvs.frequency = 500.0;
    });
    let e = h
        .expect("drift", 5, |e| matches!(e, Event::Drift { .. }))
        .await;
    assert!(e.describe().contains("re-applying"), "{}", e.describe());
    h.expect("re-applied", 5, done("sim-1")).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 425.0));
}

#[tokio::test]
async fn firmware_overheat_is_waited_out_and_its_settings_held() {
    let miners = sims(1, Personality::V2_12).await;
    let mut h = Harness::start(miners, DAY, |c| {
        c.smooth_transition = false;
        c.max_temp = 74.5; // the highest a config may say (below the firmware's 75 °C)
        c.max_vr_temp = 104.5;
    })
    .await;
    h.expect("day", 10, done("sim-1")).await;
    h.miners[0].update(|s| s.ambient_c = 80.0);
    h.expect("overheated", 20, |e| {
        matches!(
            e,
            Event::StateChanged {
                to: MinerState::Overheated,
                ..
            }
        )
    })
    .await;
    let writes_during = h.miners[0].patches().len();
    h.miners[0].update(|s| s.ambient_c = 25.0);
    let e = h
        .expect(
            "resumed",
            30,
            |e| matches!(e, Event::Throttled { reason, .. } if reason.contains("firmware")),
        )
        .await;
    assert!(
        e.describe().contains("1000mV @ 325MHz"),
        "-100 mV / -100 MHz from 1100/425: {}",
        e.describe()
    );
    // Nothing was written while the firmware was cooling the chip.
    let patches = h.miners[0].patches();
    assert!(patches.len() <= writes_during + 1, "{patches:?}");
}

#[tokio::test]
async fn a_miner_outside_the_envelope_is_brought_inside_in_one_step_first() {
    let miners = sims(1, Personality::V2_10).await;
    miners[0].update(|s| {
        s.nvs.core_voltage = 1400;
        s.nvs.frequency = 700.0;
    });
    // Old firmware: one loop pass plus the ramp per lowering step, so few steps.
    let mut h = Harness::start(miners, DAY, |c| c.transition_steps = 2).await;
    let e = h
        .expect("safety correction", 5, |e| {
            matches!(e, Event::SafetyCorrection { .. })
        })
        .await;
    assert!(e.describe().contains("1250mV @ 600MHz"), "{}", e.describe());
    h.expect("inside", 5, done("sim-1")).await;
    let patches = h.miners[0].patches();
    assert_eq!(
        patches[0],
        json!({"frequency": 600}),
        "down: frequency first"
    );
    assert_eq!(patches[1], json!({"coreVoltage": 1250}));
    h.expect("then the schedule", 15, done("sim-1")).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 425.0));
    h.assert_no_brownouts();
}

#[tokio::test]
async fn emergency_stop_sticks_until_resumed() {
    let mut h = Harness::start(sims(2, Personality::V2_14).await, NIGHT, |c| {
        c.smooth_transition = false
    })
    .await;
    h.expect_done(&["sim-1", "sim-2"]).await;
    h.engine.emergency_stop().expect("stop");
    h.expect_done(&["sim-1", "sim-2"]).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 400.0));
    // A schedule boundary passes; the stop holds.
    h.clock.set(utc("2026-06-02 23:30"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 400.0));
    assert!(h.engine.status().emergency);
    // Survives a restart of the engine too.
    h.engine.shutdown(Duration::from_secs(5)).await;
    let overrides = bitaxe_core::overrides::Overrides::load(&h.path).expect("state");
    assert!(overrides.emergency);
    let mut opts = EngineOptions::new(&h.path);
    opts.clock = h.clock.clone();
    opts.watch_every = Duration::from_millis(50);
    let engine = EngineHandle::start(opts).expect("restart");
    let mut rx = engine.subscribe();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 400.0));
    engine.resume().expect("resume");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let e = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("night again")
            .expect("bus");
        if matches!(&e, Event::TransitionDone { miner, .. } if miner == "sim-1") {
            break;
        }
    }
    assert_eq!(h.miner_settings(0), Settings::new(1200, 550.0));
}

#[tokio::test]
async fn a_newer_target_replaces_a_transition_under_way() {
    let mut h = Harness::start(sims(1, Personality::V2_14).await, NIGHT, |c| {
        c.transition_steps = 10;
        c.transition_delay = 0.3;
    })
    .await;
    h.expect("started", 5, |e| {
        matches!(e, Event::TransitionStarted { .. })
    })
    .await;
    h.expect("a step", 5, |e| matches!(e, Event::TransitionStep { .. }))
        .await;
    h.engine.apply(Profile::day()).expect("apply day");
    h.expect("stopped", 5, |e| {
        matches!(e, Event::TransitionStopped { .. })
    })
    .await;
    h.expect("day done", 15, done("sim-1")).await;
    assert_eq!(h.miner_settings(0), Settings::new(1100, 425.0));
    assert_eq!(h.engine.status().source, "manual");
}

#[tokio::test]
async fn at_most_max_workers_miners_change_at_once() {
    let mut h = Harness::start(sims(4, Personality::V2_14).await, NIGHT, |c| {
        c.max_workers = 2;
        c.transition_steps = 3;
        c.transition_delay = 0.2;
    })
    .await;
    let mut running = 0i32;
    let mut peak = 0;
    let mut finished = 0;
    while finished < 4 {
        let e = h
            .expect("transitions", 20, |e| {
                matches!(
                    e,
                    Event::TransitionStarted { .. } | Event::TransitionDone { .. }
                )
            })
            .await;
        match e {
            Event::TransitionStarted { .. } => running += 1,
            _ => {
                running -= 1;
                finished += 1;
            }
        }
        peak = peak.max(running);
    }
    assert_eq!(peak, 2);
}

#[tokio::test]
async fn a_stall_is_detected() {
    let miners = sims(1, Personality::V2_14).await;
    let mut h = Harness::start(miners, DAY, |c| c.smooth_transition = false).await;
    h.expect("day", 10, done("sim-1")).await;
    h.miners[0].update(|s| s.faults.stall = true);
    h.expect("stalled", 10, |e| {
        matches!(
            e,
            Event::StateChanged {
                to: MinerState::Stalled,
                ..
            }
        )
    })
    .await;
}

#[tokio::test]
async fn one_engine_per_config_and_config_changes_are_picked_up() {
    let miners = sims(2, Personality::V2_14).await;
    let first = miners[0].clone();
    let mut h = Harness::start(vec![first], DAY, |c| c.smooth_transition = false).await;
    let mut opts = EngineOptions::new(&h.path);
    opts.watch_every = Duration::from_millis(50);
    let err = EngineHandle::start(opts)
        .err()
        .expect("second engine refused");
    assert_eq!(err.code(), "engine_locked");
    assert!(err.to_string().contains("already running"));
    // Add the second miner to the file by hand.
    let mut cfg = Config::load(&h.path).expect("load");
    cfg.miners.push(MinerConfig {
        profiles: Default::default(),
        name: "late".into(),
        ip: miners[1].url(),
        enabled: true,
        day_settings: None,
        night_settings: None,
        limits: None,
    });
    cfg.global_day_settings.start_time = ClockTime::hm(6, 0);
    cfg.save(&h.path).expect("save");
    h.expect("reloaded", 5, |e| matches!(e, Event::ConfigReloaded))
        .await;
    h.expect("late miner applied", 10, done("late")).await;
    // A broken edit is refused and the running config kept.
    std::fs::write(&h.path, "{ broken").expect("write");
    let e = h
        .expect("warning", 5, |e| matches!(e, Event::Warning { .. }))
        .await;
    assert!(e.describe().contains("line 1"), "{}", e.describe());
    assert_eq!(h.engine.config().miners.len(), 2);
}

#[tokio::test]
async fn shutdown_flushes_statistics_and_history() {
    let mut h = Harness::start(sims(2, Personality::V2_14).await, NIGHT, |_| {}).await;
    for _ in 0..6 {
        h.expect("samples", 5, |e| matches!(e, Event::Sampled(_)))
            .await;
    }
    assert!(
        h.engine.shutdown(Duration::from_secs(5)).await,
        "every task ended"
    );
    let stats_path = h.path.with_file_name("multi_bitaxe_stats.json");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats_path).expect("stats")).expect("json");
    let m = &stats["miners"]["sim-1"];
    assert!(
        m["night_performance"]["samples"].as_u64().unwrap_or(0) >= 2,
        "{stats}"
    );
    assert!(
        m["night_performance"]["avg_hashrate"]
            .as_f64()
            .unwrap_or(0.0)
            > 500.0
    );
    assert_eq!(m["online"], true);
    assert!(m["ip"]
        .as_str()
        .unwrap_or("")
        .starts_with("http://127.0.0.1:"));
    let history = bitaxe_core::history::History::open(
        &h.path.with_file_name(bitaxe_core::history::HISTORY_FILE),
    )
    .expect("history");
    assert!(history.count().expect("count") >= 6);
}

#[tokio::test]
async fn slow_answers_within_the_timeout_are_fine_and_a_restart_is_ridden_out() {
    let miners = sims(2, Personality::V2_14).await;
    miners[0].set_faults(Faults {
        latency_ms: 250,
        ..Faults::default()
    });
    let mut h = Harness::start(miners, DAY, |c| c.smooth_transition = false).await;
    h.expect_done(&["sim-1", "sim-2"]).await;
    assert_eq!(
        h.miner_settings(0),
        Settings::new(1100, 425.0),
        "250 ms latency is under the 500 ms timeout"
    );
    // The miner reboots (about 5 sim-seconds, 0.25 s here): a failed poll or two, never Offline,
    // and the settings it kept in flash are still the target, so nothing needs writing.
    let writes = h.miners[1].patches().len();
    let url = h.miners[1].url();
    reqwest_free_restart(&url).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = h.engine.status();
    let s2 = status
        .miners
        .iter()
        .find(|m| m.name == "sim-2")
        .expect("sim-2");
    assert_ne!(s2.state, MinerState::Offline);
    assert!(
        s2.info
            .as_ref()
            .and_then(|i| i.uptime_seconds)
            .unwrap_or(999)
            < 60,
        "uptime reset after the reboot"
    );
    assert_eq!(h.miners[1].patches().len(), writes);
}

/// POST /api/system/restart through the project's own client.
async fn reqwest_free_restart(url: &str) {
    let client =
        bitaxe_core::axeos::Client::new(&bitaxe_core::axeos::Http::default(), url).expect("client");
    client.restart().await.expect("restart");
}

#[tokio::test]
async fn one_miner_gets_a_profile_by_hand_and_history_is_queryable() {
    let mut h = Harness::start(sims(2, Personality::V2_14).await, DAY, |c| {
        c.smooth_transition = false
    })
    .await;
    h.expect_done(&["sim-1", "sim-2"]).await;
    h.engine
        .apply_miner("sim-2", Profile::night())
        .expect("apply one");
    h.expect("sim-2 night", 10, done("sim-2")).await;
    assert_eq!(h.miner_settings(1), Settings::new(1200, 550.0));
    assert_eq!(
        h.miner_settings(0),
        Settings::new(1100, 425.0),
        "the other miner keeps the schedule"
    );
    assert!(h.engine.apply_miner("nobody", Profile::day()).is_err());
    tokio::time::sleep(Duration::from_millis(600)).await;
    let now = h.engine.now();
    let pts = h
        .engine
        .history(
            None,
            now - chrono::Duration::hours(1),
            now + chrono::Duration::hours(1),
            60,
        )
        .expect("history");
    assert!(
        pts.iter().any(|p| p.miner == "sim-1") && pts.iter().any(|p| p.miner == "sim-2"),
        "{pts:?}"
    );
    assert!(pts.iter().all(|p| p.hashrate > 0.0));
}

#[tokio::test]
async fn a_scan_of_a_loopback_range_finds_the_miners_there() {
    // Three miners on 127.0.0.21-23, same port; 127.0.0.24 has nothing.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.21:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let mut miners = Vec::new();
    for i in 21..=23u8 {
        let spec = bitaxe_sim::MinerSpec::new(
            &format!("s{i}"),
            std::net::SocketAddr::from(([127, 0, 0, i], port)),
        );
        miners.push(SimMiner::start(spec).await.expect("sim"));
    }
    let found = bitaxe_core::discovery::scan("127.0.0.20-127.0.0.24", port)
        .await
        .expect("scan");
    let urls: Vec<&str> = found.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(
        urls,
        vec![
            format!("http://127.0.0.21:{port}"),
            format!("http://127.0.0.22:{port}"),
            format!("http://127.0.0.23:{port}")
        ]
    );
    assert_eq!(found[0].asic_model.as_deref(), Some("BM1370"));
    assert_eq!(found[0].model.as_deref(), Some("Gamma"));
    assert_eq!(found[0].voltage, Some(1150));
    let probe = bitaxe_core::discovery::probe(
        &bitaxe_core::axeos::Http::default(),
        &format!("127.0.0.22:{port}"),
    )
    .await
    .expect("probe");
    assert_eq!(probe.firmware.as_deref(), Some("v2.14.1"));
}
