//! Fleet-wide reads for commands that run without an engine: read every miner once, and a status
//! snapshot from that one poll. (Actions go through [`crate::ops`].)

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};

use crate::config::{Config, MinerConfig};
use crate::plan::Plan;
use crate::schedule;

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

/// When a manual profile applied at `now` should give way to the schedule again.
pub fn manual_until(cfg: &Config, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let tz = schedule::zone(cfg);
    schedule::next_change(cfg, tz, now).map(|(at, _)| at)
}

/// A status snapshot from one poll of every enabled miner, for commands that run without an engine
/// (`--status`, the desktop app beside a running scheduler), with the decisions (emergency, manual
/// profile, pause) the plan holds. Over-limit readings show as Throttled and the firmware's
/// overheat flag as Overheated, each with the reason.
pub async fn snapshot(
    http: &axeos::Http,
    plan: &Plan,
    now: DateTime<Utc>,
) -> crate::status::FleetStatus {
    let cfg = &*plan.config;
    use crate::events::MinerState;
    use crate::reconcile::{over_limit, Observation};
    use crate::status::{FleetStatus, MinerStatus, Totals};
    let enabled = cfg.enabled();
    let mut results = poll_all(http, &enabled).await.into_iter();
    let miners: Vec<MinerStatus> = cfg
        .miners
        .iter()
        .map(|m| {
            let mut s = MinerStatus::new(&m.name, &m.ip, m.enabled);
            if !m.enabled {
                return s;
            }
            s.target = Some(plan.target(m, now).0);
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
    let (profile, source) = plan.profile(now);
    FleetStatus {
        totals: Totals::of(&miners),
        miners,
        profile,
        source: source.name().into(),
        next_change: schedule::next_change(cfg, plan.tz, now),
        paused: plan.overrides.paused,
        emergency: plan.overrides.emergency,
        pause_reason: plan.overrides.pause_reason.clone(),
        budget: None,
    }
}
