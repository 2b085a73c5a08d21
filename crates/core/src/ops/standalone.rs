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

/// Move each of `miners` to `profile` now, all at once, each in one step (the safe settings, an
/// emergency stop: they only ever lower a miner and must not wait). Every miner is read first;
/// one found outside the envelope is brought inside before the move.
pub(crate) async fn drive(
    http: &axeos::Http,
    cfg: &Config,
    miners: &[MinerConfig],
    profile: Profile,
    reason: &str,
    bus: &broadcast::Sender<Event>,
    cancel: &CancellationToken,
) -> Vec<MinerResult> {
    let env = cfg.envelope();
    let permits = Arc::new(Semaphore::new(miners.len().max(1)));
    let steps = 1;
    let pacing = Pacing::from_config(cfg);
    let reason = reason.to_string();
    let jobs: Vec<_> = miners
        .iter()
        .map(|m| {
            let permits = permits.clone();
            let want = env.clamp(schedule::Target::of(cfg, m, profile.clone()).settings);
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
                let want = env
                    .clamp(schedule::Target::of(cfg, m, profile.clone()).settings)
                    .get();
                let result = match r {
                    Ok(info) if crate::transition::matches_target(&info, want) => Ok(want),
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

/// With no scheduler running: run the engine here, for `miners` only, for as long as the change
/// takes. Its workers poll, decide and move exactly as a daemon's would (envelope and per-model
/// limits, device identity, firmware overheat and cool-off, write budget), so a one-shot has no
/// write path of its own. Each miner ends reached, or with the reason it was not; then the
/// engine stops (transitions stop at a safe point).
pub(crate) async fn run_engine(
    s: &super::Standalone,
    cfg: &Config,
    miners: &[MinerConfig],
) -> Result<Vec<MinerResult>, crate::engine::EngineError> {
    use crate::engine::{EngineHandle, EngineOptions};
    use crate::events::MinerState;
    use std::collections::BTreeMap;
    use tokio::sync::broadcast::error::RecvError;

    let mut opts = EngineOptions::new(&s.config_path);
    opts.http = s.http.clone();
    opts.only = Some(miners.iter().map(|m| m.name.clone()).collect());
    // The user at the keyboard sees the result; phones hear only from a running scheduler.
    opts.alerts.send = false;
    let engine = EngineHandle::start(opts)?;
    let mut events = engine.subscribe();
    let mut ended: BTreeMap<String, String> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + one_shot_budget(cfg, miners.len());
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = s.cancel.cancelled() => break,
            _ = tokio::time::sleep_until(deadline) => break,
            _ = ticks.tick() => {}
            e = events.recv() => match e {
                Ok(e) => {
                    if let Some((miner, why)) = final_event(&e) {
                        ended.entry(miner).or_insert(why);
                    }
                    let _ = s.events.send(e);
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
        let status = engine.status();
        let settled = miners.iter().all(|m| {
            ended.contains_key(&m.name)
                || status
                    .miners
                    .iter()
                    .find(|x| x.name == m.name)
                    .is_some_and(|x| reached(x).is_some())
        });
        if settled {
            break;
        }
    }
    let status = engine.status();
    engine.shutdown(Duration::from_secs(5)).await;
    Ok(miners
        .iter()
        .map(|m| {
            let row = status.miners.iter().find(|x| x.name == m.name);
            let result = match (row.and_then(reached), ended.get(&m.name)) {
                (Some(at), _) => Ok(at),
                (None, Some(why)) => Err(why.clone()),
                (None, None) => Err(match row {
                    Some(x) if x.state == MinerState::Transitioning => {
                        "still changing when the time for it ran out".to_string()
                    }
                    Some(x) if !x.reason.is_empty() => x.reason.clone(),
                    _ => "did not reach its target in time".to_string(),
                }),
            };
            MinerResult {
                miner: m.name.clone(),
                result,
            }
        })
        .collect())
}

/// The settings a miner confirmed, when it is resting on its target.
fn reached(x: &crate::status::MinerStatus) -> Option<Settings> {
    use crate::events::MinerState;
    let (info, target) = (x.info.as_ref()?, x.target.as_ref()?);
    let resting = !matches!(
        x.state,
        MinerState::Transitioning | MinerState::Unknown | MinerState::Offline
    );
    (resting && crate::transition::matches_target(info, target.settings)).then_some(target.settings)
}

/// Events after which a one-shot stops waiting for a miner, and why in words.
fn final_event(e: &Event) -> Option<(String, String)> {
    let (miner, why) = match e {
        Event::PollFailed { miner, error, .. } => (miner, error.clone()),
        Event::GaveUp { miner, .. }
        | Event::FirmwareOverheat { miner }
        | Event::IdentityChanged { miner, .. }
        | Event::UnknownModel { miner, .. }
        | Event::Throttled { miner, .. } => (miner, e.describe()),
        _ => return None,
    };
    Some((miner.clone(), why))
}

/// How long a one-shot waits at most: every step with its delay, read-backs and retries, for each
/// round of `max_workers` miners, plus a margin; never more than an hour.
fn one_shot_budget(cfg: &Config, miners: usize) -> Duration {
    let steps = if cfg.smooth_transition {
        cfg.transition_steps
    } else {
        1
    };
    let rounds = miners.div_ceil(worker_count(cfg).max(1)).max(1);
    let per_step = cfg.transition_delay + 5.0;
    let per_miner =
        f64::from(steps) * per_step + f64::from(cfg.retry_attempts + 1) * cfg.retry_delay * 4.0;
    Duration::from_secs_f64((rounds as f64 * per_miner + 30.0).min(3600.0))
}
