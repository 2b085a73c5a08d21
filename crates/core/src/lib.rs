//! The engine: configuration, schedule, safety envelope, transitions, reconcile, fleet polling,
//! statistics, history and events. No UI, no CLI parsing, no Tauri.
#![forbid(unsafe_code)]

pub mod config;
pub mod safety;
pub mod schedule;
