//! Every simulated fault × every front end: the CLI one-shot (`bitaxe-scheduler --apply night`),
//! the daemon (`bitaxe-scheduler`, run for a few seconds, then SIGTERM) and an in-process
//! `EngineHandle` driven as the desktop drives it (start, "Apply night", quit).
//!
//! Each cell is a fleet of three simulated miners at 20× speed: one with the fault, two healthy
//! (one v2.14 going up to the night profile, one v2.12 coming down to it). Every cell must end
//! with zero brownouts on every miner, every write and every stored setting inside the envelope,
//! at most 2 × (steps + 1) settings writes per miner per profile change, and both healthy miners
//! at the night settings, reached as fast as without the fault. The cells of one front end run
//! concurrently; each front end is one test that lists every failing cell.

mod sim_fleet;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bitaxe_core::schedule::Profile;
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_e2e::process::Group;
use bitaxe_sim::{Faults, Personality, SimMiner};
use serde_json::json;
use sim_fleet::{miner, settings, violations, write_bound, write_config, NIGHT, STOCK};

/// Time the healthy miners get to reach the night settings, from the start of the run.
const REACH_WITHIN: Duration = Duration::from_secs(15);
/// How long a daemon or engine keeps running after the healthy miners got there.
const KEEP_RUNNING: Duration = Duration::from_secs(2);
/// SIGTERM or Quit to exit.
const STOP_WITHIN: Duration = Duration::from_secs(5);
/// How much later than in the control cell the healthy miners may get there.
const SLACK: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// The control cell: how fast the healthy miners get there when nothing is wrong.
    Control,
    Offline,
    BlackHole,
    Latency,
    Http500,
    Malformed,
    Truncated,
    Stall,
    IgnorePatch,
    TruncateFrequency,
    Redirect,
    /// Hot air: the firmware's own overheat recovery, flag shown.
    Overheat,
    /// Hot air with the v2.14+ behaviour: `overheat_mode` never shows 1.
    HideOverheatFlag,
}

const ALL: [Fault; 12] = [
    Fault::Offline,
    Fault::BlackHole,
    Fault::Latency,
    Fault::Http500,
    Fault::Malformed,
    Fault::Truncated,
    Fault::Stall,
    Fault::IgnorePatch,
    Fault::TruncateFrequency,
    Fault::Redirect,
    Fault::Overheat,
    Fault::HideOverheatFlag,
];

impl Fault {
    fn faults(self) -> Faults {
        let mut f = Faults::default();
        match self {
            Fault::Offline => f.offline = true,
            Fault::BlackHole => f.black_hole = true,
            Fault::Latency => f.latency_ms = 400,
            Fault::Http500 => f.http500 = true,
            Fault::Malformed => f.malformed = true,
            Fault::Truncated => f.truncated = true,
            Fault::Stall => f.stall = true,
            Fault::IgnorePatch => f.ignore_patch = true,
            Fault::TruncateFrequency => f.truncate_frequency = true,
            Fault::Redirect => f.redirect = true,
            Fault::HideOverheatFlag => f.hide_overheat_flag = true,
            Fault::Overheat | Fault::Control => {}
        }
        f
    }

    fn hot(self) -> bool {
        matches!(self, Fault::Overheat | Fault::HideOverheatFlag)
    }

