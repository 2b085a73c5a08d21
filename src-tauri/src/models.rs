//! The desktop's own serde types (preferences). The command answers' types live in
//! `bitaxe-app` and are re-exported here, so `crate::models::Overview` still names them.

use bitaxe_core::alerts::AlertKind;
use serde::{Deserialize, Serialize};

pub use bitaxe_app::models::*;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(default)]
pub struct QuietHours {
    pub enabled: bool,
    pub start: String,
    pub end: String,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            enabled: false,
            start: "22:00".into(),
            end: "07:00".into(),
        }
    }
}

/// UI preferences (tauri-plugin-store); the miners' configuration lives in the config file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(default)]
pub struct Prefs {
    /// Alert kinds that raise a desktop notification.
    pub notify: Vec<AlertKind>,
    pub quiet_hours: QuietHours,
    pub chart_range: String,
    /// Ports of the demo fleet, so a restart brings the same demo back.
    pub demo_ports: Vec<u16>,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            notify: AlertKind::ALL.to_vec(),
            quiet_hours: QuietHours::default(),
            chart_range: "24h".into(),
            demo_ports: Vec::new(),
        }
    }
}
