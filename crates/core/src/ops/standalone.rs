//! Acting without an engine: move miners with the same envelope and [`Mover`] the workers use
//! (the one path to a PATCH), or wait for a running scheduler to carry a decision out.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::sync::{broadcast, Semaphore};
use tokio_util::sync::CancellationToken;

use super::MinerResult;
use crate::config::{Config, MinerConfig};
use crate::events::Event;
use crate::fleet::{poll_all, POLL_FAN_OUT};
use crate::plan::worker_count;
use crate::safety::{fmt_mhz, Envelope, SafeSettings, Settings};
use crate::schedule::{self, Profile};
use crate::transition::{plan_steps, Mover, Outcome, Pacing};

/// How a standalone move goes: smoothly in the config's steps and within `max_workers`, or all
/// miners at once in one step (safe settings, emergency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pace {
    Smooth,
    AtOnce,
}

/// Move each of `miners` to `profile` now. Every miner is read first; one found outside the
/// envelope is brought inside in one step before the planned path.
pub(crate) async fn drive(
    http: &axeos::Http,
    cfg: &Config,
    miners: &[MinerConfig],
    profile: Profile,
    pace: Pace,
    bus: &broadcast::Sender<Event>,
    cancel: &CancellationToken,
) -> Vec<MinerResult> {
    let env = cfg.envelope();
    let permits = Arc::new(Semaphore::new(match pace {
        Pace::AtOnce => miners.len().max(1),
        Pace::Smooth => worker_count(cfg),
    }));
    let steps = if cfg.smooth_transition && pace == Pace::Smooth {
        cfg.transition_steps
    } else {
        1
    };
    let pacing = Pacing::from_config(cfg);
    let reason = match pace {
        Pace::AtOnce if profile == Profile::Safe => "emergency stop".to_string(),
        _ => format!("{profile} applied by hand"),
    };
    let jobs: Vec<_> = miners
        .iter()
        .map(|m| {
            let permits = permits.clone();
            let want = env.clamp(schedule::settings_for(cfg, m, profile));
            let reason = reason.clone();
            async move {
                let _permit = permits.acquire_owned().await.ok();
                let result =
                    move_one(http, &env, m, want, steps, pacing, &reason, bus, cancel).await;
                if let Err(error) = &result {
                    let _ = bus.send(Event::TransitionFailed {
                        miner: m.name.clone(),
                        error: error.clone(),
                    });
                }
                MinerResult {
                    miner: m.name.clone(),
                    result,
                }
            }
        })
        .collect();
    stream::iter(jobs).buffered(POLL_FAN_OUT).collect().await
}

/// One miner's move: read, plan, carry out with read-back.
#[allow(clippy::too_many_arguments)]
async fn move_one(
    http: &axeos::Http,
    env: &Envelope,
    m: &MinerConfig,
    want: SafeSettings,
    steps: u32,
    pacing: Pacing,
    reason: &str,
    bus: &broadcast::Sender<Event>,
    cancel: &CancellationToken,
) -> Result<Settings, String> {
    let client = axeos::Client::new(http, &m.ip).map_err(|e| e.to_string())?;
    let info = client.info().await.map_err(|e| e.to_string())?;
    let from = match (info.core_voltage, info.frequency) {
        (Some(v), Some(f)) => Settings::new(v, f),
        _ => return Err("the miner does not report its voltage and frequency".into()),
    };
    // Outside the envelope: first inside, in one step, then the planned path.
    let inside = env.clamp(from);
    let mut path = plan_steps(from, inside, 1, env);
    path.extend(plan_steps(inside.get(), want, steps, env));
    if path.is_empty() {
        return Ok(want.get());
    }
    let _ = bus.send(Event::TransitionStarted {
        miner: m.name.clone(),
        from,
        to: want.get(),
        steps: path.len() as u32,
        reason: reason.to_string(),
    });
    let mover = Mover {
        client: &client,
        miner: &m.name,
        bus,
        cancel,
        pacing,
    };
    match mover.run(from, &path, &|_| None, &mut || None).await {
        Outcome::Done(at) => {
            let _ = bus.send(Event::TransitionDone {
                miner: m.name.clone(),
                settings: at,
            });
            Ok(at)
        }
        Outcome::Failed { error, .. } => Err(error),
        Outcome::Stopped { reason, .. } | Outcome::OverLimit { reason, .. } => Err(reason),
    }
}

/// Poll until each of `miners` reports `profile`'s settings (a running scheduler carries the
/// decision out), or the transition's time budget runs out.
pub(crate) async fn wait_for_scheduler(
    http: &axeos::Http,
    cfg: &Config,
    miners: &[MinerConfig],
    profile: Profile,
) -> Vec<MinerResult> {
    let env = cfg.envelope();
    let steps = if cfg.smooth_transition {
        cfg.transition_steps
    } else {
        1
    };
    let budget = Duration::from_secs_f64(
        (f64::from(steps) * cfg.transition_delay
            + f64::from(cfg.retry_attempts + 1) * cfg.retry_delay * 4.0
            + 30.0)
            .min(3600.0),
    );
    let deadline = tokio::time::Instant::now() + budget;
    loop {
        let results = poll_all(http, miners).await;
        let applied: Vec<MinerResult> = miners
            .iter()
            .zip(results)
            .map(|(m, r)| {
                let want = env.clamp(schedule::settings_for(cfg, m, profile)).get();
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
                MinerResult {
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
