//! Decisions that outlive one process: an emergency stop, a manual "apply now", a pause. Kept in
//! `FILE.state.json` beside the config so that a one-shot command and a running scheduler agree,
//! and so that an emergency stop sticks until the user resumes the schedule.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::write_atomic;
use crate::schedule::Profile;

/// A profile applied by hand; holds until the schedule's next change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Why the engine paused by itself (a corrupt or unreadable state file); cleared on resume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_reason: Option<String>,
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
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_atomic(&Overrides::path_for(config), text.as_bytes())
    }

    /// Read the file, or recover from a broken one. A corrupt file (it reads, but does not parse)
    /// is moved aside to `FILE.state.json.corrupt-<timestamp>`; since it may have held an
    /// emergency stop, the result is paused (no raises) with the reason, saved when possible.
    /// A file that cannot be read is left where it is, and the result is paused too. The second
    /// value is the notice to show the user, if any.
    pub fn load_or_recover(config: &Path, now: DateTime<Utc>) -> (Overrides, Option<String>) {
        let path = Overrides::path_for(config);
        let text = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return (Overrides::default(), None)
            }
            Err(e) => {
                let why = format!(
                    "the scheduler state {} cannot be read ({e}); it may hold an emergency stop, so scheduling is paused (no raises) until you resume",
                    path.display()
                );
                return (Overrides::paused_because(&why), Some(why));
            }
        };
        match serde_json::from_slice::<Overrides>(&text) {
            Ok(o) => (o, None),
            Err(e) => {
                let aside = crate::config::with_suffix(
                    &path,
                    &format!(".corrupt-{}", now.format("%Y%m%dT%H%M%SZ")),
                );
                let moved = match std::fs::rename(&path, &aside) {
                    Ok(()) => format!("moved to {}", aside.display()),
                    Err(m) => format!("could not be moved aside ({m})"),
                };
                let why = format!(
                    "the scheduler state {} was corrupt ({e}) and {moved}; it may have held an emergency stop, so scheduling is paused (no raises) until you resume",
                    path.display()
                );
                let o = Overrides::paused_because(&why);
                let why = match o.save(config) {
                    Ok(()) => why,
                    Err(e) => format!("{why}; the new state could not be saved either: {e}"),
                };
                (o, Some(why))
            }
        }
    }

    fn paused_because(why: &str) -> Overrides {
        Overrides {
            paused: true,
            pause_reason: Some(why.to_string()),
            ..Overrides::default()
        }
    }

    /// Clear every decision (emergency, manual profiles for the fleet and per miner, pause): the
    /// schedule drives again.
    pub fn clear(&mut self) {
        *self = Overrides::default();
    }

    /// Whether anything is in force besides the schedule.
    pub fn is_clear(&self) -> bool {
        *self == Overrides::default()
    }

    /// The manual profile still in force at `now`.
    pub fn manual_at(&self, now: DateTime<Utc>) -> Option<Profile> {
        in_force(self.manual.as_ref(), now).map(|m| m.profile.clone())
    }

    /// The profile applied by hand to `miner` (or to the fleet) still in force at `now`.
    pub fn manual_for(&self, miner: &str, now: DateTime<Utc>) -> Option<Profile> {
        self.manual_entry_for(miner, now).map(|m| m.profile.clone())
    }

    /// The manual apply in force for `miner` at `now` (its own, else the fleet's), with its end.
    pub fn manual_entry_for(&self, miner: &str, now: DateTime<Utc>) -> Option<&Manual> {
        in_force(self.per_miner.get(miner), now).or_else(|| in_force(self.manual.as_ref(), now))
    }
}

fn in_force(m: Option<&Manual>, now: DateTime<Utc>) -> Option<&Manual> {
    m.filter(|m| m.until.is_none_or(|u| now < u))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_000_000, 0).expect("time")
    }

    #[test]
    fn a_corrupt_state_file_is_moved_aside_and_the_result_is_paused() {
        let dir = tempfile::tempdir().expect("dir");
        let config = dir.path().join("c.json");
        std::fs::write(Overrides::path_for(&config), "{\"emergency\": tru").expect("write");
        let (o, notice) = Overrides::load_or_recover(&config, at());
        assert!(o.paused && !o.emergency);
        let notice = notice.expect("notice");
        assert!(
            notice.contains("corrupt") && notice.contains("paused"),
            "{notice}"
        );
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("c.json.state.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        // The new file holds the pause, so a restart stays paused.
        assert_eq!(Overrides::load(&config).expect("reload"), o);
        let mut o = o;
        o.clear();
        assert!(o.is_clear());
    }

    #[test]
    fn an_unreadable_state_file_is_left_alone_and_the_result_is_paused() {
        let dir = tempfile::tempdir().expect("dir");
        let config = dir.path().join("c.json");
        std::fs::create_dir(Overrides::path_for(&config)).expect("a directory where the file goes");
        let (o, notice) = Overrides::load_or_recover(&config, at());
        assert!(o.paused);
        assert!(notice.expect("notice").contains("cannot be read"));
        assert!(Overrides::path_for(&config).is_dir());
    }
}
