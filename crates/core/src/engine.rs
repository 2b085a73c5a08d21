//! The engine: a cheap `Clone` handle is the only way in, the [`Event`] bus the only way out.
//!
//! Tasks: one supervisor (config and override files, profile changes, statistics, history
//! upkeep), one recorder (history and statistics from the bus), and one worker per enabled miner.
//! All are tracked and cancellable; [`EngineHandle::shutdown`] cancels, waits, flushes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::events::{Event, MinerState};
use crate::history::{History, HISTORY_FILE};
use crate::lock::{EngineLock, LockError};
use crate::overrides::{Manual, Overrides};
use crate::plan::{Plan, Source};
use crate::schedule::{self, Profile};
use crate::stats::Stats;
use crate::status::{FleetStatus, MinerStatus, Totals};
use crate::worker::{MinerCommand, Worker};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
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
        }
    }
}

pub(crate) struct Shared {
    pub bus: broadcast::Sender<Event>,
    pub clock: Arc<dyn Clock>,
    status: RwLock<BTreeMap<String, MinerStatus>>,
    plan_tx: watch::Sender<Arc<Plan>>,
    pub(crate) config_path: PathBuf,
    cancel: CancellationToken,
    tracker: TaskTracker,
    /// Released by shutdown, so another engine may take over the config.
    lock: std::sync::Mutex<Option<EngineLock>>,
    http: axeos::Http,
    history_path: PathBuf,
    /// A second, read-only connection for chart queries (SQLite WAL lets it read while the
    /// recorder writes).
    reader: std::sync::Mutex<Option<History>>,
    /// Each worker's mailbox: restart, pause and retry go through the miner's own worker.
    pub(crate) mailboxes: crate::worker::Mailboxes,
}

impl Shared {
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    pub fn plan_url(&self, miner: &str) -> String {
        self.plan_tx
            .borrow()
            .config
            .miner(miner)
            .map(|m| m.ip.clone())
            .unwrap_or_default()
    }

    pub fn stats_interval(&self) -> f64 {
        self.plan_tx.borrow().config.log_stats_interval
    }

    pub fn retention_days(&self) -> u32 {
        self.plan_tx.borrow().config.history_retention_days
    }

    pub fn update_status(&self, miner: &str, f: impl FnOnce(&mut MinerStatus)) {
        if let Ok(mut map) = self.status.write() {
            if let Some(s) = map.get_mut(miner) {
                f(s);
            }
        }
    }
}

/// The only way into a running engine. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
}

