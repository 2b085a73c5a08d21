//! What the UI receives when a command fails: `{ code, message }`. The UI branches on `code`,
//! never on the text; the HTTP API answers with the same object.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{code}: {message}")]
pub struct CmdError {
    pub code: String,
    pub message: String,
}

impl CmdError {
    pub fn new(code: &str, message: impl Into<String>) -> CmdError {
        CmdError {
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn read_only(why: &str) -> CmdError {
        CmdError::new("read_only", format!("Read-only: {why}"))
    }

    /// The command's arguments do not fit it (the message names the field).
    pub fn bad_args(command: &str, why: impl std::fmt::Display) -> CmdError {
        CmdError::new("bad_args", format!("{command}: {why}"))
    }
}

impl From<bitaxe_core::EngineError> for CmdError {
    fn from(e: bitaxe_core::EngineError) -> Self {
        CmdError::new(e.code(), e.to_string())
    }
}

impl From<bitaxe_core::ops::OpsError> for CmdError {
    fn from(e: bitaxe_core::ops::OpsError) -> Self {
        CmdError::new(e.code(), e.to_string())
    }
}

impl From<bitaxe_core::config::ConfigError> for CmdError {
    fn from(e: bitaxe_core::config::ConfigError) -> Self {
        CmdError::new(e.code(), e.to_string())
    }
}

impl From<bitaxe_core::axeos::Error> for CmdError {
    fn from(e: bitaxe_core::axeos::Error) -> Self {
        CmdError::new(e.code(), e.to_string())
    }
}

impl From<std::io::Error> for CmdError {
    fn from(e: std::io::Error) -> Self {
        CmdError::new("io", e.to_string())
    }
}

impl From<tokio::task::JoinError> for CmdError {
    fn from(e: tokio::task::JoinError) -> Self {
        CmdError::new("app", e.to_string())
    }
}