    /// Profile changes a miner may see: the night profile, plus (in hot air) the response to
    /// the heat (a throttle or the firmware's own reduction).
    fn changes(self) -> usize {
        if self.hot() {
            2
        } else {
            1
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FrontEnd {
    OneShot,
    Daemon,
    Desktop,
}

struct Cell {
    fault: Fault,
    failures: Vec<String>,
    took: Duration,
    healthy_after: Option<Duration>,
}

/// The sims of one cell: the faulty one first.
async fn fleet(fault: Fault) -> Vec<SimMiner> {
    let faulty = miner("faulty", Personality::V2_14, STOCK).await;
    let up = miner("healthy-up", Personality::V2_14, (1100, 425.0)).await;
    let down = miner("healthy-down", Personality::V2_12, (1250, 600.0)).await;
    faulty.set_faults(fault.faults());
    faulty.settle().await;
    vec![faulty, up, down]
}

/// Hot air until the firmware's overheat protection trips, then normal air again.
fn heat_wave(m: &SimMiner) -> tokio::task::JoinHandle<()> {
    let m = m.clone();
    m.update(|s| s.ambient_c = 90.0);
    tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(20);
        while m.state().overheat_events == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        m.update(|s| s.ambient_c = 25.0);
    })
}

fn healthy_at_night(miners: &[SimMiner]) -> bool {
    miners[1..].iter().all(|m| settings(m) == NIGHT)
}

/// Poll until the healthy miners hold the night settings, or `REACH_WITHIN` from `started`.
async fn wait_healthy(miners: &[SimMiner], started: Instant) -> Option<Duration> {
    while started.elapsed() < REACH_WITHIN {
        if healthy_at_night(miners) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    healthy_at_night(miners).then(|| started.elapsed())
}

fn scheduler(dir: &Path, args: &[&str]) -> Group {
    let mut c = Command::new(sim_fleet::exe());
    c.current_dir(dir)
        .args(args)
        .stdout(Stdio::from(
            std::fs::File::create(dir.join("stdout.txt")).expect("stdout"),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("stderr.txt")).expect("stderr"),
        ));
    Group::spawn(c).expect("bitaxe-scheduler")
}

fn output_tail(dir: &Path) -> String {
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_default();
    let all = format!("{}{}", read("stdout.txt"), read("stderr.txt"));
    let lines: Vec<&str> = all.lines().collect();
    lines[lines.len().saturating_sub(12)..].join("\n  ")
}

/// Wait for a process to exit by itself, up to `limit`.
async fn exit_within(p: &mut Group, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = p.try_wait() {
            return Some(s);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn run_cell(fault: Fault, front: FrontEnd) -> Cell {
    let dir = tempfile::tempdir().expect("dir");
    let miners = fleet(fault).await;
    let refs: Vec<&SimMiner> = miners.iter().collect();
    let config = write_config(dir.path(), &refs, json!({}));
    let heat = fault.hot().then(|| heat_wave(&miners[0]));
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = sim_fleet::watch_envelope(miners.clone(), stop.clone());
    let mut failures = Vec::new();
    let started = Instant::now();
    let mut healthy_after = None;

    match front {
        FrontEnd::OneShot => {
            let mut p = scheduler(dir.path(), &["--apply", "night"]);
            match exit_within(&mut p, Duration::from_secs(45)).await {
                None => failures.push("--apply night still running after 45 s".to_string()),
                Some(s) if !matches!(s.code(), Some(0) | Some(2)) => failures.push(format!(
                    "--apply night ended with {s}:\n  {}",
                    output_tail(dir.path())
                )),
                Some(_) => {}
            }
            healthy_after = healthy_at_night(&miners).then(|| started.elapsed());
        }
        FrontEnd::Daemon => {
            let mut p = scheduler(dir.path(), &[]);
            healthy_after = wait_healthy(&miners, started).await;
            tokio::time::sleep(KEEP_RUNNING).await;
            let asked = Instant::now();
            p.signal("TERM");
            match exit_within(&mut p, STOP_WITHIN).await {
                None => failures.push(format!(
                    "the daemon was still running {STOP_WITHIN:?} after SIGTERM:\n  {}",
                    output_tail(dir.path())
                )),
                Some(s) if s.code() != Some(0) => failures.push(format!(
                    "the daemon exited with {s} after SIGTERM ({:?}):\n  {}",
                    asked.elapsed(),
                    output_tail(dir.path())
                )),
                Some(_) => {}
            }
        }
        FrontEnd::Desktop => match EngineHandle::start(EngineOptions::new(&config)) {
            Err(e) => failures.push(format!("the engine did not start: {e}")),
            Ok(engine) => {
                // The window's "Apply night" (the schedule says night too: one change).
                if let Err(e) = engine.apply(Profile::night()) {
                    failures.push(format!("apply night: {e}"));
                }
                healthy_after = wait_healthy(&miners, started).await;
                tokio::time::sleep(KEEP_RUNNING).await;
                let asked = Instant::now();
                if !engine.shutdown(STOP_WITHIN).await {
                    failures.push(format!(
                        "the engine had not stopped {:?} after Quit",
                        asked.elapsed()
                    ));
                }
            }
        },
    }

    // Let the firmware finish what it was given, then judge.
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, Ordering::SeqCst);
    failures.extend(watcher.await.unwrap_or_default());
    if let Some(h) = heat {
        h.abort();
    }
    let bound = write_bound();
    failures.extend(violations(&miners[0], bound * fault.changes()));
    for m in &miners[1..] {
        failures.extend(violations(m, bound));
        if settings(m) != NIGHT {
            failures.push(format!(
                "{} holds {:?}, not the night settings {NIGHT:?}",
                m.name(),
                settings(m)
            ));
        }
    }
    if healthy_after.is_none() {
        failures.push(format!(
            "the healthy miners were not at the night settings within {REACH_WITHIN:?}"
        ));
    }
    for m in &miners {
        m.stop();
    }
    Cell {
        fault,
        failures,
        took: started.elapsed(),
        healthy_after,
    }
}

/// Run every fault (and the control cell) against `front` at once; fail listing every failing
/// cell.
async fn matrix(front: FrontEnd) {
    if front != FrontEnd::Desktop {
        tokio::task::block_in_place(sim_fleet::exe);
    }
    let started = Instant::now();
    let control = tokio::spawn(run_cell(Fault::Control, front));
    let cells: Vec<_> = ALL
        .iter()
        .map(|&f| tokio::spawn(run_cell(f, front)))
        .collect();
    let control = control.await.expect("control cell");
    let baseline = control.healthy_after.unwrap_or(REACH_WITHIN);
    let mut failed = Vec::new();
    for c in std::iter::once(Ok(control)).chain(futures_of(cells).await) {
        let mut cell = c.expect("cell");
        eprintln!(
            "{front:?} × {:?}: {:.1} s, healthy at night after {}",
            cell.fault,
            cell.took.as_secs_f64(),
            cell.healthy_after
                .map(|d| format!("{:.1} s", d.as_secs_f64()))
                .unwrap_or_else(|| "never".into())
        );
        if let Some(after) = cell.healthy_after.filter(|a| *a > baseline + SLACK) {
            cell.failures.push(format!(
                "the healthy miners got there after {after:?}, {baseline:?} without the fault"
            ));
        }
        if !cell.failures.is_empty() {
            failed.push(format!(
                "{front:?} × {:?}:\n  {}",
                cell.fault,
                cell.failures.join("\n  ")
            ));
        }
    }
    eprintln!(
        "{front:?}: {} cells in {:.1} s",
        ALL.len() + 1,
        started.elapsed().as_secs_f64()
    );
    assert!(
        failed.is_empty(),
        "{} of {} cells failed:\n{}",
        failed.len(),
        ALL.len() + 1,
        failed.join("\n")
    );
}

async fn futures_of(
    cells: Vec<tokio::task::JoinHandle<Cell>>,
) -> Vec<Result<Cell, tokio::task::JoinError>> {
    let mut out = Vec::with_capacity(cells.len());
    for c in cells {
        out.push(c.await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_under_the_cli_one_shot() {
    matrix(FrontEnd::OneShot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_under_the_daemon() {
    matrix(FrontEnd::Daemon).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_under_the_desktop_engine() {
    matrix(FrontEnd::Desktop).await;
}
