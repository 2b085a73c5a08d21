//! `kill -9` in the middle of a transition, many times over: `bitaxe-scheduler --apply night`
//! and `--apply day` take turns against simulated miners with a slow five-step transition, and
//! each run is SIGKILLed at a random moment (also while it is still saving its state). After
//! every kill the config and the state file still parse, every miner's stored settings are
//! inside the envelope and no miner saw a brownout; at the end the next start converges to the
//! target within the write bound.
//!
//! 100 kills by default; `BITAXE_KILLS=N` changes that. The random moments come from a seed
//! printed at the start; `BITAXE_KILL_SEED=S` replays a run.

mod sim_fleet;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitaxe_core::config::Config;
use bitaxe_core::overrides::Overrides;
use bitaxe_e2e::process::Group;
use bitaxe_sim::{Personality, SimMiner};
use serde_json::json;
use sim_fleet::{miner, settings, violations, write_config, NIGHT, STOCK};

const STEPS: u32 = 5;
/// Kills happen this long after the start, at most.
const KILL_WINDOW_MS: u64 = 300;

/// A small xorshift generator: enough for kill moments, replayable from its seed.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % below
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn start(dir: &Path, profile: &str) -> Group {
    let mut c = Command::new(sim_fleet::exe());
    c.current_dir(dir)
        .args(["--apply", profile])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Group::spawn(c).expect("bitaxe-scheduler")
}

/// What is wrong after a kill: files that no longer parse, miners outside the rules.
fn check(config: &Path, miners: &[SimMiner]) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = Config::load(config) {
        out.push(format!("the config no longer loads: {e}"));
    }
    if let Err(e) = Overrides::load(config) {
        out.push(format!("the state file no longer loads: {e}"));
    }
    for m in miners {
        out.extend(violations(m, usize::MAX));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_transitions_leaves_files_whole_miners_safe_and_the_next_start_converges() {
    let kills = env_u64("BITAXE_KILLS").unwrap_or(100);
    let seed = env_u64("BITAXE_KILL_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1
    });
    eprintln!("{kills} kills, seed {seed} (BITAXE_KILL_SEED={seed} replays it)");
    let mut moments = Moments(seed);
    tokio::task::block_in_place(sim_fleet::exe);

    let miners = vec![
        miner("k-1", Personality::V2_14, STOCK).await,
        miner("k-2", Personality::V2_14, (1250, 600.0)).await,
        miner("k-3", Personality::V2_14, (1100, 425.0)).await,
    ];
    let dir = tempfile::tempdir().expect("dir");
    let refs: Vec<&SimMiner> = miners.iter().collect();
    let config = write_config(
        dir.path(),
        &refs,
        json!({"transition_steps": STEPS, "transition_delay": 0.05}),
    );

    let started = Instant::now();
    let mut mid_transition = 0;
    for i in 0..kills {
        let profile = if i % 2 == 0 { "night" } else { "day" };
        let before: Vec<usize> = miners.iter().map(|m| m.patches().len()).collect();
        let mut p = start(dir.path(), profile);
        let after_ms = moments.next_ms(KILL_WINDOW_MS);
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        let exited_first = p.try_wait().is_some();
        let left = p.kill();
        assert!(
            left.is_empty(),
            "kill {i}: still alive after SIGKILL: {left:?}"
        );
        let wrote: Vec<usize> = miners.iter().map(|m| m.patches().len()).collect();
        if !exited_first && wrote != before && miners.iter().any(|m| settings(m) != target(profile))
        {
            mid_transition += 1;
        }
        let problems = check(&config, &miners);
        assert!(
            problems.is_empty(),
            "after kill {i} ({profile}, {after_ms} ms after the start):\n  {}",
            problems.join("\n  ")
        );
    }
    let killing = started.elapsed();

    // The firmware finishes what it was given; still nothing wrong.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let problems = check(&config, &miners);
    assert!(
        problems.is_empty(),
        "after the kills:\n  {}",
        problems.join("\n  ")
    );

    // The next start converges, within the write bound of one change.
    let before: Vec<usize> = miners.iter().map(sim_fleet::settings_writes).collect();
    let converge = Instant::now();
    let mut p = start(dir.path(), "night");
    let status = loop {
        if let Some(s) = p.try_wait() {
            break s;
        }
        assert!(
            converge.elapsed() < Duration::from_secs(30),
            "the next --apply night did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "the next --apply night: {status}");
    for (m, before) in miners.iter().zip(before) {
        assert_eq!(settings(m), NIGHT, "{} converged", m.name());
        let writes = sim_fleet::settings_writes(m) - before;
        assert!(
            writes <= 2 * (STEPS as usize + 1),
            "{}: {writes} writes to converge",
            m.name()
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let problems = check(&config, &miners);
    assert!(
        problems.is_empty(),
        "after converging:\n  {}",
        problems.join("\n  ")
    );
    eprintln!(
        "{kills} kills in {:.1} s ({mid_transition} with writes done and the target not reached), \
         converged in {:.1} s",
        killing.as_secs_f64(),
        converge.elapsed().as_secs_f64()
    );
}

fn target(profile: &str) -> (u32, f64) {
    if profile == "night" {
        NIGHT
    } else {
        sim_fleet::DAY
    }
}
