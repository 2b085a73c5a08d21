//! Decisions that outlive one process: an emergency stop, a manual "apply now", a pause. Kept in
//! `FILE.state.json` beside the config so that a one-shot command and a running scheduler agree,
//! and so that an emergency stop sticks until the user resumes the schedule.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::write_atomic;
use crate::schedule::Profile;

/// A profile applied by hand; holds until the schedule's next change.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Manual {
    pub profile: Profile,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Overrides {
    /// Safe settings on every enabled miner until resumed.
    pub emergency: bool,
    pub emergency_since: Option<DateTime<Utc>>,
    pub manual: Option<Manual>,
    /// A profile applied by hand to one miner.
    pub per_miner: std::collections::BTreeMap<String, Manual>,
    /// Schedule changes held (safety still acts).
    pub paused: bool,
}

impl Overrides {
    pub fn path_for(config: &Path) -> PathBuf {
        crate::config::with_suffix(config, ".state.json")
    }

    /// Read the file; a missing or unreadable one means no overrides (and says why in the error).
    pub fn load(config: &Path) -> Result<Overrides, String> {
        let path = Overrides::path_for(config);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Overrides::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    pub fn save(&self, config: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        write_atomic(&Overrides::path_for(config), text.as_bytes())
    }

    /// The manual profile still in force at `now`.
    pub fn manual_at(&self, now: DateTime<Utc>) -> Option<Profile> {
        in_force(self.manual, now)
    }

    /// The profile applied by hand to `miner` (or to the fleet) still in force at `now`.
    pub fn manual_for(&self, miner: &str, now: DateTime<Utc>) -> Option<Profile> {
        in_force(self.per_miner.get(miner).copied(), now).or_else(|| self.manual_at(now))
    }
}

fn in_force(m: Option<Manual>, now: DateTime<Utc>) -> Option<Profile> {
    m.filter(|m| m.until.is_none_or(|u| now < u))
        .map(|m| m.profile)
}

impl Overrides {}