impl EngineHandle {
    /// Take the config's lock, load everything, and start. Must be called inside a Tokio runtime.
    pub fn start(opts: EngineOptions) -> Result<EngineHandle, EngineError> {
        let lock = EngineLock::acquire(&opts.config_path)?;
        Config::load_or_create(&opts.config_path)?;
        // Parse exactly the text we fingerprint, so an edit made right after start is still seen.
        let text = std::fs::read(&opts.config_path)
            .map_err(|e| EngineError::Io(format!("{}: {e}", opts.config_path.display())))?;
        let config = Config::parse(&String::from_utf8_lossy(&text), &opts.config_path)?;
        let overrides = Overrides::load(&opts.config_path).unwrap_or_default();
        std::fs::create_dir_all(&opts.data_dir)
            .map_err(|e| EngineError::Io(format!("{}: {e}", opts.data_dir.display())))?;
        let history = History::open(&opts.data_dir.join(HISTORY_FILE))?;
        let (stats, stats_warning) = Stats::load(&Stats::path_for(&opts.config_path));
        let plan = Plan::new(Arc::new(config), overrides);
        let (plan_tx, _) = watch::channel(Arc::new(plan));
        let (bus, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            bus,
            clock: opts.clock.clone(),
            status: RwLock::new(BTreeMap::new()),
            plan_tx,
            config_path: opts.config_path.clone(),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            lock: std::sync::Mutex::new(Some(lock)),
            http: opts.http.clone(),
            history_path: opts.data_dir.join(HISTORY_FILE),
            reader: std::sync::Mutex::new(None),
            mailboxes: Default::default(),
        });
        if let Some(message) = stats_warning {
            let _ = shared.bus.send(Event::Warning { message });
        }
        let recorder = crate::recorder::Recorder::new(
            shared.clone(),
            history,
            stats,
            Stats::path_for(&opts.config_path),
        );
        shared.tracker.spawn(recorder.run(shared.bus.subscribe()));
        let seen = (
            Some(text),
            fingerprint(&Overrides::path_for(&opts.config_path)),
        );
        let supervisor = Supervisor {
            shared: shared.clone(),
            http: opts.http,
            workers: HashMap::new(),
            watch_every: opts.watch_every,
            seen,
        };
        shared.tracker.spawn(supervisor.run());
        Ok(EngineHandle { shared })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.shared.bus.subscribe()
    }

    pub fn config(&self) -> Arc<Config> {
        self.shared.plan_tx.borrow().config.clone()
    }

    pub fn config_path(&self) -> &Path {
        &self.shared.config_path
    }

    pub fn status(&self) -> FleetStatus {
        let plan = self.shared.plan_tx.borrow().clone();
        let now = self.shared.clock.now();
        let miners: Vec<MinerStatus> = self
            .shared
            .status
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        let (profile, source) = plan.profile(now);
        FleetStatus {
            totals: Totals::of(&miners),
            miners,
            profile,
            source: source.name().into(),
            next_change: if source == Source::Schedule {
                schedule::next_change(&plan.config, plan.tz, now)
            } else {
                plan.overrides.manual.and_then(|m| {
                    m.until
                        .map(|u| (u, schedule::profile_at(&plan.config, plan.tz, u)))
                })
            },
            paused: plan.overrides.paused,
            emergency: plan.overrides.emergency,
        }
    }

    /// Apply a profile now; it holds until the schedule's next change.
    pub fn apply(&self, profile: Profile) -> Result<(), EngineError> {
        let now = self.shared.clock.now();
        let plan = self.shared.plan_tx.borrow().clone();
        let until = schedule::next_change(&plan.config, plan.tz, now).map(|(at, _)| at);
        self.change_overrides(|o| o.manual = Some(Manual { profile, until }))?;
        let _ = self.shared.bus.send(Event::ProfileChanged {
            profile,
            source: "manual".into(),
        });
        Ok(())
    }

    /// Apply a profile to one miner now; it holds until the schedule's next change.
    pub fn apply_miner(&self, miner: &str, profile: Profile) -> Result<(), EngineError> {
        let now = self.shared.clock.now();
        let plan = self.shared.plan_tx.borrow().clone();
        if plan.config.miner(miner).is_none() {
            return Err(EngineError::Io(format!("unknown miner {miner:?}")));
        }
        let until = schedule::next_change(&plan.config, plan.tz, now).map(|(at, _)| at);
        self.change_overrides(|o| {
            o.per_miner
                .insert(miner.to_string(), Manual { profile, until });
        })
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
        self.shared
            .mailboxes
            .send(miner, command)
            .await
            .map_err(EngineError::Io)
    }

    /// History points from the database, averaged into `bucket_s` buckets.
    pub fn history(
        &self,
        miner: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket_s: i64,
    ) -> Result<Vec<crate::history::Point>, EngineError> {
        let mut reader = self
            .shared
            .reader
            .lock()
            .map_err(|_| EngineError::Io("history reader poisoned".into()))?;
        if reader.is_none() {
            *reader = Some(History::open(&self.shared.history_path)?);
        }
        match reader.as_ref() {
            Some(h) => Ok(h.range(miner, from, to, bucket_s)?),
            None => Ok(Vec::new()),
        }
    }

    /// The zone the schedule runs in.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.shared.plan_tx.borrow().tz
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    pub fn http(&self) -> &axeos::Http {
        &self.shared.http
    }

    /// Safe settings on every enabled miner at once, until [`EngineHandle::resume`].
    pub fn emergency_stop(&self) -> Result<(), EngineError> {
        let now = self.shared.clock.now();
        self.change_overrides(|o| {
            o.emergency = true;
            o.emergency_since = Some(now);
        })?;
        let _ = self.shared.bus.send(Event::Emergency { active: true });
        Ok(())
    }

    /// Clear an emergency stop and any manual profile: the schedule drives again.
    pub fn resume(&self) -> Result<(), EngineError> {
        let was = self.shared.plan_tx.borrow().overrides.emergency;
        self.change_overrides(|o| {
            o.emergency = false;
            o.emergency_since = None;
            o.manual = None;
            o.per_miner.clear();
            o.paused = false;
        })?;
        if was {
            let _ = self.shared.bus.send(Event::Emergency { active: false });
        }
        Ok(())
    }

    /// Hold schedule changes (safety keeps acting).
    pub fn set_paused(&self, paused: bool) -> Result<(), EngineError> {
        self.change_overrides(|o| o.paused = paused)?;
        let _ = self.shared.bus.send(Event::Paused { paused });
        Ok(())
    }

    /// Validate and save a new config; workers pick it up at once.
    pub fn save_config(&self, config: Config) -> Result<(), EngineError> {
        config.save(&self.shared.config_path)?;
        let next = self.shared.plan_tx.borrow().with_config(Arc::new(config));
        self.shared.plan_tx.send_replace(Arc::new(next));
        let _ = self.shared.bus.send(Event::ConfigReloaded);
        Ok(())
    }

    fn change_overrides(&self, f: impl FnOnce(&mut Overrides)) -> Result<(), EngineError> {
        let mut next = (*self.shared.plan_tx.borrow().clone()).clone();
        f(&mut next.overrides);
        next.overrides
            .save(&self.shared.config_path)
            .map_err(|e| EngineError::Io(format!("saving overrides: {e}")))?;
        self.shared.plan_tx.send_replace(Arc::new(next));
        Ok(())
    }

    /// Cancel every task, wait for them (transitions stop between steps), flush history and
    /// statistics. Gives up waiting after `timeout`.
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        self.shared.cancel.cancel();
        self.shared.tracker.close();
        let finished = tokio::time::timeout(timeout, self.shared.tracker.wait())
            .await
            .is_ok();
        if let Ok(mut lock) = self.shared.lock.lock() {
            lock.take();
        }
        finished
    }
}

