//! The episode rules: turn the event stream into one alert per episode (a miner going offline,
//! overheating or being throttled, stalling, drifting, a failed change) and one recovery when the
//! episode ends. Pure: the desktop shows them as notifications, the engine sends them out.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::events::{Event, MinerState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum AlertKind {
    Offline,
    Overheated,
    Throttled,
    Stalled,
    Drift,
    TransitionFailed,
    /// A target the miner would not take was given up (`Event::GaveUp`).
    GaveUp,
    /// A profile's ceiling was lowered after repeated firmware overheats.
    CeilingLowered,
    /// A different device answers at a known address.
    IdentityChanged,
}

impl AlertKind {
    pub const ALL: [AlertKind; 9] = [
        AlertKind::Offline,
        AlertKind::Overheated,
        AlertKind::Throttled,
        AlertKind::Stalled,
        AlertKind::Drift,
        AlertKind::TransitionFailed,
        AlertKind::GaveUp,
        AlertKind::CeilingLowered,
        AlertKind::IdentityChanged,
    ];

    /// The name the config and JSON use (`offline`, `transition_failed`...).
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::Offline => "offline",
            AlertKind::Overheated => "overheated",
            AlertKind::Throttled => "throttled",
            AlertKind::Stalled => "stalled",
            AlertKind::Drift => "drift",
            AlertKind::TransitionFailed => "transition_failed",
            AlertKind::GaveUp => "gave_up",
            AlertKind::CeilingLowered => "ceiling_lowered",
            AlertKind::IdentityChanged => "identity_changed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub miner: String,
    /// The episode ended (back online, cool again, hashing again).
    pub recovered: bool,
    pub title: String,
    pub body: String,
}

/// Tracks open episodes so each raises one alert and one recovery.
#[derive(Debug, Default)]
pub struct AlertRules {
    open: HashSet<(AlertKind, String)>,
}

impl AlertRules {
    pub fn new() -> AlertRules {
        AlertRules::default()
    }

    fn start(
        &mut self,
        kind: AlertKind,
        miner: &str,
        title: String,
        body: String,
    ) -> Option<Alert> {
        self.open.insert((kind, miner.to_string())).then(|| Alert {
            kind,
            miner: miner.to_string(),
            recovered: false,
            title,
            body,
        })
    }

    fn end(&mut self, kind: AlertKind, miner: &str, title: String, body: String) -> Option<Alert> {
        self.open.remove(&(kind, miner.to_string())).then(|| Alert {
            kind,
            miner: miner.to_string(),
            recovered: true,
            title,
            body,
        })
    }

    /// The alerts this event raises (at most one new episode and one recovery).
    pub fn on_event(&mut self, event: &Event) -> Vec<Alert> {
        let mut out = Vec::new();
        match event {
            Event::StateChanged {
                miner,
                from,
                to,
                reason,
            } => {
                let episode = |s: MinerState| match s {
                    MinerState::Offline => Some(AlertKind::Offline),
                    MinerState::Overheated => Some(AlertKind::Overheated),
                    MinerState::Throttled => Some(AlertKind::Throttled),
                    MinerState::Stalled => Some(AlertKind::Stalled),
                    _ => None,
                };
                // Transitioning is a passing state inside an episode, not its end.
                if *to != MinerState::Transitioning {
                    if let Some(kind) = episode(*from).filter(|k| Some(*k) != episode(*to)) {
                        let (title, body) = match kind {
                            AlertKind::Offline => (
                                format!("{miner} is back online"),
                                "It answers again.".to_string(),
                            ),
                            AlertKind::Overheated | AlertKind::Throttled => (
                                format!("{miner} is cool again"),
                                "Its schedule is restored.".to_string(),
                            ),
                            _ => (
                                format!("{miner} is hashing again"),
                                "Shares are moving again.".to_string(),
                            ),
                        };
                        out.extend(self.end(kind, miner, title, body));
                    }
                }
                if let Some(kind) = episode(*to) {
                    let title = match kind {
                        AlertKind::Offline => format!("{miner} is offline"),
                        AlertKind::Overheated => format!("{miner} overheated"),
                        AlertKind::Throttled => format!("{miner} is throttled"),
                        _ => format!("{miner} stopped hashing"),
                    };
                    out.extend(self.start(kind, miner, title, reason.clone()));
                }
            }
            Event::Drift {
                miner,
                expected,
                reported,
                ..
            } => {
                out.extend(self.start(
                    AlertKind::Drift,
                    miner,
                    format!("{miner}: settings changed on the miner"),
                    format!("Expected {expected}, found {reported}."),
                ));
            }
            Event::TransitionDone { miner, .. } => {
                self.open.remove(&(AlertKind::Drift, miner.clone()));
                self.open
                    .remove(&(AlertKind::TransitionFailed, miner.clone()));
            }
            Event::TransitionFailed { miner, error } => {
                out.extend(self.start(
                    AlertKind::TransitionFailed,
                    miner,
                    format!("{miner}: settings change failed"),
                    error.clone(),
                ));
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::safety::Settings;

    fn changed(from: MinerState, to: MinerState) -> Event {
        Event::StateChanged {
            miner: "a".into(),
            from,
            to,
            reason: "3 polls in a row failed".into(),
        }
    }

    #[test]
    fn kind_names_are_the_serde_names() {
        for k in AlertKind::ALL {
            assert_eq!(serde_json::to_value(k).expect("json"), k.name());
        }
    }

    #[test]
    fn one_alert_per_episode_and_one_recovery() {
        let mut r = AlertRules::new();
        let a = r.on_event(&changed(MinerState::Online, MinerState::Offline));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].title, "a is offline");
        assert!(!a[0].recovered);
        // More failures in the same episode: silent.
        assert!(r
            .on_event(&changed(MinerState::Offline, MinerState::Offline))
            .is_empty());
        let b = r.on_event(&changed(MinerState::Offline, MinerState::Online));
        assert_eq!(b.len(), 1);
        assert!(b[0].recovered && b[0].title == "a is back online");
        assert!(r
            .on_event(&changed(MinerState::Online, MinerState::Online))
            .is_empty());
    }

    #[test]
    fn transitioning_inside_a_throttle_episode_does_not_end_it() {
        let mut r = AlertRules::new();
        assert_eq!(
            r.on_event(&changed(MinerState::Online, MinerState::Throttled))
                .len(),
            1
        );
        assert!(r
            .on_event(&changed(MinerState::Throttled, MinerState::Transitioning))
            .is_empty());
        assert!(r
            .on_event(&changed(MinerState::Transitioning, MinerState::Throttled))
            .is_empty());
        let end = r.on_event(&changed(MinerState::Throttled, MinerState::Online));
        assert_eq!(end[0].title, "a is cool again");
    }

    #[test]
    fn drift_and_failures_alert_once_until_a_change_succeeds() {
        let mut r = AlertRules::new();
        let drift = Event::Drift {
            miner: "a".into(),
            expected: Settings::new(1200, 550.0),
            reported: Settings::new(1100, 450.0),
            action: "re-applying".into(),
        };
        assert_eq!(r.on_event(&drift).len(), 1);
        assert!(r.on_event(&drift).is_empty());
        r.on_event(&Event::TransitionDone {
            miner: "a".into(),
            settings: Settings::new(1200, 550.0),
        });
        assert_eq!(r.on_event(&drift).len(), 1);
    }
}
