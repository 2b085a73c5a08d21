//! The operations layer: every action a front end offers is one function here, used alike by the
//! CLI's one-shot commands, the desktop's Tauri commands and any later front end.
//!
//! Each function takes a [`Target`]:
//! - [`Target::Engine`]: this process runs the engine; the function changes the engine's plan (in
//!   memory first, so its workers act at once, then in the state file) or its config.
//! - [`Target::Standalone`]: no engine here; the function acts itself from the config path. It
//!   writes the decision to the state file beside the config, which a scheduler running on the
//!   same config picks up within a second. Settings reach the miners only through
//!   [`crate::transition::Mover`] (the same path the engine's workers take), and only when no
//!   scheduler holds the config's lock, so a one-shot never fights a running scheduler; the one
//!   exception is an emergency stop, which always acts on the miners at once.
//!
//! An emergency stop acts on the miners first and saves the decision second; a config with an
//! invalid value elsewhere, or an unwritable or corrupt state file, does not stop it. Whether the
//! decision was saved is in [`Report::saved`].

mod charts;
mod miners;
mod preview;
mod roster;
mod standalone;

pub use charts::{chart_svg, history, CHART_BUCKETS};
pub use miners::{add_miners, config, remove_miner, save_config, set_enabled, update_miner};
pub use preview::{plan_at, preview, PlanRow, Preview, PreviewRow};

use std::path::PathBuf;

use chrono::Utc;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError};
use crate::engine::worker::MinerCommand;
use crate::engine::{EngineError, EngineHandle};
use crate::events::Event;
use crate::lock::{EngineLock, LockError};
use crate::overrides::{Manual, Overrides};
use crate::plan::Plan;
use crate::safety::Settings;
use crate::schedule::Profile;
use crate::status::FleetStatus;

/// Where an operation goes: the engine running in this process, or the config on disk.
#[derive(Clone)]
pub enum Target {
    Engine(EngineHandle),
    Standalone(Standalone),
}

/// Acting without an engine: the config path, the HTTP client, and a bus on which the miner moves
/// made here report their progress.
#[derive(Clone)]
pub struct Standalone {
    pub config_path: PathBuf,
    pub http: axeos::Http,
    events: broadcast::Sender<Event>,
    cancel: CancellationToken,
}

impl Standalone {
    pub fn new(config_path: impl Into<PathBuf>, http: axeos::Http) -> Standalone {
        Standalone {
            config_path: config_path.into(),
            http,
            events: broadcast::channel(1024).0,
            cancel: CancellationToken::new(),
        }
    }

    /// Progress of the moves made here (transition steps, failures).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Stop moves under way between steps (each miner stays at a safe point).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// One miner's result of a move made here: the settings it confirmed, or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct MinerResult {
    pub miner: String,
    pub result: Result<Settings, String>,
}

/// Who carries a decision out on the miners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarriedOut {
    /// The engine in this process (its workers act at once).
    Engine,
    /// A scheduler running on the same config (it reads the state file within a second).
    Scheduler,
    /// This call, before it returned: see [`Report::miners`].
    Here,
}

/// What an apply or an emergency stop did.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub by: CarriedOut,
    /// The miners moved by this call (empty unless `by` is [`CarriedOut::Here`]).
    pub miners: Vec<MinerResult>,
    /// Whether the decision was saved to the state file (it then survives a restart and a
    /// running scheduler sees it); the error names the file and the cause.
    pub saved: Result<(), String>,
    /// Things the user should know: a config read leniently, a corrupt state file moved aside.
    pub notes: Vec<String>,
}

