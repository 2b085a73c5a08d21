//! Fleet-wide one-shot operations for commands that run without an engine: read every miner once,
//! or apply a profile to every enabled miner now. Both use the same client, envelope and
//! transition code as the engine.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::{broadcast, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, MinerConfig};
use crate::events::Event;
use crate::plan::worker_count;
use crate::schedule::{self, Profile};
use crate::transition::{plan_steps, Mover, Outcome, Pacing};

/// How many miners are polled at once. Each is a different device, so this only bounds sockets.
pub const POLL_FAN_OUT: usize = 1024;

/// Read `/info` from every given miner at once (bounded), in config order.
pub async fn poll_all(
    http: &axeos::Http,
    miners: &[MinerConfig],
) -> Vec<Result<axeos::Info, axeos::Error>> {
    // Owned futures in a Vec (rather than a lazy map) keep the returned future `Send` for any
    // caller, Tauri commands included.
    let jobs: Vec<_> = miners
        .iter()
        .map(|m| {
            let (http, ip) = (http.clone(), m.ip.clone());
            async move { axeos::Client::new(&http, &ip)?.info().await }
        })
        .collect();
    stream::iter(jobs).buffered(POLL_FAN_OUT).collect().await
}

/// One miner's result of [`apply_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub miner: String,
    pub result: Result<crate::safety::Settings, String>,
}

/// Apply `profile` (day, night or safe) to every enabled miner now, with the configured
/// transition (`safe` and `emergency` go in one step, all miners at once).
pub async fn apply_all(
    http: &axeos::Http,
    cfg: &Config,
    profile: Profile,
    emergency: bool,
    bus: &broadcast::Sender<Event>,
    cancel: &CancellationToken,
) -> Vec<Applied> {
    let env = cfg.envelope();
    let at_once = emergency || profile == Profile::Safe;
    let permits = Arc::new(Semaphore::new(if at_once {
        cfg.miners.len().max(1)
    } else {
        worker_count(cfg)
    }));
    let steps = if cfg.smooth_transition && !at_once {
        cfg.transition_steps
    } else {
        1
    };
    let pacing = Pacing::from_config(cfg);
    let enabled = cfg.enabled();
    stream::iter(enabled.iter().map(|m| {
        let permits = permits.clone();
        async move {
            let _permit = permits.acquire_owned().await.ok();
            let want = env.clamp(schedule::settings_for(cfg, m, profile));
            let result = async {
                let client = axeos::Client::new(http, &m.ip).map_err(|e| e.to_string())?;
                let info = client.info().await.map_err(|e| e.to_string())?;
                let from = match (info.core_voltage, info.frequency) {
                    (Some(v), Some(f)) => crate::safety::Settings::new(v, f),
                    _ => {
                        return Err(
                            "the miner does not report its voltage and frequency".to_string()
                        )
                    }
                };
                // Outside the envelope: first inside, in one step, then the smooth path.
                let inside = env.clamp(from).get();
                let mut path = plan_steps(from, env.clamp(inside), 1, &env);
                path.extend(plan_steps(inside, want, steps, &env));
                if path.is_empty() {
                    return Ok(want.get());
                }
                let _ = bus.send(Event::TransitionStarted {
                    miner: m.name.clone(),
                    from,
                    to: want.get(),
                    steps: path.len() as u32,
                    reason: format!("{profile} applied by hand"),
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
                    Outcome::Stopped { reason, .. } | Outcome::OverLimit { reason, .. } => {
                        Err(reason)
                    }
                }
            }
            .await;
            if let Err(error) = &result {
                let _ = bus.send(Event::TransitionFailed {
                    miner: m.name.clone(),
                    error: error.clone(),
                });
            }
            Applied {
                miner: m.name.clone(),
                result,
            }
        }
    }))
    .buffered(POLL_FAN_OUT)
    .collect()
    .await
}

/// When a manual profile applied at `now` should give way to the schedule again.
pub fn manual_until(cfg: &Config, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let tz = schedule::zone(cfg);
    schedule::next_change(cfg, tz, now).map(|(at, _)| at)
}
