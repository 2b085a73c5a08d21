//! The operations layer with and without a running engine, against simulated miners on loopback:
//! emergency stops that reach the miners when the state file is broken, a corrupt state file at
//! start, one resume for both, and one-shots that leave a running scheduler alone.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bitaxe_core::clock::FakeClock;
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::events::Event;
use bitaxe_core::lock::EngineLock;
use bitaxe_core::ops::{self, CarriedOut, Standalone, Target};
use bitaxe_core::overrides::Overrides;
use bitaxe_core::safety::Settings;
use bitaxe_core::schedule::Profile;
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::{Personality, SimMiner};
use tokio::sync::broadcast;

mod support;
use support::{quick_config, utc};

async fn sims(n: usize) -> Vec<SimMiner> {
    support::sims(n, Personality::V2_14).await
}

/// A config for `miners` with fast intervals, saved in a fresh folder.
fn folder(miners: &[SimMiner]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    quick_config(miners).save(&path).expect("save config");
    (dir, path)
}

fn start(path: &Path, at: &str) -> EngineHandle {
    let mut opts = EngineOptions::new(path);
    opts.clock = Arc::new(FakeClock::new(utc(at)));
    opts.watch_every = Duration::from_millis(50);
    EngineHandle::start(opts).expect("engine")
}

fn settings(m: &SimMiner) -> Settings {
    let s = m.state();
    Settings::new(s.nvs.core_voltage, s.nvs.frequency)
}

async fn until_all_at(miners: &[SimMiner], want: Settings) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !miners.iter().all(|m| settings(m) == want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "miners at {:?}, want {want}",
            miners.iter().map(settings).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Drain the bus and return the warnings seen so far.
fn warnings(rx: &mut broadcast::Receiver<Event>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::Warning { message } = e {
            out.push(message);
        }
    }
    out
}

