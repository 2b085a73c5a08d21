//! What the commands need, held once per engine: where the config is, the engine (or why there
//! is none), the recent events, and where `export_config` may write. The desktop shell and the
//! HTTP API each hold one (the desktop's API shares the desktop's).

use std::path::{Path, PathBuf};

use bitaxe_core::ops::{Standalone, Target};
use bitaxe_core::EngineHandle;
use chrono::{DateTime, Utc};

use crate::error::CmdError;
use crate::log::EventLog;

/// How to build a [`Service`].
#[derive(Clone)]
pub struct ServiceOptions {
    pub config_path: PathBuf,
    /// Where history and logs live (the desktop's "open log folder").
    pub data_dir: PathBuf,
    /// `None` when another scheduler holds the config's lock.
    pub engine: Option<EngineHandle>,
    /// Why there is no engine (shown by the UI, and the message of every `read_only` error).
    pub read_only: Option<String>,
    /// Where `export_config` writes the config file (the desktop: the Downloads folder); none:
    /// `export_config` is refused (a daemon has no user's folder to write to).
    pub export_dir: Option<PathBuf>,
}

impl ServiceOptions {
    /// For a running engine: its config, the config's folder as data dir, no export folder.
    pub fn for_engine(engine: EngineHandle) -> ServiceOptions {
        let config_path = engine.config_path().to_path_buf();
        let data_dir = config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        ServiceOptions {
            config_path,
            data_dir,
            engine: Some(engine),
            read_only: None,
            export_dir: None,
        }
    }
}

/// The state behind every command (see [`crate::dispatch`]).
pub struct Service {
    pub config_path: PathBuf,
    pub data_dir: PathBuf,
    pub engine: Option<EngineHandle>,
    pub read_only: Option<String>,
    pub export_dir: Option<PathBuf>,
    pub events: EventLog,
}

impl Service {
    /// Build the service; with an engine, a task starts filling the events log from it, so
    /// call this inside a tokio runtime (in Tauri: inside `tauri::async_runtime::block_on`).
    pub fn new(o: ServiceOptions) -> Service {
        let events = EventLog::default();
        if let Some(engine) = &o.engine {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(events.clone().follow(engine.clone()));
            } else {
                tracing::warn!("no tokio runtime: the events log stays empty");
            }
        }
        Service {
            config_path: o.config_path,
            data_dir: o.data_dir,
            engine: o.engine,
            read_only: o.read_only,
            export_dir: o.export_dir,
            events,
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

    /// The engine's clock (a test's fake clock), else the wall clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.engine
            .as_ref()
            .map(|e| e.now())
            .unwrap_or_else(Utc::now)
    }
}
