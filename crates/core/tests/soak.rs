//! A simulated day on a fake clock over a small fleet, one miner per fault: every PATCH is
//! counted, and no miner gets more than its write budget per target (2 × (steps + 1)), plus one
//! budget per give-up retry and the single-step safety moves. Zero brownouts everywhere.
//!
//! Short by default (a day in about 10 s); `BITAXE_LONG=1` runs a week.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bitaxe_core::events::Event;
use bitaxe_sim::{Faults, Personality};
use chrono::Duration as Span;
use support::*;

const STEPS: u32 = 3;

#[derive(Debug, Default)]
struct Tally {
    schedule_starts: u32,
    other_moves: u32,
    give_ups: u32,
    overheats: u32,
    fan_restores: u32,
    drift: u32,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_day_keeps_every_miner_within_its_write_budget() {
    let days: i64 = if std::env::var("BITAXE_LONG").is_ok() {
        7
    } else {
        1
    };
    let faults: Vec<(&str, Faults)> = vec![
        ("healthy", Faults::default()),
        (
            "ignore_patch",
            Faults {
                ignore_patch: true,
                ..Faults::default()
            },
        ),
        (
            "truncate_frequency",
            Faults {
                truncate_frequency: true,
                ..Faults::default()
            },
        ),
        ("http500", Faults::default()),
        (
            "latency",
            Faults {
                latency_ms: 150,
                ..Faults::default()
            },
        ),
        ("offline", Faults::default()),
        ("overheat", Faults::default()),
        (
            "hide_overheat_flag",
            Faults {
                hide_overheat_flag: true,
                ..Faults::default()
            },
        ),
    ];
    let miners = bitaxe_sim::fleet("soak", faults.len(), |s| {
        s.personality = Personality::V2_14;
        s.speed = 20.0;
    })
    .await
    .expect("sims");
    for (m, (_, f)) in miners.iter().zip(&faults) {
        m.set_faults(f.clone());
    }
    let name_of: BTreeMap<String, &str> = miners
        .iter()
        .zip(&faults)
        .map(|(m, (f, _))| (m.name().to_string(), *f))
        .collect();
    let mut h = Harness::start(miners, "2026-06-01 12:00", |c| {
        c.check_interval = 0.1;
        c.temp_check_interval = 0.1;
        c.transition_steps = STEPS;
        c.transition_delay = 0.02;
        c.retry_delay = 0.02;
        c.retry_attempts = 2;
        c.max_temp = 74.0;
        c.max_vr_temp = 104.9;
        c.max_power = 100.0;
        c.give_up_backoff_minutes = 10.0;
    })
    .await;
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    let started = Instant::now();
    // Fake minutes per 20 ms of real time: a day in about 10 s.
    let per_tick = Span::minutes(3);
    let ticks = days * 24 * 60 / 3;
    for tick in 0..ticks {
        h.clock.advance(per_tick);
        let real = started.elapsed().as_secs_f64();
        // Faults that come and go.
        let flap = (real * 1.0) as u64 % 2 == 1;
        h.miners[3].update(|s| s.faults.http500 = flap);
        h.miners[5].update(|s| s.faults.offline = !flap);
        // Both overheat miners get a hot spell in the afternoon of each day.
        let hot = (tick % 480) > 40 && (tick % 480) < 70;
        for i in [6, 7] {
            h.miners[i].update(|s| s.ambient_c = if hot { 95.0 } else { 25.0 });
        }
        let until = tokio::time::Instant::now() + Duration::from_millis(20);
        while let Ok(Ok(e)) = tokio::time::timeout_at(until, h.events.recv()).await {
            let Some(miner) = e.miner().map(str::to_string) else {
                continue;
            };
            let t = tally.entry(miner).or_default();
            match &e {
                Event::TransitionStarted { reason, .. } => {
                    if reason.starts_with("schedule") || reason.starts_with("re-applying") {
                        t.schedule_starts += 1;
                    } else {
                        t.other_moves += 1;
                    }
                }
                Event::GaveUp { .. } => t.give_ups += 1,
                Event::FirmwareOverheat { .. } => t.overheats += 1,
                Event::FanRestored { .. } => t.fan_restores += 1,
                Event::Drift { .. } => t.drift += 1,
                _ => {}
            }
        }
    }
    for m in &h.miners {
        m.update(|s| {
            s.faults.offline = false;
            s.faults.http500 = false;
        });
    }
    let took = started.elapsed();
    let budget = 2 * (STEPS + 1);
    // Targets a day brings: the first day, night at 20:00, day at 07:30.
    let targets = 1 + 2 * days as u32;
    eprintln!("soak: {days} day(s) in {took:?}; budget {budget} PATCHes per target");
    for (i, m) in h.miners.iter().enumerate() {
        let fault = name_of[m.name()];
        let t = tally.remove(m.name()).unwrap_or_default();
        let writes = m.patches().len() as u32;
        let bound = budget * (targets + t.give_ups) + 4 * t.other_moves + 2 * t.overheats;
        eprintln!(
            "  {fault:<20} PATCHes {writes:>3} (bound {bound:>3}); give-ups {}, safety moves {}, overheats {}, fan restores {}, drift {}",
            t.give_ups, t.other_moves, t.overheats, t.fan_restores, t.drift
        );
        assert!(
            writes <= bound,
            "{fault}: {writes} PATCHes > {bound} ({t:?})"
        );
        let s = m.state();
        assert_eq!(s.brownouts, 0, "{fault}: {:#?}", s.brownout_log);
        match fault {
            "healthy" | "truncate_frequency" => {
                assert_eq!(t.give_ups, 0, "{fault}");
                assert!(writes <= budget * targets, "{fault}: {writes}");
            }
            "ignore_patch" => {
                // Backoff doubles from 10 minutes: a handful of tries a day, not one per poll.
                assert!(t.give_ups >= 2 && t.give_ups <= 8 * days as u32, "{t:?}");
            }
            "overheat" | "hide_overheat_flag" => {
                assert!(s.overheat_events >= 1, "{fault} overheated in the sim");
                assert!(t.overheats >= 1, "{fault}: the engine saw it ({t:?})");
                assert_eq!(t.drift, 0, "{fault}: the firmware's reduction is not drift");
            }
            _ => {}
        }
        let _ = i;
    }
}
