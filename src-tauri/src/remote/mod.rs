//! The desktop attached to a scheduler elsewhere (a Raspberry Pi running `bitaxe-scheduler
//! --serve`). Attached, no local engine runs: every command the window sends that the daemon
//! knows is forwarded to it (`POST /api/v1/call/{command}`, see [`forward`]), its events come
//! over SSE into the same bridge as the local engine's (so the tray and the notifications follow
//! it), and the link's state goes to the window as the `connection` event. The webview itself
//! never talks to the network: all of it runs here.

pub mod client;
pub mod commands;
pub mod discover;
pub mod events;
pub mod store;
pub mod tls;

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bitaxe_core::events::Event;
use bitaxe_core::status::FleetStatus;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tauri::ipc::Invoke;
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tokio::sync::mpsc;

pub use client::{Address, Client, ConnectError};
pub use events::Connection;
pub use store::Attachment;

use crate::error::CmdError;
use crate::tray::TrayMenu;

/// The window event that carries the link's [`Connection`] state.
pub const CONNECTION_EVENT: &str = "connection";

/// Commands the daemon runs (its dispatcher's read and control commands): attached, these go to
/// it. Desktop-only commands (preferences, autostart, the tray, opening folders) stay here.
pub const FORWARDED: &[&str] = &[
    "overview",
    "get_config",
    "save_config",
    "validate_config",
    "check_config",
    "profile_specs",
    "preview_week",
    "test_fetch",
    "test_alerts",
    "refresh_prices",
    "price_strip",
    "cost_summary",
    "probe_miner",
    "scan",
    // The scan runs on the scheduler's machine: its own network is the one to offer.
    "default_scan_range",
    "add_miners",
    "update_miner",
    "remove_miner",
    "apply_profile",
    "set_paused",
    "emergency_stop",
    "resume",
    "restart_miner",
    "retry_miner",
    "clear_ceiling",
    "confirm_identity",
    "pause_miner",
    "plan",
    "chart",
    "sparklines",
    "day_night_stats",
    "events",
    "import_config",
];

/// Commands that act on the local engine or its files and mean nothing while attached.
const LOCAL_ENGINE_ONLY: &[&str] = &["start_demo", "stop_demo"];

/// One attachment: the client, the link's state, and its tasks (stopped on Disconnect).
pub struct Link {
    pub client: Client,
    state: Mutex<Connection>,
    zone: Mutex<chrono_tz::Tz>,
    follower: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
}

impl Link {
    pub fn connection(&self) -> Connection {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(Connection::Local)
    }

    pub fn host(&self) -> String {
        self.client.address().host()
    }

    pub async fn call(&self, name: &str, args: Value) -> Result<Value, CmdError> {
        self.client.call(name, args).await
    }

    fn stop(&self) {
        if let Some(t) = self.follower.lock().ok().and_then(|mut f| f.take()) {
            t.abort();
        }
    }
}

/// The attachment in force, if any (managed app state).
#[derive(Default)]
pub struct Attached(RwLock<Option<Arc<Link>>>);

impl Attached {
    pub fn link(&self) -> Option<Arc<Link>> {
        self.0.read().ok().and_then(|l| l.clone())
    }
}

/// The link in force, if the app is attached.
pub fn link<R: Runtime>(app: &AppHandle<R>) -> Option<Arc<Link>> {
    app.try_state::<Attached>().and_then(|a| a.link())
}

/// The state to show: `Local` when not attached.
pub fn connection<R: Runtime>(app: &AppHandle<R>) -> Connection {
    link(app)
        .map(|l| l.connection())
        .unwrap_or(Connection::Local)
}

/// Why the app has no engine of its own while attached (shown where the local engine's
/// read-only reason would be).
pub fn read_only_reason(a: &Attachment) -> String {
    let host = Address::parse(&a.address)
        .map(|a| a.host())
        .unwrap_or_else(|_| a.address.clone());
    format!("attached to the scheduler at {host}")
}

/// The attachment saved last time, if the app should start attached.
pub fn saved(app: &AppHandle) -> Option<Attachment> {
    store::load(app)
}

