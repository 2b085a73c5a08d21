//! One function per action flag, each a thin adapter over `bitaxe_core::ops`. Bad input: one
//! clear line, non-zero exit, nothing written.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Result};
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::events::MinerState;
use bitaxe_core::ops::{self, CarriedOut, MinerResult, Standalone, Target};
use bitaxe_core::schedule::Profile;
use bitaxe_core::status::FleetStatus;

use crate::remote::{self, Answer};
use crate::{daemon, plan_view, table, Args};

/// Exit codes besides 0 (done) and 1 (bad input or an error; nothing was done).
/// Some miners did not get the settings (`--apply`, `--emergency-stop`); they are named on stderr.
pub const EXIT_NOT_APPLIED: u8 = 2;
/// `--emergency-stop` reached every miner, but the decision could not be saved to the state file
/// (`FILE.state.json`): the miners are safe now, but a scheduler started later will not know.
pub const EXIT_NOT_SAVED: u8 = 3;
/// Both of the above.
pub const EXIT_NOT_APPLIED_NOT_SAVED: u8 = 4;
/// `--test-alert`: some alert channels did not deliver; they are named on stderr.
pub const EXIT_ALERT_FAILED: u8 = 2;

pub fn run(args: Args) -> Result<ExitCode> {
    let path = args.config.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let standalone = Standalone::new(&path, bitaxe_core::axeos::Http::default());
    // These need no valid config: an emergency stop only the miners' addresses, a resume only
    // the state file.
    if args.emergency_stop {
        // A running scheduler switches its plan at once; the miners are still moved from here
        // too, in one step (an emergency stop must not depend on a daemon that may be wedged).
        runtime.block_on(async {
            if let Some(d) = remote::Daemon::find(&path).await {
                let _ = d.emergency_stop().await;
            }
        });
        return runtime.block_on(emergency_stop(&standalone));
    }
    let target = Target::Standalone(standalone.clone());
    if args.resume {
        if let Some(d) = runtime.block_on(remote::Daemon::find(&path)) {
            match runtime.block_on(d.resume()) {
                Ok(Answer::Done((emergency, manual, paused))) => {
                    println!("{}", resumed(emergency, manual, paused));
                    return Ok(ExitCode::SUCCESS);
                }
                Ok(Answer::Refused(why)) => return Err(anyhow!(why)),
                // The daemon went away meanwhile: act as without one.
                Err(_) => {}
            }
        }
        return resume(&target);
    }
    if args.rotate_token {
        return crate::serve::rotate(&path);
    }
    let (config, created) = Config::load_or_create(&path).map_err(|e| anyhow!(e))?;
    if created {
        println!(
            "Created default configuration at {} (no miners yet: add one with --add-miner NAME IP)",
            path.display()
        );
    }
    if let Some(v) = &args.add_miner {
        let added = ops::add_miners(
            &target,
            vec![MinerConfig {
                profiles: Default::default(),
                name: v[0].clone(),
                ip: v[1].clone(),
                enabled: true,
                day_settings: None,
                night_settings: None,
                limits: None,
            }],
        )?;
        for m in added {
            println!("Added miner {}: {}", m.name, m.ip);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_miners {
        println!("Configured Miners:");
        for m in &config.miners {
            println!(
                "  {}: {} [{}]",
                m.name,
                m.ip,
                if m.enabled { "Enabled" } else { "Disabled" }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    for (name, enabled) in [(&args.disable_miner, false), (&args.enable_miner, true)] {
        if let Some(name) = name {
            ops::set_enabled(&target, name, enabled)?;
            println!(
                "Miner {name} {}",
                if enabled { "enabled" } else { "disabled" }
            );
            return Ok(ExitCode::SUCCESS);
        }
    }
    if args.test_alert {
        return runtime.block_on(crate::test_alert::run(&config));
    }
    if args.plan {
        let prices = plan_view::known_prices(&config, &path);
        let prices = prices.as_deref();
        return if args.week {
            plan_view::week(&config, args.at.as_deref(), prices)
        } else {
            plan_view::at(&config, args.at.as_deref(), prices)
        };
    }
    if args.prices {
        return runtime.block_on(crate::prices::run(&config, &path));
    }
    if args.cost {
        let data_dir = args
            .data_dir
            .clone()
            .unwrap_or_else(|| bitaxe_core::EngineOptions::new(&path).data_dir);
        return crate::cost::run(
            &config,
            &path,
            &data_dir,
            args.from.as_deref(),
            args.to.as_deref(),
        );
    }
    if args.status {
        let data_dir = args
            .data_dir
            .clone()
            .unwrap_or_else(|| bitaxe_core::EngineOptions::new(&path).data_dir);
        let today = crate::cost::today_line(&config, &path, &data_dir);
        let live = runtime.block_on(async {
            match remote::Daemon::find(&path).await {
                Some(d) => d.status().await.ok(),
                None => None,
            }
        });
        let code = match live {
            Some(status) => print_status(&status, today),
            None => runtime.block_on(status(&target, today))?,
        };
        if let Some(a) = crate::serve::running(&path) {
            println!("{}", crate::serve::status_line(&a));
        }
        return Ok(code);
    }
    if let Some(profile) = args.apply {
        let miner = args.miner.as_deref();
        // An unknown miner is refused from here, with the same words as without a scheduler.
        let known = miner.is_none_or(|m| config.miner(m).is_some());
        let daemon = known
            .then(|| runtime.block_on(remote::Daemon::find(&path)))
            .flatten();
        if let Some(d) = daemon {
            match runtime.block_on(d.apply(&profile, miner)) {
                Ok(Answer::Done(())) => {
                    return runtime.block_on(finish_apply(&standalone, profile, miner, None))
                }
                Ok(Answer::Refused(why)) => return Err(anyhow!(why)),
                Err(_) => {}
            }
        }
        return runtime.block_on(apply(&standalone, profile, miner));
    }
    runtime.block_on(daemon::run(&args))
}

fn resume(target: &Target) -> Result<ExitCode> {
    let before = ops::resume(target)?;
    println!(
        "{}",
        resumed(
            before.emergency,
            before.manual.is_some() || !before.per_miner.is_empty(),
            before.paused
        )
    );
    Ok(ExitCode::SUCCESS)
}

/// What `--resume` says, from what was in force before.
fn resumed(emergency: bool, manual: bool, paused: bool) -> &'static str {
    if emergency {
        "Emergency stop cleared: the schedule drives the miners again."
    } else if manual {
        "Manual profile cleared: the schedule drives the miners again."
    } else if paused {
        "Pause cleared: the schedule drives the miners again."
    } else {
        "Nothing to resume: the schedule was already in charge."
    }
}

/// Run `work` while printing the progress of the moves made here.
async fn printing<T>(s: &Standalone, work: impl Future<Output = T>) -> T {
    let mut rx = s.subscribe();
    let printer = tokio::spawn(async move {
        while let Ok(e) = rx.recv().await {
            match e.miner() {
                Some(m) => println!("[{m}] {}", e.describe()),
                None => eprintln!("{}", e.describe()),
            }
        }
    });
    let out = work.await;
    // Let the printer catch up with what is already on the bus.
    tokio::time::sleep(Duration::from_millis(50)).await;
    printer.abort();
    out
}

/// `--emergency-stop`: safe settings on every enabled miner now, then the decision saved.
async fn emergency_stop(s: &Standalone) -> Result<ExitCode> {
    // Into the scheduler's log too, best effort: a log that cannot be opened must not stop it.
    let log_dir = match s.config_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let _log = crate::logfile::init(&log_dir).ok();
    tracing::warn!("Emergency stop requested from the command line");
    let report = printing(s, ops::emergency_stop(&Target::Standalone(s.clone()))).await?;
    for note in &report.notes {
        eprintln!("Note: {note}");
    }
    let what = "Emergency stop: safe settings";
    let failed = failures(&report.miners);
    if report.miners.is_empty() {
        println!("{what}: no enabled miners.");
    } else if failed.is_empty() {
        println!("{what} applied to {} miner(s).", report.miners.len());
    } else {
        eprintln!("{what} not applied to: {}", failed.join(", "));
        tracing::error!("{what} not applied to: {}", failed.join(", "));
    }
    match &report.saved {
        Ok(()) => {
            println!("It stays in force until `bitaxe-scheduler --resume`.");
            Ok(ExitCode::from(if failed.is_empty() {
                0
            } else {
                EXIT_NOT_APPLIED
            }))
        }
        Err(why) => {
            eprintln!("ERROR: {why}");
            Ok(ExitCode::from(if failed.is_empty() {
                EXIT_NOT_SAVED
            } else {
                EXIT_NOT_APPLIED_NOT_SAVED
            }))
        }
    }
}

fn failures(results: &[MinerResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|a| {
            a.result
                .as_ref()
                .err()
                .map(|e| format!("{} ({e})", a.miner))
        })
        .collect()
}

async fn status(target: &Target, today: Option<String>) -> Result<ExitCode> {
    let status = ops::status(target).await?;
    Ok(print_status(&status, today))
}

fn print_status(status: &FleetStatus, today: Option<String>) -> ExitCode {
    for line in table::render(&status.miners) {
        println!("{line}");
    }
    for m in &status.miners {
        match m.state {
            MinerState::Throttled => println!("{}: Throttled because {}", m.name, m.reason),
            MinerState::Offline | MinerState::Overheated => {
                println!("{}: {}: {}", m.name, m.state.label(), m.reason)
            }
            _ => {}
        }
    }
    if status.emergency {
        println!("Emergency stop in force (clear it with --resume).");
    } else if let Some(why) = &status.pause_reason {
        println!("Paused: {why}");
    } else if status.paused {
        println!("Paused: schedule changes are held (clear with --resume).");
    }
    if let Some(line) = today {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

/// `--apply [--miner NAME]`: the decision is saved first (so a running scheduler agrees and
/// carries it out itself); with no scheduler running, the miners are moved from here.
async fn apply(s: &Standalone, profile: Profile, miner: Option<&str>) -> Result<ExitCode> {
    let target = Target::Standalone(s.clone());
    let report = printing(s, ops::apply(&target, profile.clone(), miner)).await?;
    for note in &report.notes {
        eprintln!("Note: {note}");
    }
    let moved = match report.by {
        CarriedOut::Scheduler => None,
        _ => Some(report.miners),
    };
    finish_apply(s, profile, miner, moved).await
}

/// After an apply: the miners moved here (`moved`), or (none) a running scheduler carries it out
/// and this waits until the miners report the profile.
async fn finish_apply(
    s: &Standalone,
    profile: Profile,
    miner: Option<&str>,
    moved: Option<Vec<MinerResult>>,
) -> Result<ExitCode> {
    let results = match moved {
        None => {
            println!(
                "A scheduler is running on {}; it is applying {profile} now.",
                s.config_path.display()
            );
            ops::wait_for_scheduler(s, profile.clone(), miner).await?
        }
        Some(m) => m,
    };
    let what = format!("Profile {profile}");
    if results.is_empty() {
        println!("{what}: no enabled miners.");
        return Ok(ExitCode::SUCCESS);
    }
    let failed = failures(&results);
    if failed.is_empty() {
        println!("{what} applied to {} miner(s).", results.len());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{what} not applied to: {}", failed.join(", "));
        Ok(ExitCode::from(EXIT_NOT_APPLIED))
    }
}