/// The state file's place is taken by a non-empty directory: it can be neither read nor
/// replaced, by root either.
fn block_state_file(path: &Path) {
    let state = Overrides::path_for(path);
    std::fs::create_dir(&state).expect("dir");
    std::fs::write(state.join("x"), "x").expect("file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_emergency_stop_reaches_the_miners_when_the_state_file_cannot_be_written() {
    let miners = sims(2).await;
    let (_dir, path) = folder(&miners);
    block_state_file(&path);
    let engine = start(&path, "2026-06-01 23:00");
    let mut rx = engine.subscribe();
    // The unreadable state may have held an emergency stop: the engine starts paused.
    let status = engine.status();
    assert!(status.paused, "{status:?}");
    assert!(status
        .pause_reason
        .as_deref()
        .is_some_and(|r| r.contains("cannot be read")));
    let report = ops::emergency_stop(&Target::Engine(engine.clone()))
        .await
        .expect("stop");
    assert_eq!(report.by, CarriedOut::Engine);
    let why = report.saved.expect_err("not saved");
    assert!(why.contains("could not be saved"), "{why}");
    until_all_at(&miners, Settings::new(1100, 400.0)).await;
    assert!(engine.status().emergency);
    assert!(
        warnings(&mut rx)
            .iter()
            .any(|w| w.contains("could not be saved")),
        "a warning for the UI"
    );
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_state_file_at_start_is_moved_aside_and_nothing_moves_until_resumed() {
    let miners = sims(1).await;
    let (dir, path) = folder(&miners);
    std::fs::write(Overrides::path_for(&path), "{\"emergency\": tr").expect("corrupt");
    let before = settings(&miners[0]);
    let engine = start(&path, "2026-06-01 23:00");
    let mut rx = engine.subscribe();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(miners[0].patches().is_empty(), "paused: nothing written");
    assert_eq!(settings(&miners[0]), before);
    let status = engine.status();
    assert!(status.paused);
    assert!(
        status
            .pause_reason
            .as_deref()
            .is_some_and(|r| r.contains("corrupt") && r.contains("until you resume")),
        "{status:?}"
    );
    let aside = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("multi_scheduler_config.json.state.json.corrupt-")
        })
        .count();
    assert_eq!(aside, 1, "moved aside");
    assert!(
        warnings(&mut rx).iter().any(|w| w.contains("corrupt")),
        "the bus says so too"
    );
    // A restart keeps the pause.
    assert!(Overrides::load(&path).expect("state").paused);
    let cleared = ops::resume(&Target::Engine(engine.clone())).expect("resume");
    assert!(cleared.paused);
    until_all_at(&miners, Settings::new(1200, 550.0)).await;
    assert!(engine.status().pause_reason.is_none());
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_clears_the_same_things_with_or_without_an_engine() {
    let miners = sims(1).await;
    let (_dir, path) = folder(&miners);
    // Standalone: a miner applied by hand, then a pause; resume clears both.
    let s = Target::Standalone(Standalone::new(&path, Default::default()));
    ops::apply(&s, Profile::day(), Some("sim-1"))
        .await
        .expect("apply one");
    ops::set_paused(&s, true).expect("pause");
    let state = Overrides::load(&path).expect("state");
    assert!(state.per_miner.contains_key("sim-1") && state.paused);
    let before = ops::resume(&s).expect("resume");
    assert!(before.per_miner.contains_key("sim-1"));
    assert!(Overrides::load(&path).expect("state").is_clear());
    // The engine: the same.
    let engine = start(&path, "2026-06-01 23:00");
    let e = Target::Engine(engine.clone());
    ops::apply(&e, Profile::day(), Some("sim-1"))
        .await
        .expect("apply one");
    ops::set_paused(&e, true).expect("pause");
    ops::resume(&e).expect("resume");
    assert!(engine.overrides().is_clear());
    assert!(Overrides::load(&path).expect("state").is_clear());
    // An apply during an emergency stop is refused, with or without an engine.
    ops::emergency_stop(&e).await.expect("stop");
    for t in [&e, &s] {
        let err = ops::apply(t, Profile::night(), None)
            .await
            .expect_err("refused");
        assert_eq!(err.code(), "emergency_in_force");
    }
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_shot_apply_beside_a_running_scheduler_leaves_the_miners_to_it() {
    let miners = sims(2).await;
    let (_dir, path) = folder(&miners);
    let _scheduler = EngineLock::acquire(&path).expect("a scheduler holds the lock");
    let s = Target::Standalone(Standalone::new(&path, Default::default()));
    let report = ops::apply(&s, Profile::night(), None).await.expect("apply");
    assert_eq!(report.by, CarriedOut::Scheduler);
    assert!(report.miners.is_empty());
    assert!(miners.iter().all(|m| m.patches().is_empty()), "no writes");
    let state = Overrides::load(&path).expect("state");
    assert_eq!(state.manual.map(|m| m.profile), Some(Profile::night()));
    // An emergency stop still acts at once.
    let report = ops::emergency_stop(&s).await.expect("stop");
    assert_eq!(report.by, CarriedOut::Here);
    assert!(report.failed().is_empty(), "{report:?}");
    assert!(report.saved.is_ok());
    assert!(miners
        .iter()
        .all(|m| settings(m) == Settings::new(1100, 400.0)));
    assert!(Overrides::load(&path).expect("state").emergency);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miner_edits_go_through_one_function_with_or_without_an_engine() {
    let miners = sims(1).await;
    let (_dir, path) = folder(&[]);
    let s = Target::Standalone(Standalone::new(&path, Default::default()));
    let m = MinerConfig {
        profiles: Default::default(),
        name: " office ".into(),
        ip: miners[0].url().trim_start_matches("http://").to_string(),
        enabled: true,
        day_settings: None,
        night_settings: None,
        limits: None,
    };
    let added = ops::add_miners(&s, vec![m.clone()]).expect("add");
    assert_eq!(added[0].name, "office");
    assert_eq!(added[0].ip, miners[0].url());
    assert_eq!(
        ops::add_miners(&s, vec![m.clone()])
            .expect_err("twice")
            .code(),
        "miner_exists"
    );
    ops::set_enabled(&s, "office", false).expect("disable");
    let err = ops::set_enabled(&s, "nobody", true).expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "unknown miner \"nobody\" (configured: office)"
    );
    let engine = start(&path, "2026-06-01 23:00");
    let e = Target::Engine(engine.clone());
    ops::set_enabled(&e, "office", true).expect("enable");
    assert!(engine.config().miners[0].enabled);
    let mut renamed = engine.config().miners[0].clone();
    renamed.name = "attic".into();
    ops::update_miner(&e, "office", renamed).expect("rename");
    until_all_at(&miners, Settings::new(1200, 550.0)).await;
    ops::remove_miner(&e, "attic").expect("remove");
    assert!(Config::load(&path).expect("file").miners.is_empty());
    let points = ops::history(
        &e,
        None,
        utc("2026-06-01 00:00"),
        utc("2026-06-02 00:00"),
        60,
    )
    .await
    .expect("history off the async threads");
    let _ = points;
    engine.shutdown(Duration::from_secs(5)).await;
}
