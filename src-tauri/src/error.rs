//! What the UI receives when a command fails: `{ code, message }`. The UI branches on `code`.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
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
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
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

impl From<tauri::Error> for CmdError {
    fn from(e: tauri::Error) -> Self {
        CmdError::new("app", e.to_string())
    }
}
