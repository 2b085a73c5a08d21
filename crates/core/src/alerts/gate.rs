//! What lets an alert out of the engine: the kinds switched on, and the quiet hours. Inside quiet
//! hours an alert waits for their end; an episode that starts and ends inside them is dropped
//! whole (nobody needs to wake to "offline" and "back online" together); the urgent kinds go at
//! once. Pure: the caller gives the local time.

use chrono::NaiveTime;

use super::Alert;
use crate::config::alerts::AlertsConfig;

/// At most this many alerts wait for the end of quiet hours; older ones are dropped and counted.
pub const MAX_HELD: usize = 200;

/// Alerts held back by quiet hours.
#[derive(Debug, Default)]
pub struct Gate {
    held: Vec<Alert>,
    /// Held alerts dropped because more than [`MAX_HELD`] waited.
    pub dropped: u64,
}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    /// How many alerts wait for the end of quiet hours.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The alerts to send now for a new `alert` at local time `local`: none (switched off or held
    /// back), or the held ones (quiet hours are over) and this one.
    pub fn admit(&mut self, config: &AlertsConfig, alert: Alert, local: NaiveTime) -> Vec<Alert> {
        if !config.enabled_kinds().contains(&alert.kind) {
            return Vec::new();
        }
        let quiet = config
            .quiet_hours
            .as_ref()
            .filter(|q| q.contains(local) && !q.urgent().contains(&alert.kind));
        if quiet.is_none() {
            let mut out = self.release(config, local);
            out.push(alert);
            return out;
        }
        if alert.recovered {
            if let Some(i) = self
                .held
                .iter()
                .position(|h| !h.recovered && h.kind == alert.kind && h.miner == alert.miner)
            {
                self.held.remove(i);
                return Vec::new();
            }
        }
        if self.held.len() >= MAX_HELD {
            self.held.remove(0);
            self.dropped += 1;
        }
        self.held.push(alert);
        Vec::new()
    }

    /// The held alerts, once quiet hours are over (or off); none while they last.
    pub fn release(&mut self, config: &AlertsConfig, local: NaiveTime) -> Vec<Alert> {
        let quiet = config
            .quiet_hours
            .as_ref()
            .is_some_and(|q| q.contains(local));
        if quiet {
            return Vec::new();
        }
        let enabled = config.enabled_kinds();
        std::mem::take(&mut self.held)
            .into_iter()
            .filter(|a| enabled.contains(&a.kind))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKind;
    use crate::config::alerts::AlertQuietHours;
    use crate::config::ClockTime;

    fn alert(kind: AlertKind, miner: &str, recovered: bool) -> Alert {
        Alert {
            kind,
            miner: miner.into(),
            recovered,
            title: format!("{miner} {kind:?} {recovered}"),
            body: String::new(),
        }
    }

    fn t(h: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, 0, 0).expect("time")
    }

    fn night(except: Option<Vec<AlertKind>>) -> AlertsConfig {
        AlertsConfig {
            quiet_hours: Some(AlertQuietHours {
                from: ClockTime::hm(22, 0),
                to: ClockTime::hm(7, 0),
                except,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn default_kinds_leave_out_throttled_and_drift() {
        let mut g = Gate::new();
        let c = AlertsConfig::default();
        assert!(g
            .admit(&c, alert(AlertKind::Throttled, "a", false), t(12))
            .is_empty());
        assert!(g
            .admit(&c, alert(AlertKind::Drift, "a", false), t(12))
            .is_empty());
        assert_eq!(
            g.admit(&c, alert(AlertKind::Stalled, "a", false), t(12))
                .len(),
            1
        );
        let only_drift = AlertsConfig {
            kinds: Some(vec![AlertKind::Drift]),
            ..Default::default()
        };
        assert_eq!(
            g.admit(&only_drift, alert(AlertKind::Drift, "a", false), t(12))
                .len(),
            1
        );
        assert!(g
            .admit(&only_drift, alert(AlertKind::Offline, "a", false), t(12))
            .is_empty());
    }

    #[test]
    fn quiet_hours_hold_and_release_and_cancel_whole_episodes() {
        let mut g = Gate::new();
        let c = night(None);
        // Stalled is not urgent: held at 23:00.
        assert!(g
            .admit(&c, alert(AlertKind::Stalled, "a", false), t(23))
            .is_empty());
        assert!(g
            .admit(&c, alert(AlertKind::Stalled, "b", false), t(23))
            .is_empty());
        // a recovers inside the window: its whole episode is dropped.
        assert!(g
            .admit(&c, alert(AlertKind::Stalled, "a", true), t(2))
            .is_empty());
        // Offline is urgent by default: at once, and the held one stays held.
        let now = g.admit(&c, alert(AlertKind::Offline, "c", false), t(3));
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].miner, "c");
        assert_eq!(g.held(), 1);
        assert!(g.release(&c, t(6)).is_empty());
        let morning = g.release(&c, t(7));
        assert_eq!(morning.len(), 1);
        assert_eq!(morning[0].miner, "b");
        assert!(g.release(&c, t(8)).is_empty());
    }

    #[test]
    fn no_exceptions_means_nothing_at_night_and_the_held_go_first_after() {
        let mut g = Gate::new();
        let c = night(Some(vec![]));
        assert!(g
            .admit(&c, alert(AlertKind::Offline, "a", false), t(23))
            .is_empty());
        let out = g.admit(&c, alert(AlertKind::Stalled, "b", false), t(9));
        let miners: Vec<&str> = out.iter().map(|a| a.miner.as_str()).collect();
        assert_eq!(miners, ["a", "b"]);
    }

    #[test]
    fn the_held_list_is_bounded() {
        let mut g = Gate::new();
        let c = night(Some(vec![]));
        for i in 0..(MAX_HELD + 5) {
            g.admit(
                &c,
                alert(AlertKind::Offline, &format!("m{i}"), false),
                t(23),
            );
        }
        assert_eq!(g.held(), MAX_HELD);
        assert_eq!(g.dropped, 5);
        assert_eq!(g.release(&c, t(12))[0].miner, "m5");
    }
}