struct WorkerSlot {
    url: String,
    cancel: CancellationToken,
}

struct Supervisor {
    shared: Arc<Shared>,
    http: axeos::Http,
    workers: HashMap<String, WorkerSlot>,
    watch_every: Duration,
    /// The config and override files as last read.
    seen: (Option<Vec<u8>>, Option<Vec<u8>>),
}

/// What a file holds now. Contents, not timestamps: two saves within one timestamp tick (coarse
/// on some file systems) must still count as a change. The files are a few KiB.
fn fingerprint(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

impl Supervisor {
    async fn run(mut self) {
        let config_path = self.shared.config_path.clone();
        let overrides_path = Overrides::path_for(&config_path);
        let mut last_profile: Option<(Profile, Source)> = None;
        let mut ticks = tokio::time::interval(self.watch_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        self.sync_workers();
        let mut synced = self.shared.plan_tx.borrow().config.clone();
        loop {
            tokio::select! {
                _ = self.shared.cancel.cancelled() => break,
                _ = ticks.tick() => {}
            }
            // A config saved through the handle: start and stop workers to match.
            let current = self.shared.plan_tx.borrow().config.clone();
            if !Arc::ptr_eq(&current, &synced) {
                synced = current;
                self.sync_workers();
            }
            let now_seen = (fingerprint(&config_path), fingerprint(&overrides_path));
            if now_seen.0 != self.seen.0 {
                self.reload_config(&config_path);
            }
            if now_seen.1 != self.seen.1 {
                self.reload_overrides(&config_path);
            }
            self.seen = now_seen;
            let plan = self.shared.plan_tx.borrow().clone();
            let now = self.shared.clock.now();
            let profile = plan.profile(now);
            if last_profile.is_some_and(|p| p != profile) {
                let _ = self.shared.bus.send(Event::ProfileChanged {
                    profile: profile.0,
                    source: profile.1.name().into(),
                });
                // Wake every worker so the change starts now, not at its next tick.
                self.shared.plan_tx.send_replace(plan.clone());
            }
            last_profile = Some(profile);
        }
        for slot in self.workers.values() {
            slot.cancel.cancel();
        }
    }

    fn reload_config(&mut self, path: &Path) {
        match Config::load(path) {
            Ok(config) => {
                let current = self.shared.plan_tx.borrow().clone();
                if *current.config != config {
                    self.shared
                        .plan_tx
                        .send_replace(Arc::new(current.with_config(Arc::new(config))));
                    let _ = self.shared.bus.send(Event::ConfigReloaded);
                    self.sync_workers();
                }
            }
            Err(e) => {
                let _ = self.shared.bus.send(Event::Warning {
                    message: format!("config change ignored, keeping the previous one: {e}"),
                });
            }
        }
    }

    fn reload_overrides(&mut self, path: &Path) {
        match Overrides::load(path) {
            Ok(overrides) => {
                let current = self.shared.plan_tx.borrow().clone();
                if current.overrides != overrides {
                    if current.overrides.emergency != overrides.emergency {
                        let _ = self.shared.bus.send(Event::Emergency {
                            active: overrides.emergency,
                        });
                    }
                    let mut next = (*current).clone();
                    next.overrides = overrides;
                    self.shared.plan_tx.send_replace(Arc::new(next));
                }
            }
            Err(e) => {
                let _ = self.shared.bus.send(Event::Warning {
                    message: format!("override file ignored: {e}"),
                });
            }
        }
    }

    /// Start workers for enabled miners, stop them for removed or disabled ones.
    fn sync_workers(&mut self) {
        let plan = self.shared.plan_tx.borrow().clone();
        let wanted: HashMap<String, (String, bool)> = plan
            .config
            .miners
            .iter()
            .map(|m| (m.name.clone(), (m.ip.clone(), m.enabled)))
            .collect();
        self.workers.retain(|name, slot| {
            let keep = wanted
                .get(name)
                .is_some_and(|(url, enabled)| *enabled && *url == slot.url);
            if !keep {
                slot.cancel.cancel();
                self.shared.mailboxes.close(name);
            }
            keep
        });
        if let Ok(mut status) = self.shared.status.write() {
            status.retain(|name, _| wanted.contains_key(name));
            for m in &plan.config.miners {
                let entry = status
                    .entry(m.name.clone())
                    .or_insert_with(|| MinerStatus::new(&m.name, &m.ip, m.enabled));
                if entry.url != m.ip || entry.enabled != m.enabled {
                    *entry = MinerStatus::new(&m.name, &m.ip, m.enabled);
                }
            }
        }
        for m in plan.config.miners.iter().filter(|m| m.enabled) {
            if self.workers.contains_key(&m.name) {
                continue;
            }
            let client = match axeos::Client::new(&self.http, &m.ip) {
                Ok(c) => c,
                Err(e) => {
                    let _ = self.shared.bus.send(Event::Warning {
                        message: format!("[{}] {e}", m.name),
                    });
                    continue;
                }
            };
            let cancel = self.shared.cancel.child_token();
            let worker = Worker::new(
                m.name.clone(),
                client,
                self.shared.clone(),
                self.shared.plan_tx.subscribe(),
                cancel.clone(),
                self.shared.mailboxes.open(&m.name),
            );
            self.shared.tracker.spawn(worker.run());
            self.workers.insert(
                m.name.clone(),
                WorkerSlot {
                    url: m.ip.clone(),
                    cancel,
                },
            );
        }
        let disabled: Vec<String> = plan
            .config
            .miners
            .iter()
            .filter(|m| !m.enabled)
            .map(|m| m.name.clone())
            .collect();
        for name in disabled {
            self.shared
                .update_status(&name, |s| s.state = MinerState::Disabled);
        }
    }
}
