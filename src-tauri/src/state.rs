//! What the app holds while it runs: the backend every dispatchable command goes to, the demo
//! fleet, the preferences, and the API it serves.
//!
//! The seam for remote mode: [`Backend`] is where a command goes. Today it is `Local` (this
//! process's own [`Service`], engine or read-only); a `Remote` variant (a client that POSTs
//! `/api/v1/call/{name}` with the same arguments) slots in beside it, and [`AppState::call`]
//! stays the one way the Tauri commands reach either.

use std::sync::{Arc, Mutex};

use bitaxe_app::{CmdError, Service};
use bitaxe_core::EngineHandle;
use bitaxe_sim::SimMiner;
use serde::Serialize;
use serde_json::Value;

use crate::models::Prefs;

/// Where the dispatchable commands run.
pub enum Backend {
    /// In this process, on this machine's engine (or read-only beside another scheduler).
    Local(Arc<Service>),
}

impl Backend {
    /// Run command `name` with `args` (the object the UI passed to `invoke`).
    pub async fn call(&self, name: &str, args: Value) -> Result<Value, CmdError> {
        match self {
            Backend::Local(service) => bitaxe_app::dispatch(service, name, args).await,
        }
    }
}

/// Where the desktop serves the API (`api.listen`), or why it does not.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ApiStatus {
    /// `http://ADDR:PORT` when the API is up.
    pub listening: Option<String>,
    /// Why it is not up although the config asks for it.
    pub error: Option<String>,
    /// The file holding the control token (the read token sits beside it).
    pub token_file: Option<String>,
}

pub struct AppState {
    pub backend: Backend,
    /// This process's engine, if it holds one (the tray, the demo and quitting use it).
    pub engine: Option<EngineHandle>,
    pub demo: Mutex<Vec<SimMiner>>,
    pub prefs: Mutex<Prefs>,
    /// The tray asked for "Safe settings for all"; the window confirms it when it (re)opens.
    pub pending_safe: std::sync::atomic::AtomicBool,
    pub api: Mutex<ApiStatus>,
    /// The API this app serves, stopped on quit.
    pub api_server: Mutex<Option<bitaxe_api::ApiServer>>,
}

impl AppState {
    pub fn new(backend: Backend, engine: Option<EngineHandle>, prefs: Prefs) -> AppState {
        AppState {
            backend,
            engine,
            demo: Mutex::new(Vec::new()),
            prefs: Mutex::new(prefs),
            pending_safe: Default::default(),
            api: Mutex::new(ApiStatus::default()),
            api_server: Mutex::new(None),
        }
    }

    /// Every dispatchable command goes through here.
    pub async fn call(&self, name: &str, args: Value) -> Result<Value, CmdError> {
        self.backend.call(name, args).await
    }

    /// The local service, for the desktop-only commands that need this machine's files.
    pub fn local(&self) -> Result<&Service, CmdError> {
        match &self.backend {
            Backend::Local(s) => Ok(s),
        }
    }

    /// The engine, or a `read_only` error naming why there is none.
    pub fn engine(&self) -> Result<&EngineHandle, CmdError> {
        self.local()?.engine()
    }

    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }

    pub fn api_status(&self) -> ApiStatus {
        self.api.lock().map(|a| a.clone()).unwrap_or_default()
    }
}
