//! The engine: a cheap `Clone` handle is the only way in, the [`Event`] bus the only way out.
//!
//! Parts, each given only what it uses:
//! - [`handle`]: the [`EngineHandle`] front ends hold (reads the plan and the status board,
//!   changes the plan, shuts down);
//! - [`supervisor`]: watches the config and state files, announces profile changes, starts and
//!   stops one worker per enabled miner;
//! - `worker` (one per enabled miner): poll, decide, move; it gets a [`Shared`] (bus, clock,
//!   its status board, cancellation) and the plan's watch channel;
//! - [`budget_task`]: with `power_budget` set, decides which profile each miner may run and
//!   releases those decisions at the stagger's pace ([`budget_task::Caps`]);
//! - [`alerts_task`]: sends the alerts the events raise to the config's channels (ntfy,
//!   Telegram, webhook, e-mail), retried with backoff, each channel on its own;
//! - [`recorder`]: keeps the history database and the statistics file from the bus;
//! - [`status_board`]: what every miner looks like now.
//!
//! All tasks are tracked and cancellable; [`EngineHandle::shutdown`] cancels, waits, flushes.

pub(crate) mod alerts_task;
pub(crate) mod budget_task;
pub(crate) mod handle;
pub mod meters;
pub(crate) mod prices;
pub(crate) mod recorder;
pub(crate) mod status_board;
pub(crate) mod supervisor;
pub(crate) mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::ConfigError;
use crate::engine::worker::Mailboxes;
use crate::events::Event;
use crate::lock::LockError;
use crate::status::MinerStatus;

pub use alerts_task::{AlertOptions, RetryPolicy};
pub use handle::EngineHandle;
pub(crate) use status_board::StatusBoard;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    /// The decision is in force in the running engine, but the state file could not be written:
    /// it will not survive a restart, and a one-shot command will not see it.
    #[error("in force now, but not saved: {0}")]
    StateNotSaved(String),
    #[error("unknown miner {0:?}")]
    UnknownMiner(String),
    #[error("{0}")]
    Io(String),
}

impl EngineError {
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Config(e) => e.code(),
            EngineError::Lock(LockError::Held { .. }) => "engine_locked",
            EngineError::Lock(_) => "lock_io",
            EngineError::History(_) => "history",
            EngineError::StateNotSaved(_) => "state_not_saved",
            EngineError::UnknownMiner(_) => "unknown_miner",
            EngineError::Io(_) => "io",
        }
    }
}

pub struct EngineOptions {
    pub config_path: PathBuf,
    /// Where the history database lives.
    pub data_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    pub http: axeos::Http,
    /// How often the supervisor looks at the config and override files.
    pub watch_every: Duration,
    /// Drive only these miners (a one-shot run for some of the fleet); `None`: every enabled one.
    pub only: Option<Vec<String>>,
    /// How often the tariff's price feed is fetched (default an hour).
    pub price_refresh: Duration,
    /// How alerts are delivered and retried (see [`alerts_task`]).
    pub alerts: AlertOptions,
}

impl EngineOptions {
    pub fn new(config_path: &Path) -> EngineOptions {
        let data_dir = config_path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        EngineOptions {
            config_path: config_path.to_path_buf(),
            data_dir,
            clock: Arc::new(crate::clock::SystemClock),
            http: axeos::Http::default(),
            watch_every: Duration::from_secs(1),
            only: None,
            price_refresh: Duration::from_secs(3600),
            alerts: AlertOptions::default(),
        }
    }
}

/// What a worker is given besides its client and the plan: the bus, the clock, the status board,
/// the config's path (for the identities kept beside it), the mailboxes and the engine's
/// cancellation.
pub(crate) struct Shared {
    pub bus: broadcast::Sender<Event>,
    pub clock: Arc<dyn Clock>,
    pub config_path: PathBuf,
    /// Each worker's mailbox: restart, pause and retry go through the miner's own worker.
    pub mailboxes: Arc<Mailboxes>,
    board: Arc<StatusBoard>,
    cancel: CancellationToken,
    /// What the power budget lets each miner run (inactive without a budget).
    pub caps: watch::Sender<Arc<budget_task::Caps>>,
    /// The budget's use now, for the status (none without a budget).
    budget_use: std::sync::RwLock<Option<crate::budget::BudgetUse>>,
    /// How long each poll took, for `/metrics`.
    pub polls: meters::PollDurations,
}

impl Shared {
    pub fn new(
        bus: broadcast::Sender<Event>,
        clock: Arc<dyn Clock>,
        config_path: PathBuf,
        mailboxes: Arc<Mailboxes>,
        board: Arc<StatusBoard>,
        cancel: CancellationToken,
    ) -> Shared {
        Shared {
            bus,
            clock,
            config_path,
            mailboxes,
            board,
            cancel,
            caps: watch::Sender::new(Arc::new(budget_task::Caps::default())),
            budget_use: std::sync::RwLock::new(None),
            polls: meters::PollDurations::default(),
        }
    }

    pub fn set_budget_use(&self, u: Option<crate::budget::BudgetUse>) {
        if let Ok(mut slot) = self.budget_use.write() {
            *slot = u;
        }
    }

    pub fn budget_use(&self) -> Option<crate::budget::BudgetUse> {
        self.budget_use.read().ok().and_then(|u| u.clone())
    }

    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    pub(super) fn board(&self) -> &StatusBoard {
        &self.board
    }

    pub fn update_status(&self, miner: &str, f: impl FnOnce(&mut MinerStatus)) {
        self.board.update(miner, f);
    }
}
