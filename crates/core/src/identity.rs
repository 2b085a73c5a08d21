//! Which device answers at each miner's address: (MAC, model, firmware) recorded at first contact
//! in `<config>.identity.json`, beside the config (written atomically).
//!
//! A different MAC at a known miner is not written to until the user confirms it with
//! [`confirm`]; the engine says so once (`Event::IdentityChanged`) and keeps monitoring. A firmware
//! update (same MAC, new version) is recorded silently. A miner that reports no MAC (firmware
//! before v2.3) cannot be told apart and is accepted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::{with_suffix, write_atomic};

/// One device as it identified itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub mac: Option<String>,
    /// `boardVersion` and ASIC, e.g. `board 601 (BM1370)`.
    pub model: String,
    pub firmware: Option<String>,
}

impl Identity {
    pub fn of(info: &axeos::Info) -> Identity {
        Identity {
            mac: info.mac_addr.clone(),
            model: crate::safety::models::describe(info),
            firmware: info.version.clone(),
        }
    }

    fn label(&self) -> String {
        format!("{} {}", self.mac.as_deref().unwrap_or("no MAC"), self.model)
    }
}

/// What the file keeps per miner.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub known: Identity,
    /// A different device seen at the address, waiting for the user to confirm it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Identity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Store {
    #[serde(default)]
    pub miners: BTreeMap<String, Record>,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("miner {0:?} has no different device waiting for confirmation")]
    NothingPending(String),
}

/// The verdict on one reading.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The known device (or the first contact, now recorded).
    Same,
    /// Another device: do not write. `expected` and `found` in words.
    Different { expected: String, found: String },
}

/// Read-modify-write of the file is serialised within the process (several workers).
static FILE: Mutex<()> = Mutex::new(());

pub fn path_for(config: &Path) -> PathBuf {
    with_suffix(config, ".identity.json")
}

pub fn load(config: &Path) -> Result<Store, IdentityError> {
    let path = path_for(config);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| IdentityError::Corrupt {
            path,
            message: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Store::default()),
        Err(source) => Err(IdentityError::Io { path, source }),
    }
}

fn save(config: &Path, store: &Store) -> Result<(), IdentityError> {
    let path = path_for(config);
    let text = serde_json::to_vec_pretty(store).unwrap_or_default();
    write_atomic(&path, &text).map_err(|source| IdentityError::Io { path, source })
}

fn update<T>(config: &Path, f: impl FnOnce(&mut Store) -> (T, bool)) -> Result<T, IdentityError> {
    let _guard = FILE.lock().unwrap_or_else(|e| e.into_inner());
    let mut store = load(config)?;
    let (out, changed) = f(&mut store);
    if changed {
        save(config, &store)?;
    }
    Ok(out)
}

/// Compare what `miner` reports with what was recorded; record it at first contact.
pub fn check(config: &Path, miner: &str, seen: &Identity) -> Result<Check, IdentityError> {
    update(config, |store| {
        let Some(rec) = store.miners.get_mut(miner) else {
            store.miners.insert(
                miner.to_string(),
                Record {
                    known: seen.clone(),
                    pending: None,
                },
            );
            return (Check::Same, true);
        };
        let same_device = match (&rec.known.mac, &seen.mac) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        if same_device {
            let mut changed = rec.pending.take().is_some();
            if rec.known != *seen && seen.mac.is_some() {
                // Same device: a firmware update, or a MAC first reported after an upgrade.
                rec.known = seen.clone();
                changed = true;
            }
            return (Check::Same, changed);
        }
        let changed = rec.pending.as_ref() != Some(seen);
        rec.pending = Some(seen.clone());
        (
            Check::Different {
                expected: rec.known.label(),
                found: seen.label(),
            },
            changed,
        )
    })
}

/// The user confirms the device now at `miner`'s address: it becomes the known one.
pub fn confirm(config: &Path, miner: &str) -> Result<Identity, IdentityError> {
    update(config, |store| match store.miners.get_mut(miner) {
        Some(rec) => match rec.pending.take() {
            Some(p) => {
                rec.known = p.clone();
                (Ok(p), true)
            }
            None => (Err(IdentityError::NothingPending(miner.to_string())), false),
        },
        None => (Err(IdentityError::NothingPending(miner.to_string())), false),
    })?
}

/// Forget a miner (it was removed from the config).
pub fn forget(config: &Path, miner: &str) -> Result<(), IdentityError> {
    update(config, |store| ((), store.miners.remove(miner).is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(mac: &str, fw: &str) -> Identity {
        Identity {
            mac: Some(mac.into()),
            model: "board 601 (BM1370)".into(),
            firmware: Some(fw.into()),
        }
    }

    #[test]
    fn first_contact_is_recorded_a_new_mac_waits_for_confirmation() {
        let dir = tempfile::tempdir().expect("dir");
        let cfg = dir.path().join("c.json");
        assert_eq!(
            check(&cfg, "a", &id("AA", "v2.12.0")).expect("ok"),
            Check::Same
        );
        // A firmware update is the same device.
        assert_eq!(
            check(&cfg, "a", &id("aa", "v2.14.1")).expect("ok"),
            Check::Same
        );
        assert_eq!(
            load(&cfg).expect("load").miners["a"]
                .known
                .firmware
                .as_deref(),
            Some("v2.14.1")
        );
        let found = check(&cfg, "a", &id("BB", "v2.14.1")).expect("ok");
        assert!(
            matches!(&found, Check::Different { expected, found } if expected.starts_with("aa") && found.starts_with("BB")),
            "{found:?}"
        );
        assert!(matches!(
            check(&cfg, "a", &id("BB", "v2.14.1")).expect("ok"),
            Check::Different { .. }
        ));
        assert_eq!(
            confirm(&cfg, "a").expect("confirm").mac.as_deref(),
            Some("BB")
        );
        assert_eq!(
            check(&cfg, "a", &id("BB", "v2.14.1")).expect("ok"),
            Check::Same
        );
        assert!(matches!(
            confirm(&cfg, "a"),
            Err(IdentityError::NothingPending(_))
        ));
    }
}
