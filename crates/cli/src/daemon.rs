//! The foreground scheduler: the engine, a status table every `check_interval`, a log file next
//! to the config (through `tracing`, see `logfile`), and a clean stop on SIGINT or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Result};
use bitaxe_core::events::{Event, Level};
use bitaxe_core::{EngineHandle, EngineOptions};
use tokio::sync::broadcast::error::RecvError;

use crate::logfile;
use crate::{table, Args};

pub async fn run(args: &Args) -> Result<ExitCode> {
    let mut opts = EngineOptions::new(&args.config);
    if let Some(dir) = &args.data_dir {
        opts.data_dir = dir.clone();
    }
    // The log first, so that what the engine says while it starts (a history database moved
    // aside, for one) is in it.
    let log_dir = match args.config.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let _log = logfile::init(&log_dir).map_err(|e| anyhow!("{}: {e}", log_dir.display()))?;
    let engine = EngineHandle::start(opts).map_err(|e| {
        tracing::error!("{e}");
        anyhow!(e)
    })?;
    let mut events = engine.subscribe();
    let config = engine.config();
    let listen = crate::serve::listen(args.serve, &config);
    // The tokens guard the API and the local control channel alike; without them only the
    // channel is missing (one-shots then act by themselves), unless the API was asked for.
    let tokens = match crate::serve::tokens_for(&args.config, listen.is_some()) {
        Ok(t) => Some(t),
        Err(e) if listen.is_none() => {
            tracing::warn!("{e:#}; one-shot commands will act by themselves");
            None
        }
        Err(e) => {
            tracing::error!("{e:#}");
            engine.shutdown(Duration::from_secs(30)).await;
            return Err(e);
        }
    };
    #[cfg(unix)]
    let local = match &tokens {
        Some(t) => crate::serve::start_local(&engine, &args.config, t.clone()).await,
        None => None,
    };
    let api = match (listen, tokens) {
        (Some(listen), Some(tokens)) => {
            match crate::serve::start(&engine, &args.config, listen, tokens).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!("{e:#}");
                    #[cfg(unix)]
                    if let Some(l) = local {
                        l.stop().await;
                    }
                    engine.shutdown(Duration::from_secs(30)).await;
                    return Err(e);
                }
            }
        }
        _ => None,
    };
    // The MQTT bridge follows the config's `mqtt` key by itself (idle without it).
    let mqtt = bitaxe_mqtt::spawn(engine.clone());
    let start = format!(
        "Scheduler started on {} with {} enabled miner(s); profile {} ({})",
        args.config.display(),
        config.miners.iter().filter(|m| m.enabled).count(),
        engine.status().profile,
        engine.status().source
    );
    println!("{start}");
    tracing::info!("{start}");
    if config.miners.iter().all(|m| !m.enabled) {
        let hint =
            "No enabled miners yet; add one with --add-miner NAME IP (picked up while running).";
        println!("{hint}");
        tracing::info!("{hint}");
    }
    for w in bitaxe_core::schedule::window_warnings(&config) {
        tracing::warn!("{w}");
        println!("Note: {w}");
    }
    let mut table_every = tokio::time::interval(config.check_every());
    table_every.tick().await;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = table_every.tick() => {
                let status = engine.status();
                for line in table::render(&status.miners) {
                    println!("{line}");
                }
                tracing::info!("{}", table::total_line(&status.totals));
            }
            event = events.recv() => match event {
                Ok(e) => log_event(&e),
                Err(RecvError::Lagged(n)) => tracing::warn!("log skipped {n} events"),
                Err(RecvError::Closed) => break,
            },
        }
    }
    let msg = "Stopping: finishing transitions safely, saving statistics and history";
    println!("{msg}");
    tracing::info!("{msg}");
    if let Some(api) = api {
        api.stop().await;
    }
    #[cfg(unix)]
    if let Some(l) = local {
        l.stop().await;
    }
    mqtt.stop().await;
    let clean = engine.shutdown(Duration::from_secs(30)).await;
    while let Ok(e) = events.try_recv() {
        log_event(&e);
    }
    if clean {
        tracing::info!("Scheduler stopped");
    } else {
        tracing::warn!("Scheduler stopped (some tasks did not finish in 30 s)");
    }
    Ok(ExitCode::SUCCESS)
}

fn log_event(e: &Event) {
    let text = match e.miner() {
        Some(m) => format!("[{m}] {}", e.describe()),
        None => e.describe(),
    };
    match e.level() {
        Level::Trace => {}
        Level::Info => {
            println!("{text}");
            tracing::info!("{text}");
        }
        Level::Warning => {
            eprintln!("WARNING: {text}");
            tracing::warn!("{text}");
        }
        Level::Error => {
            eprintln!("ERROR: {text}");
            tracing::error!("{text}");
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
