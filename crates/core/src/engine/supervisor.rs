//! The supervisor: watches the config and state files, announces profile changes, and keeps one
//! worker per enabled miner.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Shared;
use crate::config::Config;
use crate::engine::worker::Worker;
use crate::events::Event;
use crate::overrides::Overrides;
use crate::plan::{Plan, Source};
use crate::schedule::Profile;

/// How often a pause the engine imposed on itself (a corrupt state file) is repeated on the bus
/// until the user resumes.
const PAUSE_REMINDER: Duration = Duration::from_secs(15 * 60);

struct WorkerSlot {
    url: String,
    cancel: CancellationToken,
}

pub(crate) struct Supervisor {
    /// Handed to every worker; the supervisor itself uses its bus, clock, board and cancellation.
    shared: Arc<Shared>,
    plan_tx: Arc<watch::Sender<Arc<Plan>>>,
    tracker: TaskTracker,
    config_path: PathBuf,
    http: axeos::Http,
    workers: HashMap<String, WorkerSlot>,
    watch_every: Duration,
    /// The config and override files as last read.
    seen: (Option<Vec<u8>>, Option<Vec<u8>>),
    /// Found while starting (before anyone could subscribe); sent once the supervisor runs.
    start_notices: Vec<String>,
    /// Workers only for these miners (see [`super::EngineOptions::only`]).
    only: Option<Vec<String>>,
}

/// What a file holds now. Contents, not timestamps: two saves within one timestamp tick (coarse
/// on some file systems) must still count as a change. The files are a few KiB.
fn fingerprint(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

impl Supervisor {
    /// `config_text` is the config file as the engine parsed it at start.
    pub fn new(
        shared: Arc<Shared>,
        plan_tx: Arc<watch::Sender<Arc<Plan>>>,
        tracker: TaskTracker,
        config_path: PathBuf,
        http: axeos::Http,
        watch_every: Duration,
        config_text: Vec<u8>,
    ) -> Supervisor {
        let seen = (
            Some(config_text),
            fingerprint(&Overrides::path_for(&config_path)),
        );
        Supervisor {
            shared,
            plan_tx,
            tracker,
            config_path,
            http,
            workers: HashMap::new(),
            watch_every,
            seen,
            start_notices: Vec::new(),
            only: None,
        }
    }

    /// Warnings found while starting, to send on the bus once front ends had a chance to listen.
    pub fn with_notices(mut self, notices: Vec<String>) -> Supervisor {
        self.start_notices = notices;
        self
    }

    fn plan(&self) -> Arc<Plan> {
        self.plan_tx.borrow().clone()
    }

    fn emit(&self, event: Event) {
        let _ = self.shared.bus.send(event);
    }

    pub async fn run(mut self) {
        let config_path = self.config_path.clone();
        let overrides_path = Overrides::path_for(&config_path);
        let mut last_profile: Option<(Profile, Source)> = None;
        let mut ticks = tokio::time::interval(self.watch_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        self.sync_workers();
        let mut synced = self.plan().config.clone();
        let cancel = self.shared.cancel_token().clone();
        // The first tick completes at once; front ends subscribe right after start, so the
        // first reminder waits for the second.
        ticks.tick().await;
        let mut reminded: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticks.tick() => {}
            }
            for message in std::mem::take(&mut self.start_notices) {
                self.emit(Event::Warning { message });
            }
            if let Some(why) = &self.plan().overrides.pause_reason {
                if reminded.is_none_or(|at| at.elapsed() >= PAUSE_REMINDER) {
                    reminded = Some(tokio::time::Instant::now());
                    self.emit(Event::Warning {
                        message: why.clone(),
                    });
                }
            } else {
                reminded = None;
            }
            // A config saved through the handle: start and stop workers to match.
            let current = self.plan().config.clone();
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
            let plan = self.plan();
            let profile = plan.profile(self.shared.clock.now());
            if last_profile.is_some_and(|p| p != profile) {
                self.emit(Event::ProfileChanged {
                    profile: profile.0.clone(),
                    source: profile.1.name().into(),
                });
                // Wake every worker so the change starts now, not at its next tick.
                self.plan_tx.send_replace(plan.clone());
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
                let current = self.plan();
                if *current.config != config {
                    self.plan_tx
                        .send_replace(Arc::new(current.with_config(Arc::new(config))));
                    self.emit(Event::ConfigReloaded);
                    self.sync_workers();
                }
            }
            Err(e) => self.emit(Event::Warning {
                message: format!("config change ignored, keeping the previous one: {e}"),
            }),
        }
    }

    fn reload_overrides(&mut self, path: &Path) {
        match Overrides::load(path) {
            Ok(overrides) => {
                let current = self.plan();
                if current.overrides != overrides {
                    if current.overrides.emergency != overrides.emergency {
                        self.emit(Event::Emergency {
                            active: overrides.emergency,
                        });
                    }
                    let mut next = (*current).clone();
                    next.overrides = overrides;
                    self.plan_tx.send_replace(Arc::new(next));
                }
            }
            Err(e) => self.emit(Event::Warning {
                message: format!("state file ignored, keeping the decisions in force: {e}"),
            }),
        }
    }

    /// Start workers for enabled miners, stop them for removed or disabled ones.
    /// Start workers only for these miners.
    pub fn only(mut self, only: Option<Vec<String>>) -> Supervisor {
        self.only = only;
        self
    }

    fn sync_workers(&mut self) {
        let plan = self.plan();
        let mailboxes = self.shared.mailboxes.clone();
        let only = self.only.clone();
        let drives = |m: &crate::config::MinerConfig| {
            m.enabled && only.as_ref().is_none_or(|o| o.contains(&m.name))
        };
        self.workers.retain(|name, slot| {
            let keep = plan
                .config
                .miner(name)
                .is_some_and(|m| drives(m) && m.ip == slot.url);
            if !keep {
                slot.cancel.cancel();
                mailboxes.close(name);
            }
            keep
        });
        self.shared.board().sync(&plan.config);
        for m in plan.config.miners.iter().filter(|m| drives(m)) {
            if self.workers.contains_key(&m.name) {
                continue;
            }
            let client = match axeos::Client::new(&self.http, &m.ip) {
                Ok(c) => c,
                Err(e) => {
                    self.emit(Event::Warning {
                        message: format!("[{}] {e}", m.name),
                    });
                    continue;
                }
            };
            let cancel = self.shared.cancel_token().child_token();
            let worker = Worker::new(
                m.name.clone(),
                client,
                self.shared.clone(),
                self.plan_tx.subscribe(),
                cancel.clone(),
                self.shared.mailboxes.open(&m.name),
            );
            self.tracker.spawn(worker.run());
            self.workers.insert(
                m.name.clone(),
                WorkerSlot {
                    url: m.ip.clone(),
                    cancel,
                },
            );
        }
    }
}
