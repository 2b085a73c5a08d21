//! The one bridge from an engine to the desktop: engine events become window events, the
//! events log, tray updates and (through the alert rules) native notifications. The engine is
//! a [`Source`]: the local one ([`Local`]) or a scheduler the app is attached to
//! (`crate::remote`), so the tray and notifications behave the same either way.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bitaxe_core::alerts::{Alert, AlertFeed};
use bitaxe_core::events::Event;
use bitaxe_core::status::FleetStatus;
use bitaxe_core::EngineHandle;
use chrono::{DateTime, NaiveTime, Utc};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

use crate::models::Prefs;
use crate::state::AppState;
use crate::tray::{self, TrayMenu};

/// The name of the window event that carries every engine event.
pub const ENGINE_EVENT: &str = "engine-event";

/// What the bridge reads: the engine's events in order, and its fleet status on demand.
pub trait Source: Send + 'static {
    /// The next event; `None` when the engine is gone for good.
    fn next(&mut self) -> impl Future<Output = Option<Event>> + Send;
    /// The fleet now, for the tray; `None` when it cannot be had (a lost link).
    fn status(&mut self) -> impl Future<Output = Option<FleetStatus>> + Send;
    /// The engine's clock and zone (for the events log and quiet hours).
    fn now(&self) -> DateTime<Utc>;
    fn zone(&self) -> chrono_tz::Tz;
}

/// The engine this app runs.
pub struct Local {
    engine: EngineHandle,
    rx: tokio::sync::broadcast::Receiver<Event>,
}

impl Local {
    pub fn new(engine: EngineHandle) -> Local {
        let rx = engine.subscribe();
        Local { engine, rx }
    }
}

impl Source for Local {
    async fn next(&mut self) -> Option<Event> {
        loop {
            match self.rx.recv().await {
                Ok(e) => return Some(e),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    async fn status(&mut self) -> Option<FleetStatus> {
        Some(self.engine.status())
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.now()
    }

    fn zone(&self) -> chrono_tz::Tz {
        self.engine.zone()
    }
}

/// The bridge task running now (one at a time: attaching replaces the local one).
#[derive(Default)]
pub struct Running(Mutex<Option<tauri::async_runtime::JoinHandle<()>>>);

impl Running {
    /// Stop the bridge running now, if any.
    pub fn stop(&self) {
        if let Some(task) = self.0.lock().ok().and_then(|mut t| t.take()) {
            task.abort();
        }
    }
}

/// Bridge the local engine.
pub fn spawn(app: AppHandle, engine: EngineHandle, menu: TrayMenu) {
    spawn_source(app, Local::new(engine), menu)
}

/// Bridge `source`, replacing the bridge that ran before.
pub fn spawn_source<S: Source>(app: AppHandle, mut source: S, menu: TrayMenu) {
    if app.try_state::<Running>().is_none() {
        app.manage(Running::default());
    }
    let app2 = app.clone();
    let task = tauri::async_runtime::spawn(async move {
        let app = app2;
        // The same alerts as the engine's own channels (bitaxe_core::alerts), told natively here.
        let mut feed = AlertFeed::new();
        let mut last_tray = Instant::now() - Duration::from_secs(10);
        if let Some(status) = source.status().await {
            tray::refresh(&app, &status, &menu);
        }
        while let Some(event) = source.next().await {
            let _ = app.emit(ENGINE_EVENT, &event);
            let state = app.state::<AppState>();
            let prefs = state.prefs();
            let local = source.now().with_timezone(&source.zone()).time();
            for alert in feed.on_event(&event) {
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
                if let Some(status) = source.status().await {
                    tray::refresh(&app, &status, &menu);
                }
            }
        }
    });
    let running = app.state::<Running>();
    if let Ok(mut slot) = running.0.lock() {
        if let Some(before) = slot.replace(task) {
            before.abort();
        }
    };
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

    fn settings(v: u32, f: f64) -> bitaxe_core::safety::Settings {
        bitaxe_core::safety::Settings::new(v, f)
    }

    fn notices(events: &[Event]) -> Vec<Alert> {
        let mut feed = AlertFeed::new();
        events.iter().flat_map(|e| feed.on_event(e)).collect()
    }

    #[test]
    fn safety_events_raise_notifications_of_their_own_kind() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-25T18:30:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok();
        let alerts = notices(&[
            Event::GaveUp {
                miner: "attic".into(),
                target: settings(1200, 550.0),
                reason: "the miner kept 1150mV @ 500MHz after 3 writes; held where it is".into(),
                retry_at: at,
            },
            Event::CeilingLowered {
                miner: "attic".into(),
                profile: bitaxe_core::schedule::Profile::day(),
                steps: 1,
            },
            Event::IdentityChanged {
                miner: "garage".into(),
                expected: "aa:bb".into(),
                found: "cc:dd".into(),
            },
        ]);
        let kinds: Vec<AlertKind> = alerts.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            vec![
                AlertKind::GaveUp,
                AlertKind::CeilingLowered,
                AlertKind::IdentityChanged
            ]
        );
        assert_eq!(alerts[0].title, "attic would not take 1200mV @ 550MHz");
        assert!(
            alerts[0].body.contains("kept 1150mV @ 500MHz") && alerts[0].body.contains("18:30"),
            "{}",
            alerts[0].body
        );
        assert!(
            alerts[1]
                .body
                .starts_with("Day now runs 1 throttle step(s) lower on attic"),
            "{}",
            alerts[1].body
        );
        assert!(alerts[2].miner == "garage" && alerts[2].body.contains("cc:dd"));
        // New kinds are on by default, and each has its own switch; quiet hours hold them too.
        let mut p = Prefs::default();
        assert!(alerts.iter().all(|a| should_notify(&p, a, t(12, 0))));
        p.notify.retain(|k| *k != AlertKind::GaveUp);
        assert!(!should_notify(&p, &alerts[0], t(12, 0)));
        assert!(should_notify(&p, &alerts[2], t(12, 0)));
        p.quiet_hours = QuietHours {
            enabled: true,
            start: "22:00".into(),
            end: "07:00".into(),
        };
        assert!(!should_notify(&p, &alerts[2], t(23, 0)));
    }

    #[test]
    fn a_firmware_overheat_is_told_once_and_its_end_still_is() {
        let changed = |from, to| Event::StateChanged {
            miner: "attic".into(),
            from,
            to,
            reason: "the firmware stopped the ASIC to cool it".into(),
        };
        let alerts = notices(&[
            Event::FirmwareOverheat {
                miner: "attic".into(),
            },
            changed(
                bitaxe_core::MinerState::Online,
                bitaxe_core::MinerState::Overheated,
            ),
            changed(
                bitaxe_core::MinerState::Overheated,
                bitaxe_core::MinerState::Online,
            ),
        ]);
        assert_eq!(alerts.len(), 2, "{alerts:?}");
        assert!(
            alerts[0].kind == AlertKind::Overheated
                && !alerts[0].recovered
                && alerts[0].body.contains("firmware's overheat protection")
        );
        assert!(alerts[1].recovered && alerts[1].title == "attic is cool again");
        // An overheat the engine sees itself (no firmware event before it) is still told.
        let alerts = notices(&[changed(
            bitaxe_core::MinerState::Online,
            bitaxe_core::MinerState::Overheated,
        )]);
        assert_eq!(alerts.len(), 1);
    }
}
