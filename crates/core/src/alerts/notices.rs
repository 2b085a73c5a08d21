//! Alerts for the engine's safety events (a target given up, the firmware's own overheat
//! recovery, a lowered ceiling, a different device at a known address), beside the episode rules,
//! and [`AlertFeed`]: both together, the whole set of alerts an event raises.

use std::collections::HashSet;

use super::{Alert, AlertKind, AlertRules};
use crate::events::Event;

/// The episode rules and the safety notices together: what every alert consumer runs.
#[derive(Debug, Default)]
pub struct AlertFeed {
    rules: AlertRules,
    notices: SafetyNotices,
}

impl AlertFeed {
    pub fn new() -> AlertFeed {
        AlertFeed::default()
    }

    /// Every alert `event` raises, in order.
    pub fn on_event(&mut self, event: &Event) -> Vec<Alert> {
        let from_rules = self.rules.on_event(event);
        self.notices.alerts(event, from_rules)
    }
}

/// Notices for the engine's safety events.
#[derive(Debug, Default)]
pub struct SafetyNotices {
    /// Miners whose firmware overheat was told: the state change to Overheated that follows it
    /// is the same news and stays silent.
    overheat_told: HashSet<String>,
}

impl SafetyNotices {
    /// The alerts for `event`: this event's safety notice, if any, then the episode rules' alerts
    /// (`from_rules`) less the repeats of a firmware overheat already told.
    pub fn alerts(&mut self, event: &Event, from_rules: Vec<Alert>) -> Vec<Alert> {
        let mut out: Vec<Alert> = self.notice(event).into_iter().collect();
        for alert in from_rules {
            if alert.kind == AlertKind::Overheated {
                let told = self.overheat_told.remove(&alert.miner);
                if told && !alert.recovered {
                    continue;
                }
            }
            out.push(alert);
        }
        out
    }

    fn notice(&mut self, event: &Event) -> Option<Alert> {
        let alert = |kind, miner: &str, title: String, body: String| Alert {
            kind,
            miner: miner.to_string(),
            recovered: false,
            title,
            body,
        };
        match event {
            Event::GaveUp {
                miner,
                target,
                reason,
                retry_at,
            } => Some(alert(
                AlertKind::GaveUp,
                miner,
                format!("{miner} would not take {target}"),
                format!(
                    "Gave up: {reason}. It is tried again when the schedule changes, when you press Retry{}.",
                    retry_at
                        .map(|t| format!(", or at {} UTC", t.format("%H:%M")))
                        .unwrap_or_default()
                ),
            )),
            Event::FirmwareOverheat { miner } => {
                self.overheat_told.insert(miner.clone());
                Some(alert(
                    AlertKind::Overheated,
                    miner,
                    format!("{miner} overheated"),
                    "The firmware's overheat protection stopped it. Nothing is written while it cools."
                        .into(),
                ))
            }
            Event::CeilingLowered {
                miner,
                profile,
                steps,
            } => Some(alert(
                AlertKind::CeilingLowered,
                miner,
                format!("{miner} overheated twice at {profile}"),
                format!(
                    "{} now runs {steps} throttle step(s) lower on {miner} until you clear it.",
                    capitalised(profile.name())
                ),
            )),
            Event::IdentityChanged {
                miner,
                expected,
                found,
            } => Some(alert(
                AlertKind::IdentityChanged,
                miner,
                format!("A different device answers as {miner}"),
                format!(
                    "Expected {expected}, found {found}. Nothing is written to it until you confirm the device."
                ),
            )),
            _ => None,
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::MinerState;

    #[test]
    fn a_firmware_overheat_is_told_once_and_its_recovery_too() {
        let mut feed = AlertFeed::new();
        let first = feed.on_event(&Event::FirmwareOverheat { miner: "a".into() });
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].kind, AlertKind::Overheated);
        let repeat = feed.on_event(&Event::StateChanged {
            miner: "a".into(),
            from: MinerState::Online,
            to: MinerState::Overheated,
            reason: "overheat flag".into(),
        });
        assert!(repeat.is_empty(), "{repeat:?}");
        let end = feed.on_event(&Event::StateChanged {
            miner: "a".into(),
            from: MinerState::Overheated,
            to: MinerState::Online,
            reason: "cool".into(),
        });
        assert_eq!(end.len(), 1);
        assert!(end[0].recovered);
        let other = feed.on_event(&Event::IdentityChanged {
            miner: "b".into(),
            expected: "aa:bb".into(),
            found: "cc:dd".into(),
        });
        assert_eq!(other[0].kind, AlertKind::IdentityChanged);
        assert!(other[0].body.contains("cc:dd"));
    }
}