/// Start following `client`: its events into the bridge, its state to the window. Replaces the
/// bridge that ran before (the local engine's).
pub fn start(app: &AppHandle, client: Client, menu: TrayMenu) -> Arc<Link> {
    if app.try_state::<Attached>().is_none() {
        app.manage(Attached::default());
    }
    let host = client.address().host();
    let link = Arc::new(Link {
        client: client.clone(),
        state: Mutex::new(Connection::Connecting { host }),
        zone: Mutex::new(chrono_tz::Tz::UTC),
        follower: Mutex::new(None),
    });
    if let Some(before) = app
        .state::<Attached>()
        .0
        .write()
        .ok()
        .and_then(|mut l| l.replace(link.clone()))
    {
        before.stop();
    }
    let (tx, rx) = mpsc::channel::<Event>(256);
    let app2 = app.clone();
    let link2 = link.clone();
    let follower = tauri::async_runtime::spawn(async move {
        let app3 = app2.clone();
        let link3 = link2.clone();
        events::follow(link2.client.clone(), tx, move |c| {
            if let Ok(mut s) = link3.state.lock() {
                *s = c.clone();
            }
            let _ = app3.emit(CONNECTION_EVENT, &c);
        })
        .await;
    });
    if let Ok(mut f) = link.follower.lock() {
        *f = Some(follower);
    }
    crate::bridge::spawn_source(
        app.clone(),
        Remote {
            link: link.clone(),
            rx,
            zone_known: false,
            zone_asked: None,
        },
        menu,
    );
    link
}

/// Stop following the link in force (its bridge stops with it) and forget it.
pub fn stop(app: &AppHandle) {
    if let Some(link) = app
        .try_state::<Attached>()
        .and_then(|a| a.0.write().ok().and_then(|mut l| l.take()))
    {
        link.stop();
    }
    if let Some(running) = app.try_state::<crate::bridge::Running>() {
        running.stop();
    }
}

/// The remote engine as the bridge's [`crate::bridge::Source`].
struct Remote {
    link: Arc<Link>,
    rx: mpsc::Receiver<Event>,
    zone_known: bool,
    /// When the zone was last asked for (asked again at most once a minute until known).
    zone_asked: Option<std::time::Instant>,
}

impl Remote {
    /// The scheduler's zone, from its config (quiet hours and the events log use it).
    async fn refresh_zone(&mut self) {
        self.zone_asked = Some(std::time::Instant::now());
        if let Ok(v) = self.link.call("get_config", Value::Null).await {
            if let Ok(config) = serde_json::from_value::<bitaxe_core::config::Config>(v) {
                if let Ok(mut z) = self.link.zone.lock() {
                    *z = bitaxe_core::schedule::zone(&config);
                    self.zone_known = true;
                }
            }
        }
    }
}

impl crate::bridge::Source for Remote {
    async fn next(&mut self) -> Option<Event> {
        let event = self.rx.recv().await?;
        let ask_again = self
            .zone_asked
            .is_none_or(|t| t.elapsed() > Duration::from_secs(60));
        if (!self.zone_known && ask_again) || matches!(event, Event::ConfigReloaded) {
            self.refresh_zone().await;
        }
        Some(event)
    }

    async fn status(&mut self) -> Option<FleetStatus> {
        let v = tokio::time::timeout(
            Duration::from_secs(5),
            self.link.call("overview", Value::Null),
        )
        .await
        .ok()?
        .ok()?;
        serde_json::from_value(v.get("status")?.clone()).ok()
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn zone(&self) -> chrono_tz::Tz {
        self.link
            .zone
            .lock()
            .map(|z| *z)
            .unwrap_or(chrono_tz::Tz::UTC)
    }
}

/// The app's invoke handler with the remote seam in front: attached, a command the daemon runs
/// is forwarded to it; a local-engine-only one is refused with a clear error; the rest (the
/// desktop's own) run here as always.
pub fn forward<R, F>(local: F) -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static
where
    R: Runtime,
    F: Fn(Invoke<R>) -> bool + Send + Sync + 'static,
{
    move |invoke: Invoke<R>| {
        let app = invoke.message.webview().app_handle().clone();
        let Some(link) = link(&app) else {
            return local(invoke);
        };
        let name = invoke.message.command().to_string();
        if LOCAL_ENGINE_ONLY.contains(&name.as_str()) {
            invoke.resolver.reject(CmdError::new(
                "attached",
                format!(
                    "not while attached to the scheduler at {}: disconnect to use this app's own engine",
                    link.host()
                ),
            ));
            return true;
        }
        if !FORWARDED.contains(&name.as_str()) {
            return local(invoke);
        }
        let args = match invoke.message.payload() {
            tauri::ipc::InvokeBody::Json(v) => v.clone(),
            tauri::ipc::InvokeBody::Raw(_) => {
                invoke.resolver.reject(CmdError::new(
                    "bad_arguments",
                    format!("{name}: binary arguments cannot be sent to a scheduler"),
                ));
                return true;
            }
        };
        tauri::async_runtime::spawn(async move {
            let answer = link.call(&name, args).await;
            match answer {
                Ok(v) => invoke.resolver.resolve(v),
                Err(e) => invoke.resolver.reject(e),
            }
        });
        true
    }
}

#[cfg(test)]
mod tests;
