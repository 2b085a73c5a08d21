//! [`EngineHandle`]: the only way into a running engine. It reads the plan and the status board,
//! changes the plan (in memory first, so workers act at once, then in the state file), and shuts
//! the engine down.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::budget_task::BudgetTask;
use super::recorder::Recorder;
use super::supervisor::Supervisor;
use super::{EngineError, EngineOptions, Shared, StatusBoard};
use crate::clock::Clock;
use crate::config::Config;
use crate::engine::worker::{Mailboxes, MinerCommand};
use crate::events::Event;
use crate::history::{History, HISTORY_FILE};
use crate::lock::EngineLock;
use crate::overrides::{Manual, Overrides};
use crate::plan::{Plan, Source};
use crate::schedule::{self, Profile};
use crate::stats::Stats;
use crate::status::{FleetStatus, Totals};

/// The only way into a running engine. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

struct Inner {
    plan_tx: Arc<watch::Sender<Arc<Plan>>>,
    bus: broadcast::Sender<Event>,
    clock: Arc<dyn Clock>,
    board: Arc<StatusBoard>,
    mailboxes: Arc<Mailboxes>,
    config_path: PathBuf,
    http: axeos::Http,
    cancel: CancellationToken,
    tracker: TaskTracker,
    /// Released by shutdown, so another engine may take over the config.
    lock: Mutex<Option<EngineLock>>,
    history: HistoryReader,
    /// What the workers share (the budget task's results are read from it).
    shared: Arc<Shared>,
}

/// A second, read-only connection for chart queries (SQLite WAL lets it read while the recorder
/// writes), opened on first use.
struct HistoryReader {
    path: PathBuf,
    conn: Mutex<Option<History>>,
    /// The settled part of the energy counters (see [`super::meters::EnergyTotals`]).
    energy: Mutex<super::meters::EnergyTotals>,
}

impl HistoryReader {
    fn range(
        &self,
        miner: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket_s: i64,
    ) -> Result<Vec<crate::history::Point>, EngineError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| EngineError::Io("history reader poisoned".into()))?;
        if conn.is_none() {
            *conn = Some(History::open(&self.path)?);
        }
        match conn.as_ref() {
            Some(h) => Ok(h.range(miner, from, to, bucket_s)?),
            None => Ok(Vec::new()),
        }
    }
}

impl HistoryReader {
    /// Joules per miner since the history began.
    fn energy_totals(
        &self,
        now: DateTime<Utc>,
    ) -> Result<std::collections::BTreeMap<String, f64>, EngineError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| EngineError::Io("history reader poisoned".into()))?;
        if conn.is_none() {
            *conn = Some(History::open(&self.path)?);
        }
        let mut totals = self
            .energy
            .lock()
            .map_err(|_| EngineError::Io("energy totals poisoned".into()))?;
        match conn.as_ref() {
            Some(h) => Ok(totals.read(h, now)?),
            None => Ok(Default::default()),
        }
    }

    /// Energy and cost of `[from, to)` priced by `prices`.
    fn cost(
        &self,
        prices: &crate::cost::PriceSource,
        tz: chrono_tz::Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<crate::cost::CostReport, EngineError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| EngineError::Io("history reader poisoned".into()))?;
        if conn.is_none() {
            *conn = Some(History::open(&self.path)?);
        }
        match conn.as_ref() {
            Some(h) => Ok(crate::cost::report(h, from, to, &*prices.price, tz)?),
            None => Ok(crate::cost::report_rows(&[], from, to, &*prices.price, tz)),
        }
    }
}

