//! The events view's log: the recent engine events worth a line, as sentences, in a ring of
//! [`EVENT_LOG_LEN`]. One task per engine fills it, so the desktop window and the web UI read
//! the same lines.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bitaxe_core::events::{Event, Level};
use bitaxe_core::EngineHandle;
use tokio::sync::broadcast::error::RecvError;

use crate::models::LoggedEvent;

/// Lines kept; the oldest goes first.
pub const EVENT_LOG_LEN: usize = 500;

/// The ring of recent lines (cheap to clone: one shared ring).
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    lines: Arc<Mutex<VecDeque<LoggedEvent>>>,
}

impl EventLog {
    pub fn push(&self, e: LoggedEvent) {
        let mut log = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= EVENT_LOG_LEN {
            log.pop_front();
        }
        log.push_back(e);
    }

    /// Every line kept, oldest first.
    pub fn lines(&self) -> Vec<LoggedEvent> {
        let log = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect()
    }

    /// Fill the log from `engine`'s events until the engine stops. Spawn it on a tokio runtime.
    pub async fn follow(self, engine: EngineHandle) {
        let mut rx = engine.subscribe();
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            if let Some(line) = log_line(&event, engine.now(), engine.zone()) {
                self.push(line);
            }
        }
    }
}

/// Events worth a line in the events view (samples and single steps are not).
pub fn log_line(
    event: &Event,
    at: chrono::DateTime<chrono::Utc>,
    zone: chrono_tz::Tz,
) -> Option<LoggedEvent> {
    let level = match event.level() {
        Level::Trace => return None,
        l => l.name(),
    };
    let kind = serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default();
    Some(LoggedEvent {
        at,
        miner: event.miner().map(str::to_string),
        kind,
        level: level.into(),
        text: crate::sentences::sentence(event, zone),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize) -> LoggedEvent {
        LoggedEvent {
            at: chrono::Utc::now(),
            miner: None,
            kind: "k".into(),
            level: "info".into(),
            text: format!("{i}"),
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_lines() {
        let log = EventLog::default();
        for i in 0..EVENT_LOG_LEN + 3 {
            log.clone().push(line(i));
        }
        let lines = log.lines();
        assert_eq!(lines.len(), EVENT_LOG_LEN);
        assert_eq!(lines[0].text, "3");
        assert_eq!(
            lines.last().map(|l| l.text.clone()),
            Some(format!("{}", EVENT_LOG_LEN + 2))
        );
    }

    #[test]
    fn the_events_view_skips_samples_and_grades_the_rest() {
        let now = chrono::Utc::now();
        let off = Event::StateChanged {
            miner: "a".into(),
            from: bitaxe_core::MinerState::Online,
            to: bitaxe_core::MinerState::Offline,
            reason: "refused".into(),
        };
        let l = log_line(&off, now, chrono_tz::Tz::UTC).expect("logged");
        assert_eq!(
            (l.level.as_str(), l.kind.as_str(), l.miner.as_deref()),
            ("error", "state_changed", Some("a"))
        );
        assert!(log_line(&Event::ConfigReloaded, now, chrono_tz::Tz::UTC).is_some());
    }
}