impl Report {
    /// The miners this call could not move.
    pub fn failed(&self) -> Vec<&MinerResult> {
        self.miners.iter().filter(|m| m.result.is_err()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Miner(#[from] axeos::Error),
    #[error("unknown miner {name:?} (configured: {known})")]
    UnknownMiner { name: String, known: String },
    #[error("a miner named {0:?} already exists; pick another name")]
    MinerExists(String),
    #[error("a miner needs a name")]
    NoName,
    #[error("unknown profile {name:?} ({known})")]
    UnknownProfile { name: String, known: String },
    #[error("an emergency stop is in force; resume first (bitaxe-scheduler --resume, or Resume in the app)")]
    EmergencyInForce,
    #[error("the scheduler state {path}: {message}")]
    State { path: String, message: String },
    #[error("{0} needs the scheduler running in this app")]
    NeedsEngine(&'static str),
    #[error("{0}")]
    Chart(String),
    #[error("{0}")]
    Task(String),
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
}

impl OpsError {
    /// A stable code the UI branches on.
    pub fn code(&self) -> &'static str {
        match self {
            OpsError::Config(e) => e.code(),
            OpsError::Engine(e) => e.code(),
            OpsError::Miner(e) => e.code(),
            OpsError::UnknownMiner { .. } => "unknown_miner",
            OpsError::MinerExists(_) => "miner_exists",
            OpsError::NoName => "bad_name",
            OpsError::UnknownProfile { .. } => "unknown_profile",
            OpsError::EmergencyInForce => "emergency_in_force",
            OpsError::State { .. } => "state_io",
            OpsError::NeedsEngine(_) => "needs_engine",
            OpsError::Chart(_) => "chart",
            OpsError::Task(_) => "internal",
            OpsError::Identity(crate::identity::IdentityError::NothingPending(_)) => {
                "nothing_pending"
            }
            OpsError::Identity(_) => "identity_io",
        }
    }
}

fn state_error(s: &Standalone, e: impl std::fmt::Display) -> OpsError {
    OpsError::State {
        path: Overrides::path_for(&s.config_path).display().to_string(),
        message: e.to_string(),
    }
}

fn unknown(config: &Config, name: &str) -> OpsError {
    let known: Vec<&str> = config.miners.iter().map(|m| m.name.as_str()).collect();
    OpsError::UnknownMiner {
        name: name.to_string(),
        known: if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        },
    }
}

/// The fleet now: the engine's status board, or one poll of every enabled miner with the
/// decisions in the state file.
pub async fn status(t: &Target) -> Result<FleetStatus, OpsError> {
    match t {
        Target::Engine(e) => Ok(e.status()),
        Target::Standalone(s) => {
            let config = Config::load(&s.config_path)?;
            // Read-only: a broken state file is reported by the commands that write it.
            let overrides = Overrides::load(&s.config_path).unwrap_or_default();
            let plan = Plan::new(std::sync::Arc::new(config), overrides);
            Ok(crate::fleet::snapshot(&s.http, &plan, Utc::now()).await)
        }
    }
}

/// Apply `profile` now to the fleet, or to one miner; it holds until the schedule's next change.
/// Refused while an emergency stop is in force. Standalone, the decision is saved first (so a
/// running scheduler agrees and carries it out); with no scheduler running, the miners are moved
/// here with the configured transition (`safe` in one step, all at once).
pub async fn apply(t: &Target, profile: Profile, miner: Option<&str>) -> Result<Report, OpsError> {
    let known = |cfg: &Config| {
        if profile.is_safe() || crate::profiles::exists(cfg, profile.name()) {
            Ok(())
        } else {
            Err(OpsError::UnknownProfile {
                name: profile.to_string(),
                known: crate::profiles::known(cfg),
            })
        }
    };
    match t {
        Target::Engine(e) => {
            known(&e.config())?;
            if e.overrides().emergency {
                return Err(OpsError::EmergencyInForce);
            }
            let saved = match miner {
                Some(m) => e.apply_miner(m, profile),
                None => e.apply(profile),
            };
            Ok(Report {
                by: CarriedOut::Engine,
                miners: Vec::new(),
                saved: not_saved(saved)?,
                notes: Vec::new(),
            })
        }
        Target::Standalone(s) => {
            let config = Config::load(&s.config_path)?;
            known(&config)?;
            let miners = selected(&config, miner)?;
            let now = Utc::now();
            let (mut o, notice) = Overrides::load_or_recover(&s.config_path, now);
            if o.emergency {
                return Err(OpsError::EmergencyInForce);
            }
            let manual = Manual {
                profile: profile.clone(),
                until: crate::fleet::manual_until(&config, now),
            };
            match miner {
                Some(name) => {
                    o.per_miner.insert(name.to_string(), manual);
                }
                None => o.manual = Some(manual),
            }
            o.save(&s.config_path).map_err(|e| state_error(s, e))?;
            let notes = notice.into_iter().collect();
            // A running scheduler carries it out itself: one writer per miner.
            let lock = match EngineLock::acquire(&s.config_path) {
                Err(LockError::Held { .. }) => {
                    return Ok(Report {
                        by: CarriedOut::Scheduler,
                        miners: Vec::new(),
                        saved: Ok(()),
                        notes,
                    })
                }
                held => held.ok(),
            };
            // Safe settings go at once, in one step, as an emergency does; day and night go
            // through an engine run here, the same workers a daemon runs.
            let results = if profile.is_safe() {
                let r = standalone::drive(
                    &s.http,
                    &config,
                    &miners,
                    profile,
                    "safe settings applied by hand",
                    &s.events,
                    &s.cancel,
                )
                .await;
                drop(lock);
                r
            } else {
                drop(lock);
                match standalone::run_engine(s, &config, &miners).await {
                    Ok(r) => r,
                    // A scheduler started in between: it carries the decision out.
                    Err(EngineError::Lock(LockError::Held { .. })) => {
                        return Ok(Report {
                            by: CarriedOut::Scheduler,
                            miners: Vec::new(),
                            saved: Ok(()),
                            notes,
                        })
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            Ok(Report {
                by: CarriedOut::Here,
                miners: results,
                saved: Ok(()),
                notes,
            })
        }
    }
}

/// The named miner, or every enabled one.
fn selected(
    config: &Config,
    miner: Option<&str>,
) -> Result<Vec<crate::config::MinerConfig>, OpsError> {
    match miner {
        Some(name) => Ok(vec![config
            .miner(name)
            .cloned()
            .ok_or_else(|| unknown(config, name))?]),
        None => Ok(config.enabled()),
    }
}

/// After a standalone [`apply`] carried out by a running scheduler: poll until the miners report
/// the profile, or the transition's time budget runs out.
pub async fn wait_for_scheduler(
    s: &Standalone,
    profile: Profile,
    miner: Option<&str>,
) -> Result<Vec<MinerResult>, OpsError> {
    let config = Config::load(&s.config_path)?;
    let miners = selected(&config, miner)?;
    Ok(standalone::wait_for_scheduler(&s.http, &config, &miners, profile).await)
}

/// Split a handle's result into "saved or why not" and real errors.
fn not_saved(r: Result<(), EngineError>) -> Result<Result<(), String>, OpsError> {
    match r {
        Ok(()) => Ok(Ok(())),
        Err(EngineError::StateNotSaved(why)) => Ok(Err(why)),
        Err(e) => Err(e.into()),
    }
}

/// Safe settings on every enabled miner at once, until [`resume`]. Acts on the miners first and
/// saves the decision second:
/// - with an engine, its plan switches first (workers act at once), then the state file is written;
/// - standalone, every enabled miner is moved to the safe settings in one step from here (even
///   beside a running scheduler), and the state file is written while the moves run. It needs
///   only the miners' addresses: a config with an invalid value elsewhere is read leniently (the
///   miner list and `safe_settings`, else the built-in safe settings), a corrupt state file is
///   moved aside, and an unwritable one only makes [`Report::saved`] an error.
pub async fn emergency_stop(t: &Target) -> Result<Report, OpsError> {
    match t {
        Target::Engine(e) => Ok(Report {
            by: CarriedOut::Engine,
            miners: Vec::new(),
            saved: not_saved(e.emergency_stop())?,
            notes: Vec::new(),
        }),
        Target::Standalone(s) => {
            let (config, problem) = roster::for_emergency(&s.config_path)?;
            let mut notes: Vec<String> = problem
                .map(|p| format!("the config has a problem ({p}); the emergency stop used only its miner list and safe settings {}", config.safe()))
                .into_iter()
                .collect();
            let enabled = config.enabled();
            let moves = standalone::drive(
                &s.http,
                &config,
                &enabled,
                Profile::safe(),
                "emergency stop",
                &s.events,
                &s.cancel,
            );
            // `join!` polls the moves first: their requests are out before the file is touched.
            let save = async {
                let now = Utc::now();
                let (mut o, notice) = Overrides::load_or_recover(&s.config_path, now);
                o.emergency = true;
                o.emergency_since.get_or_insert(now);
                let saved = o.save(&s.config_path).map_err(|e| {
                    format!(
                        "the emergency stop could not be saved to {}: {e}; a scheduler started later will not know about it",
                        Overrides::path_for(&s.config_path).display()
                    )
                });
                (saved, notice)
            };
            let (miners, (saved, notice)) = tokio::join!(moves, save);
            notes.extend(notice);
            if let Err(why) = &saved {
                tracing::error!("{why}");
                let _ = s.events.send(Event::Warning {
                    message: why.clone(),
                });
            }
            Ok(Report {
                by: CarriedOut::Here,
                miners,
                saved,
                notes,
            })
        }
    }
}

/// Clear an emergency stop, every profile applied by hand (fleet and per miner) and a pause: the
/// schedule drives again. Returns what was in force before. The engine and a standalone call
/// clear the same things ([`Overrides::clear`]).
pub fn resume(t: &Target) -> Result<Overrides, OpsError> {
    match t {
        Target::Engine(e) => Ok(e.resume()?),
        Target::Standalone(s) => {
            let (mut o, _) = Overrides::load_or_recover(&s.config_path, Utc::now());
            let before = o.clone();
            o.clear();
            o.save(&s.config_path).map_err(|e| state_error(s, e))?;
            Ok(before)
        }
    }
}

/// Hold schedule changes (safety keeps acting), or let them run again.
pub fn set_paused(t: &Target, paused: bool) -> Result<(), OpsError> {
    match t {
        Target::Engine(e) => Ok(e.set_paused(paused)?),
        Target::Standalone(s) => {
            let (mut o, _) = Overrides::load_or_recover(&s.config_path, Utc::now());
            o.paused = paused;
            o.pause_reason = None;
            o.save(&s.config_path).map_err(|e| state_error(s, e))
        }
    }
}

fn client_for(t: &Target, name: &str) -> Result<axeos::Client, OpsError> {
    let config = config(t)?;
    let m = config.miner(name).ok_or_else(|| unknown(&config, name))?;
    let http = match t {
        Target::Engine(e) => e.http().clone(),
        Target::Standalone(s) => s.http.clone(),
    };
    Ok(axeos::Client::new(&http, &m.ip)?)
}

/// Restart one miner (the firmware answers, then reboots; counters reset).
pub async fn restart_miner(t: &Target, name: &str) -> Result<(), OpsError> {
    match t {
        Target::Engine(e) => Ok(e.restart_miner(name).await?),
        Target::Standalone(_) => Ok(client_for(t, name)?.restart().await?),
    }
}

/// Try a target the miner would not take again now, with a fresh write budget. Given-up targets
/// live in the running engine's memory, so this needs one.
pub async fn retry_miner(t: &Target, name: &str) -> Result<(), OpsError> {
    match t {
        Target::Engine(e) => Ok(e.command(name, MinerCommand::Retry).await?),
        Target::Standalone(_) => Err(OpsError::NeedsEngine("retrying a given-up target")),
    }
}

/// Forget the per-profile ceilings lowered on one miner after repeated firmware overheats.
pub async fn clear_ceiling(t: &Target, name: &str) -> Result<(), OpsError> {
    match t {
        Target::Engine(e) => Ok(e.command(name, MinerCommand::ClearCeiling).await?),
        Target::Standalone(_) => Err(OpsError::NeedsEngine("clearing a lowered ceiling")),
    }
}

/// The user confirms that the device now answering at `name`'s address is theirs: it becomes the
/// known identity and may be written to again (the engine reads the identity file every poll).
pub fn confirm_identity(t: &Target, name: &str) -> Result<crate::identity::Identity, OpsError> {
    let config = config(t)?;
    if config.miner(name).is_none() {
        return Err(unknown(&config, name));
    }
    let path = match t {
        Target::Engine(e) => e.config_path().to_path_buf(),
        Target::Standalone(s) => s.config_path.clone(),
    };
    Ok(crate::identity::confirm(&path, name)?)
}

/// Pause or resume hashing on one miner (firmware v2.14+; not kept across a reboot).
pub async fn pause_miner(t: &Target, name: &str, paused: bool) -> Result<(), OpsError> {
    match t {
        Target::Engine(e) => Ok(e.pause_miner(name, paused).await?),
        Target::Standalone(_) => {
            let client = client_for(t, name)?;
            if paused {
                Ok(client.pause().await?)
            } else {
                Ok(client.resume().await?)
            }
        }
    }
}
