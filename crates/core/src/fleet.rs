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

/// A status snapshot from one poll of every enabled miner, for commands that run without an engine
/// (`--status`, the desktop app beside a running scheduler). Over-limit readings show as Throttled
/// and the firmware's overheat flag as Overheated, each with the reason.
pub async fn snapshot(
    http: &axeos::Http,
    cfg: &Config,
    now: DateTime<Utc>,
) -> crate::status::FleetStatus {
    use crate::events::MinerState;
    use crate::reconcile::{over_limit, Observation};
    use crate::status::{FleetStatus, MinerStatus, Totals};
    let enabled = cfg.enabled();
    let mut results = poll_all(http, &enabled).await.into_iter();
    let tz = schedule::zone(cfg);
    let miners: Vec<MinerStatus> = cfg
        .miners
        .iter()
        .map(|m| {
            let mut s = MinerStatus::new(&m.name, &m.ip, m.enabled);
            if !m.enabled {
                return s;
            }
            s.target = Some(schedule::target(cfg, tz, now, m));
            match results.next() {
                Some(Ok(info)) => {
                    let obs = Observation::from_info(&info);
                    (s.state, s.reason) = if obs.overheat_flag {
                        (
                            MinerState::Overheated,
                            "the firmware stopped the ASIC to cool it".into(),
                        )
                    } else if let Some(reason) = over_limit(cfg, &obs) {
                        (MinerState::Throttled, reason)
                    } else {
                        (MinerState::Online, String::new())
                    };
                    s.info = Some(info);
                }
                Some(Err(e)) => (s.state, s.reason) = (MinerState::Offline, e.to_string()),
                None => {}
            }
            s.updated = Some(now);
            s
        })
        .collect();
    FleetStatus {
        totals: Totals::of(&miners),
        miners,
        profile: schedule::profile_at(cfg, tz, now),
        source: "schedule".into(),
        next_change: schedule::next_change(cfg, tz, now),
        paused: false,
        emergency: false,
    }
}
