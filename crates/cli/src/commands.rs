//! One function per action flag. Bad input: one clear line, non-zero exit, nothing written.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::events::MinerState;
use bitaxe_core::fleet::{self, Applied};
use bitaxe_core::lock::EngineLock;
use bitaxe_core::overrides::{Manual, Overrides};
use bitaxe_core::safety::fmt_mhz;
use bitaxe_core::schedule::{self, Profile};
use chrono::{NaiveDateTime, TimeZone, Utc};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::{daemon, table, Args};

pub fn run(args: Args) -> Result<ExitCode> {
    let path = args.config.clone();
    let (mut config, created) = Config::load_or_create(&path).map_err(|e| anyhow!(e))?;
    if created {
        println!(
            "Created default configuration at {} (no miners yet: add one with --add-miner NAME IP)",
            path.display()
        );
    }
    if let Some(v) = &args.add_miner {
        let (name, ip) = (v[0].trim().to_string(), v[1].clone());
        if name.is_empty() {
            bail!("a miner needs a name");
        }
        if config.miner(&name).is_some() {
            bail!("a miner named {name:?} already exists; pick another name");
        }
        let url = bitaxe_core::axeos::normalize_address(&ip)?;
        config.miners.push(MinerConfig {
            name: name.clone(),
            ip: url.clone(),
            enabled: true,
            day_settings: None,
            night_settings: None,
            limits: None,
        });
        config.save(&path).map_err(|e| anyhow!(e))?;
        println!("Added miner {name}: {url}");
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
            let known: Vec<&str> = config.miners.iter().map(|m| m.name.as_str()).collect();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            let miner = config
                .miners
                .iter_mut()
                .find(|m| &m.name == name)
                .ok_or_else(|| anyhow!("unknown miner {name:?} (configured: {known})"))?;
            miner.enabled = enabled;
            config.save(&path).map_err(|e| anyhow!(e))?;
            println!(
                "Miner {name} {}",
                if enabled { "enabled" } else { "disabled" }
            );
            return Ok(ExitCode::SUCCESS);
        }
    }
    if args.plan {
        return plan(&config, args.at.as_deref());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.status {
        return runtime.block_on(status(&config));
    }
    if let Some(profile) = args.apply {
        return runtime.block_on(apply(&args, &config, profile, false));
    }
    if args.emergency_stop {
        return runtime.block_on(apply(&args, &config, Profile::Safe, true));
    }
    if args.resume {
        let mut o = Overrides::load(&path).map_err(|e| anyhow!(e))?;
        let was = (o.emergency, o.manual.is_some());
        o.emergency = false;
        o.emergency_since = None;
        o.manual = None;
        o.paused = false;
        o.save(&path).context("saving the scheduler state")?;
        println!(
            "{}",
            match was {
                (true, _) => "Emergency stop cleared: the schedule drives the miners again.",
                (false, true) => "Manual profile cleared: the schedule drives the miners again.",
                _ => "Nothing to resume: the schedule was already in charge.",
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    runtime.block_on(daemon::run(&args))
}

fn plan(config: &Config, at: Option<&str>) -> Result<ExitCode> {
    let tz = schedule::zone(config);
    let now = match at {
        None => Utc::now(),
        Some(text) => {
            let naive =
                NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").map_err(|_| {
                    anyhow!("--at {text:?}: expected YYYY-MM-DDTHH:MM, e.g. 2026-11-25T22:00")
                })?;
            tz.from_local_datetime(&naive)
                .earliest()
                .ok_or_else(|| anyhow!("--at {text}: that local time does not exist in {tz} (a DST change skips it)"))?
                .with_timezone(&Utc)
        }
    };
    let width = config
        .miners
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(0);
    for m in &config.miners {
        let t = schedule::target(config, tz, now, m);
        let disabled = if m.enabled { "" } else { "  (disabled)" };
        println!(
            "{:<width$}  {:<5}  {} mV  {} MHz{disabled}",
            m.name,
            t.profile.name(),
            t.settings.voltage,
            fmt_mhz(t.settings.frequency)
        );
    }
    for w in schedule::window_warnings(config) {
        eprintln!("Note: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn status(config: &Config) -> Result<ExitCode> {
    let status = fleet::snapshot(&bitaxe_core::axeos::Http::default(), config, Utc::now()).await;
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
    Ok(ExitCode::SUCCESS)
}

/// `--apply` and `--emergency-stop`. The decision is recorded first (so a running scheduler
/// agrees and does not undo it); the writes go out from here with the same envelope and
/// transition code the engine uses.
async fn apply(
    args: &Args,
    config: &Config,
    profile: Profile,
    emergency: bool,
) -> Result<ExitCode> {
    let path = &args.config;
    let mut o = Overrides::load(path).map_err(|e| anyhow!(e))?;
    if emergency {
        o.emergency = true;
        o.emergency_since = Some(Utc::now());
    } else {
        if o.emergency {
            bail!("an emergency stop is in force; clear it with --resume first");
        }
        o.manual = Some(Manual {
            profile,
            until: fleet::manual_until(config, Utc::now()),
        });
    }
    o.save(path).context("saving the scheduler state")?;
    let http = bitaxe_core::axeos::Http::default();
    // A running scheduler sees the new state within a second and carries it out itself: one
    // writer per miner. Only an emergency stop also writes from here, at once.
    let lock = EngineLock::acquire(path).ok();
    let results = if lock.is_none() && !emergency {
        println!(
            "A scheduler is running on {}; it is applying {profile} now.",
            path.display()
        );
        wait_for_scheduler(&http, config, profile).await
    } else {
        let (bus, mut rx) = broadcast::channel::<bitaxe_core::Event>(1024);
        let printer = tokio::spawn(async move {
            while let Ok(e) = rx.recv().await {
                if let Some(m) = e.miner() {
                    println!("[{m}] {}", e.describe());
                }
            }
        });
        let cancel = CancellationToken::new();
        let results = fleet::apply_all(&http, config, profile, emergency, &bus, &cancel).await;
        drop(bus);
        let _ = tokio::time::timeout(Duration::from_secs(1), printer).await;
        results
    };
    drop(lock);
    let failed: Vec<String> = results
        .iter()
        .filter_map(|a| {
            a.result
                .as_ref()
                .err()
                .map(|e| format!("{} ({e})", a.miner))
        })
        .collect();
    let what = if emergency {
        "Emergency stop: safe settings".to_string()
    } else {
        format!("Profile {profile}")
    };
    if results.is_empty() {
        println!("{what}: no enabled miners.");
        return Ok(ExitCode::SUCCESS);
    }
    if failed.is_empty() {
        println!("{what} applied to {} miner(s).", results.len());
        if emergency {
            println!("It stays in force until `bitaxe-scheduler --resume`.");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{what} not applied to: {}", failed.join(", "));
        Ok(ExitCode::from(2))
    }
}

/// Poll until every enabled miner reports the profile's settings, or the transition's time
/// budget runs out.
async fn wait_for_scheduler(
    http: &bitaxe_core::axeos::Http,
    config: &Config,
    profile: Profile,
) -> Vec<Applied> {
    let env = config.envelope();
    let enabled = config.enabled();
    let steps = if config.smooth_transition {
        config.transition_steps
    } else {
        1
    };
    let budget = Duration::from_secs_f64(
        f64::from(steps) * config.transition_delay
            + f64::from(config.retry_attempts + 1) * config.retry_delay * 4.0
            + 30.0,
    );
    let deadline = tokio::time::Instant::now() + budget;
    loop {
        let results = fleet::poll_all(http, &enabled).await;
        let applied: Vec<Applied> = enabled
            .iter()
            .zip(results)
            .map(|(m, r)| {
                let want = env.clamp(schedule::settings_for(config, m, profile)).get();
                let result = match r {
                    Ok(info)
                        if info.core_voltage == Some(want.voltage)
                            && info
                                .frequency
                                .is_some_and(|f| (f - want.frequency).abs() < 0.01) =>
                    {
                        Ok(want)
                    }
                    Ok(info) => Err(format!(
                        "reports {}mV @ {}MHz",
                        info.core_voltage
                            .map(|v| v.to_string())
                            .unwrap_or_else(|| "?".into()),
                        info.frequency.map(fmt_mhz).unwrap_or_else(|| "?".into())
                    )),
                    Err(e) => Err(e.to_string()),
                };
                Applied {
                    miner: m.name.clone(),
                    result,
                }
            })
            .collect();
        if applied.iter().all(|a| a.result.is_ok()) || tokio::time::Instant::now() >= deadline {
            return applied;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
