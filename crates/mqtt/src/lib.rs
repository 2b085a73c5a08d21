//! The MQTT bridge: the engine's miners and fleet published to an MQTT broker with Home Assistant
//! discovery, and commands from Home Assistant (or any MQTT client) carried out through the
//! operations layer.
//!
//! Whoever holds the engine (the headless daemon, the desktop app) calls [`spawn`] once. The
//! bridge follows the config's `mqtt` key by itself: absent, it idles; set, it connects; changed
//! (another broker, other credentials or topics), it says goodbye and connects again; removed, it
//! disconnects. [`Bridge::stop`] ends it within five seconds.
//!
//! Parts:
//! - [`topics`]: every topic name;
//! - [`discovery`]: Home Assistant device discovery payloads;
//! - [`state`]: the JSON state each device publishes after each poll;
//! - [`command`]: commands from `select`, `switch` and `button` entities, through `ops`;
//! - `link`: the broker connection, reconnecting with backoff;
//! - `session`: one connection's life for one `mqtt` config.
#![forbid(unsafe_code)]

pub mod command;
pub mod discovery;
mod link;
mod session;
pub mod state;
pub mod topics;

use std::time::Duration;

use bitaxe_core::config::MqttConfig;
use bitaxe_core::EngineHandle;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use link::{FIRST_BACKOFF, MAX_BACKOFF};
pub use session::ENERGY_EVERY;

/// How often the bridge looks at the config for a changed `mqtt` key.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// What [`Bridge::stop`] waits at most.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The running bridge. Dropping it leaves the bridge running until the runtime ends; call
/// [`Bridge::stop`] for a clean goodbye (`offline` on the status topic, then a DISCONNECT).
pub struct Bridge {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// Start the bridge for `engine`; it follows the config's `mqtt` key (see the crate docs). Must be
/// called inside a Tokio runtime (in Tauri: inside `tauri::async_runtime::block_on` or a task).
pub fn spawn(engine: EngineHandle) -> Bridge {
    let cancel = CancellationToken::new();
    let task = tokio::spawn(follow(engine, cancel.clone()));
    Bridge { cancel, task }
}

impl Bridge {
    /// Say goodbye to the broker and end. Returns whether it finished within [`STOP_TIMEOUT`].
    pub async fn stop(self) -> bool {
        self.cancel.cancel();
        let mut task = self.task;
        match tokio::time::timeout(STOP_TIMEOUT, &mut task).await {
            Ok(_) => true,
            Err(_) => {
                task.abort();
                false
            }
        }
    }
}

async fn follow(engine: EngineHandle, cancel: CancellationToken) {
    let mut current: Option<MqttConfig> = None;
    let mut session: Option<session::Session> = None;
    let mut every = tokio::time::interval(FOLLOW_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = every.tick() => {}
        }
        let wanted = engine.config().mqtt.clone();
        if wanted == current {
            continue;
        }
        if let Some(s) = session.take() {
            tracing::info!("MQTT: the mqtt config changed; reconnecting");
            s.stop(STOP_TIMEOUT - Duration::from_secs(1)).await;
        }
        if let Some(config) = &wanted {
            match session::Session::start(engine.clone(), config.clone()) {
                Ok(s) => session = Some(s),
                // The config was validated on load; this is only a guard.
                Err(e) => tracing::error!("MQTT: mqtt.url: {e}"),
            }
        }
        current = wanted;
    }
    if let Some(s) = session {
        s.stop(STOP_TIMEOUT - Duration::from_millis(500)).await;
    }
}
