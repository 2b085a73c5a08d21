//! What the app holds while it runs: the engine (or why it is read-only), the recent events,
//! the demo fleet and the preferences.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use bitaxe_core::ops::{Standalone, Target};
use bitaxe_core::EngineHandle;
use bitaxe_sim::SimMiner;

use crate::error::CmdError;
use crate::models::{LoggedEvent, Prefs};

pub const EVENT_LOG_LEN: usize = 500;

pub struct AppState {
    pub config_path: PathBuf,
    pub data_dir: PathBuf,
    /// `None` when another scheduler holds the config's lock.
    pub engine: Option<EngineHandle>,
    pub read_only: Option<String>,
    pub events: Mutex<VecDeque<LoggedEvent>>,
    pub demo: Mutex<Vec<SimMiner>>,
    pub prefs: Mutex<Prefs>,
    /// The tray asked for "Safe settings for all"; the window confirms it when it (re)opens.
    pub pending_safe: std::sync::atomic::AtomicBool,
}

impl AppState {
    pub fn new(
        config_path: PathBuf,
        data_dir: PathBuf,
        engine: Option<EngineHandle>,
        read_only: Option<String>,
        prefs: Prefs,
    ) -> AppState {
        AppState {
            config_path,
            data_dir,
            engine,
            read_only,
            events: Mutex::new(VecDeque::new()),
            demo: Mutex::new(Vec::new()),
            prefs: Mutex::new(prefs),
            pending_safe: Default::default(),
        }
    }

    /// The engine, or a `read_only` error naming why there is none.
    pub fn engine(&self) -> Result<&EngineHandle, CmdError> {
        self.engine
            .as_ref()
            .ok_or_else(|| CmdError::read_only(self.read_only.as_deref().unwrap_or("no engine")))
    }

    /// Where reads and the always-allowed actions (emergency stop, resume) go: the engine, or,
    /// beside a running scheduler, the config and state files (which that scheduler follows).
    pub fn target(&self) -> Target {
        match &self.engine {
            Some(e) => Target::Engine(e.clone()),
            None => Target::Standalone(Standalone::new(
                &self.config_path,
                bitaxe_core::axeos::Http::default(),
            )),
        }
    }

    /// The engine as an operations target, or a `read_only` error naming why there is none.
    pub fn engine_target(&self) -> Result<Target, CmdError> {
        self.engine().map(|e| Target::Engine(e.clone()))
    }

    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }

    pub fn push_event(&self, e: LoggedEvent) {
        if let Ok(mut log) = self.events.lock() {
            if log.len() >= EVENT_LOG_LEN {
                log.pop_front();
            }
            log.push_back(e);
        }
    }
}