impl EngineHandle {
    /// Take the config's lock, load everything, and start. Must be called inside a Tokio runtime.
    ///
    /// A corrupt state file is moved aside and the engine starts paused (it may have held an
    /// emergency stop): the status and a warning say so until [`EngineHandle::resume`].
    pub fn start(opts: EngineOptions) -> Result<EngineHandle, EngineError> {
        let lock = EngineLock::acquire(&opts.config_path)?;
        Config::load_or_create(&opts.config_path)?;
        // Parse exactly the text we fingerprint, so an edit made right after start is still seen.
        let text = std::fs::read(&opts.config_path)
            .map_err(|e| EngineError::Io(format!("{}: {e}", opts.config_path.display())))?;
        let config = Config::parse(&String::from_utf8_lossy(&text), &opts.config_path)?;
        let (overrides, notice) = Overrides::load_or_recover(&opts.config_path, opts.clock.now());
        let (history, history_warning) =
            History::open_or_recover(&opts.data_dir.join(HISTORY_FILE))?;
        let stats_path = Stats::path_for(&opts.config_path);
        let (stats, stats_warning) = Stats::load(&stats_path);
        let (plan_tx, _) = watch::channel(Arc::new(Plan::new(Arc::new(config), overrides)));
        let plan_tx = Arc::new(plan_tx);
        let (bus, _) = broadcast::channel(4096);
        let board = Arc::new(StatusBoard::default());
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        // Nobody listens yet (front ends subscribe after start): the supervisor sends these once
        // it runs, and repeats a pause notice until the user resumes (the status carries it too).
        for message in [&stats_warning, &history_warning, &notice]
            .into_iter()
            .flatten()
        {
            tracing::warn!("{message}");
        }
        let recorder = Recorder::new(
            bus.clone(),
            opts.clock.clone(),
            cancel.clone(),
            plan_tx.subscribe(),
            history,
            stats,
            stats_path,
        );
        tracker.spawn(recorder.run(bus.subscribe()));
        let mailboxes = Arc::new(Mailboxes::default());
        let shared = Arc::new(Shared::new(
            bus.clone(),
            opts.clock.clone(),
            opts.config_path.clone(),
            mailboxes.clone(),
            board.clone(),
            cancel.clone(),
        ));
        if opts.alerts.send {
            tracker.spawn(
                super::alerts_task::AlertsTask::new(
                    bus.clone(),
                    opts.clock.clone(),
                    cancel.clone(),
                    tracker.clone(),
                    plan_tx.subscribe(),
                    opts.alerts.clone(),
                )
                .run(bus.subscribe()),
            );
        }
        tracker.spawn(BudgetTask::new(shared.clone(), plan_tx.subscribe()).run());
        let supervisor = Supervisor::new(
            shared.clone(),
            plan_tx.clone(),
            tracker.clone(),
            opts.config_path.clone(),
            opts.http.clone(),
            opts.watch_every,
            text,
        )
        .only(opts.only.clone())
        .with_notices(
            [stats_warning, history_warning]
                .into_iter()
                .flatten()
                .collect(),
        );
        tracker.spawn(supervisor.run());
        tracker.spawn(
            super::prices::PriceTask {
                plan_tx: plan_tx.clone(),
                config_path: opts.config_path.clone(),
                clock: opts.clock.clone(),
                refresh: opts.price_refresh,
                cancel: cancel.clone(),
                tracker: tracker.clone(),
            }
            .run(),
        );
        Ok(EngineHandle {
            inner: Arc::new(Inner {
                plan_tx,
                bus,
                clock: opts.clock,
                board,
                mailboxes,
                config_path: opts.config_path,
                http: opts.http,
                cancel,
                tracker,
                lock: Mutex::new(Some(lock)),
                history: HistoryReader {
                    path: opts.data_dir.join(HISTORY_FILE),
                    conn: Mutex::new(None),
                    energy: Mutex::new(Default::default()),
                },
                shared,
            }),
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.bus.subscribe()
    }

    fn plan(&self) -> Arc<Plan> {
        self.inner.plan_tx.borrow().clone()
    }

    pub fn config(&self) -> Arc<Config> {
        self.plan().config.clone()
    }

    pub fn config_path(&self) -> &Path {
        &self.inner.config_path
    }

    /// The decisions in force now (emergency, manual profiles, pause), as the engine holds them.
    pub fn overrides(&self) -> Overrides {
        self.plan().overrides.clone()
    }

    pub fn status(&self) -> FleetStatus {
        let plan = self.plan();
        let now = self.inner.clock.now();
        let miners = self.inner.board.snapshot();
        let (profile, source) = plan.profile(now);
        FleetStatus {
            totals: Totals::of(&miners),
            miners,
            profile,
            source: source.name().into(),
            next_change: if source == Source::Schedule {
                schedule::next_change(&plan.config, plan.tz, now)
            } else {
                plan.overrides.manual.as_ref().and_then(|m| {
                    m.until.map(|u| {
                        let mut after = (*plan).clone();
                        after.overrides.manual = None;
                        (u, after.profile(u).0)
                    })
                })
            },
            paused: plan.overrides.paused,
            emergency: plan.overrides.emergency,
            pause_reason: plan.overrides.pause_reason.clone(),
            budget: self.inner.shared.budget_use(),
        }
    }

    /// Apply a profile now; it holds until the schedule's next change.
    pub fn apply(&self, profile: Profile) -> Result<(), EngineError> {
        let until = self.manual_until();
        let r = self.change_overrides(|o| {
            o.manual = Some(Manual {
                profile: profile.clone(),
                until,
            })
        });
        let _ = self.inner.bus.send(Event::ProfileChanged {
            profile,
            source: "manual".into(),
        });
        r
    }

    /// Apply a profile to one miner now; it holds until the schedule's next change.
    pub fn apply_miner(&self, miner: &str, profile: Profile) -> Result<(), EngineError> {
        if self.config().miner(miner).is_none() {
            return Err(EngineError::UnknownMiner(miner.to_string()));
        }
        let until = self.manual_until();
        self.change_overrides(|o| {
            o.per_miner.insert(
                miner.to_string(),
                Manual {
                    profile: profile.clone(),
                    until,
                },
            );
        })
    }

    fn manual_until(&self) -> Option<DateTime<Utc>> {
        let plan = self.plan();
        schedule::next_change(&plan.config, plan.tz, self.inner.clock.now()).map(|(at, _)| at)
    }

    /// Restart one miner (the firmware answers, then reboots; counters reset).
    pub async fn restart_miner(&self, miner: &str) -> Result<(), EngineError> {
        self.command(miner, MinerCommand::Restart).await
    }

    /// Pause or resume hashing on one miner (firmware v2.14+; not kept across a reboot).
    pub async fn pause_miner(&self, miner: &str, paused: bool) -> Result<(), EngineError> {
        let c = if paused {
            MinerCommand::Pause
        } else {
            MinerCommand::Resume
        };
        self.command(miner, c).await
    }

    /// Hand `command` to the miner's worker (one request in flight per miner) and wait for it.
    pub async fn command(&self, miner: &str, command: MinerCommand) -> Result<(), EngineError> {
        if self.config().miner(miner).is_none() {
            return Err(EngineError::UnknownMiner(miner.to_string()));
        }
        self.inner
            .mailboxes
            .send(miner, command)
            .await
            .map_err(EngineError::Io)
    }

    /// History points from the database, averaged into `bucket_s` buckets. This blocks on
    /// SQLite: async callers use [`crate::ops::history`], which runs it on a blocking thread.
    pub fn history(
        &self,
        miner: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket_s: i64,
    ) -> Result<Vec<crate::history::Point>, EngineError> {
        self.inner.history.range(miner, from, to, bucket_s)
    }

    /// Measured energy and its cost for the slots in `[from, to)`, per miner, local day, month
    /// and profile, priced by the plan's price view (or the fixed tariff). Blocks on SQLite like
    /// [`EngineHandle::history`].
    pub fn cost(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<crate::cost::CostReport, EngineError> {
        let plan = self.plan();
        let prices = crate::cost::price_source(&plan.config, plan.prices.clone());
        self.inner.history.cost(&prices, plan.tz, from, to)
    }

    /// Energy used per miner since the history began, in joules (the history's integrated
    /// `energy` table; a counter for `/metrics`). Blocks on SQLite like [`EngineHandle::history`].
    pub fn energy_totals(&self) -> Result<std::collections::BTreeMap<String, f64>, EngineError> {
        self.inner.history.energy_totals(self.now())
    }

    /// How long the workers' polls took so far (for `/metrics`).
    pub fn poll_durations(&self) -> super::meters::PollSnapshot {
        self.inner.shared.polls.snapshot()
    }

    /// The zone the schedule runs in.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.plan().tz
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub fn http(&self) -> &axeos::Http {
        &self.inner.http
    }

    /// Safe settings on every enabled miner at once, until [`EngineHandle::resume`]. The plan
    /// switches first (workers act at once), then the state file is written; if that fails the
    /// stop still holds in this engine and the error says it was not saved.
    pub fn emergency_stop(&self) -> Result<(), EngineError> {
        let now = self.inner.clock.now();
        let was = self.plan().overrides.emergency;
        let r = self.change_overrides(|o| {
            o.emergency = true;
            o.emergency_since.get_or_insert(now);
        });
        if !was {
            let _ = self.inner.bus.send(Event::Emergency { active: true });
        }
        r
    }

    /// Clear an emergency stop, every profile applied by hand (fleet and per miner) and a pause:
    /// the schedule drives again. Returns what was cleared.
    pub fn resume(&self) -> Result<Overrides, EngineError> {
        let before = self.overrides();
        let r = self.change_overrides(Overrides::clear);
        if before.emergency {
            let _ = self.inner.bus.send(Event::Emergency { active: false });
        }
        if before.paused {
            let _ = self.inner.bus.send(Event::Paused { paused: false });
        }
        r.map(|()| before)
    }

    /// Hold schedule changes (safety keeps acting).
    pub fn set_paused(&self, paused: bool) -> Result<(), EngineError> {
        let r = self.change_overrides(|o| {
            o.paused = paused;
            o.pause_reason = None;
        });
        let _ = self.inner.bus.send(Event::Paused { paused });
        r
    }

    /// Validate and save a new config; workers pick it up at once.
    pub fn save_config(&self, config: Config) -> Result<(), EngineError> {
        config.save(&self.inner.config_path)?;
        let next = self.plan().with_config(Arc::new(config));
        self.inner.plan_tx.send_replace(Arc::new(next));
        let _ = self.inner.bus.send(Event::ConfigReloaded);
        Ok(())
    }

    /// Change the decisions in force: in memory first (workers see it at once), then on disk.
    /// A failed save is reported on the bus and returned as [`EngineError::StateNotSaved`].
    fn change_overrides(&self, f: impl FnOnce(&mut Overrides)) -> Result<(), EngineError> {
        // Under the channel's lock, so two changes at once never lose one another.
        let mut overrides = Overrides::default();
        self.inner.plan_tx.send_modify(|plan| {
            let mut next = (**plan).clone();
            f(&mut next.overrides);
            overrides = next.overrides.clone();
            *plan = Arc::new(next);
        });
        overrides.save(&self.inner.config_path).map_err(|e| {
            let message = format!(
                "the scheduler state could not be saved to {}: {e}; it holds until this app stops, but not after a restart",
                Overrides::path_for(&self.inner.config_path).display()
            );
            tracing::error!("{message}");
            let _ = self.inner.bus.send(Event::Warning {
                message: message.clone(),
            });
            EngineError::StateNotSaved(message)
        })
    }

    /// Cancel every task, wait for them (transitions stop between steps), flush history and
    /// statistics. Gives up waiting after `timeout`.
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        self.inner.cancel.cancel();
        self.inner.tracker.close();
        let finished = tokio::time::timeout(timeout, self.inner.tracker.wait())
            .await
            .is_ok();
        if let Ok(mut lock) = self.inner.lock.lock() {
            lock.take();
        }
        finished
    }
}
