//! The one bridge from the engine to the desktop: engine events become window events, the
//! events log, tray updates and (through the alert rules) native notifications.

use std::time::{Duration, Instant};

use bitaxe_core::alerts::{Alert, AlertRules};
use bitaxe_core::events::Event;
use bitaxe_core::EngineHandle;
use chrono::NaiveTime;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use crate::models::{LoggedEvent, Prefs};
use crate::state::AppState;
use crate::tray::{self, TrayMenu};

/// The name of the window event that carries every engine event.
pub const ENGINE_EVENT: &str = "engine-event";

pub fn spawn(app: AppHandle, engine: EngineHandle, menu: TrayMenu) {
    tauri::async_runtime::spawn(async move {
        let mut rx = engine.subscribe();
        let mut rules = AlertRules::new();
        let mut last_tray = Instant::now() - Duration::from_secs(10);
        tray::refresh(&app, &engine.status(), &menu);
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            let _ = app.emit(ENGINE_EVENT, &event);
            let state = app.state::<AppState>();
            if let Some(logged) = log_line(&event, engine.now()) {
                state.push_event(logged);
            }
            let prefs = state.prefs();
            let local = engine.now().with_timezone(&engine.zone()).time();
            for alert in rules.on_event(&event) {
                if should_notify(&prefs, &alert, local) {
                    let _ = app
                        .notification()
                        .builder()
                        .title(&alert.title)
                        .body(&alert.body)
                        .show();
                }
            }
            let important = event.level() > bitaxe_core::events::Level::Trace;
            if important || last_tray.elapsed() > Duration::from_secs(2) {
                last_tray = Instant::now();
                tray::refresh(&app, &engine.status(), &menu);
            }
        }
    });
}

/// Events worth a line in the events view (samples and single steps are not).
pub fn log_line(event: &Event, at: chrono::DateTime<chrono::Utc>) -> Option<LoggedEvent> {
    let level = match event.level() {
        bitaxe_core::events::Level::Trace => return None,
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
        text: event.describe(),
    })
}

fn parse_hm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// Whether `local` falls in the quiet hours (a window may cross midnight).
pub fn quiet(prefs: &Prefs, local: NaiveTime) -> bool {
    let q = &prefs.quiet_hours;
    match (q.enabled, parse_hm(&q.start), parse_hm(&q.end)) {
        (true, Some(s), Some(e)) if s < e => s <= local && local < e,
        (true, Some(s), Some(e)) if s > e => local >= s || local < e,
        _ => false,
    }
}

/// A desktop notification for this alert: its kind is switched on and it is not quiet hours.
pub fn should_notify(prefs: &Prefs, alert: &Alert, local: NaiveTime) -> bool {
    prefs.notify.contains(&alert.kind) && !quiet(prefs, local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::QuietHours;
    use bitaxe_core::alerts::AlertKind;

    fn alert(kind: AlertKind) -> Alert {
        Alert {
            kind,
            miner: "a".into(),
            recovered: false,
            title: "t".into(),
            body: "b".into(),
        }
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
    }

    #[test]
    fn toggles_and_quiet_hours_across_midnight() {
        let mut p = Prefs::default();
        assert!(should_notify(&p, &alert(AlertKind::Offline), t(23, 0)));
        p.notify.retain(|k| *k != AlertKind::Drift);
        assert!(!should_notify(&p, &alert(AlertKind::Drift), t(12, 0)));
        p.quiet_hours = QuietHours {
            enabled: true,
            start: "22:00".into(),
            end: "07:00".into(),
        };
        assert!(!should_notify(&p, &alert(AlertKind::Offline), t(23, 0)));
        assert!(!should_notify(&p, &alert(AlertKind::Offline), t(6, 59)));
        assert!(should_notify(&p, &alert(AlertKind::Offline), t(7, 0)));
        p.quiet_hours = QuietHours {
            enabled: true,
            start: "12:00".into(),
            end: "13:00".into(),
        };
        assert!(!should_notify(&p, &alert(AlertKind::Offline), t(12, 30)));
        assert!(should_notify(&p, &alert(AlertKind::Offline), t(13, 30)));
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
        let line = log_line(&off, now).expect("logged");
        assert_eq!(
            (
                line.level.as_str(),
                line.kind.as_str(),
                line.miner.as_deref()
            ),
            ("error", "state_changed", Some("a"))
        );
        assert!(line.text.contains("Offline"));
        assert!(log_line(&Event::ConfigReloaded, now).is_some());
        let s = bitaxe_core::events::Sample {
            miner: "a".into(),
            at: now,
            profile: bitaxe_core::schedule::Profile::Day,
            hashrate: 1.0,
            power: 1.0,
            temp: None,
            vr_temp: None,
            voltage: None,
            frequency: None,
        };
        assert!(log_line(&Event::Sampled(s), now).is_none());
    }
}
