//! The engine: configuration, schedule, safety envelope, transitions, reconcile, fleet polling,
//! statistics, history and events. No UI, no CLI parsing, no Tauri.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod budget;
pub mod chart;
pub mod clock;
pub mod config;
pub mod cost;
pub mod discovery;
pub mod engine;
pub mod events;
pub mod fleet;
pub mod history;
pub mod identity;
pub mod lock;
pub mod ops;
pub mod overrides;
pub mod plan;
pub mod prices;
pub mod profiles;
pub mod reconcile;
pub mod safety;
pub mod schedule;
pub mod stats;
pub mod status;
pub mod transition;

pub use axeos;
pub use engine::worker::MinerCommand;
pub use engine::{EngineError, EngineHandle, EngineOptions};
pub use events::{Event, MinerState};
