//! The app's command layer: every command the UI calls (`overview`, `apply_profile`, `chart`,
//! ...), with the types it answers in, behind one dispatcher ([`dispatch`]) by command name.
//! The desktop shell's Tauri commands call it for their own window; the HTTP API
//! (`POST /api/v1/call/{command}`) calls it for the web UI and for a desktop attached to a
//! remote scheduler. No Tauri here (the headless scheduler depends on this crate).
#![forbid(unsafe_code)]

pub mod commands;
pub mod dispatch;
pub mod draft;
pub mod error;
pub mod export;
pub mod log;
pub mod models;
pub mod prices;
pub mod redact;
pub mod sentences;
pub mod service;

pub use commands::{is_demo, DEMO_PREFIX};
pub use dispatch::{dispatch, dispatch_as, scope_of, Scope, COMMANDS};
pub use error::CmdError;
pub use log::{log_line, EventLog, EVENT_LOG_LEN};
pub use service::{Service, ServiceOptions};
