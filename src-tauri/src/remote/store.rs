//! Where the attachment is remembered: the desktop's preferences store (`prefs.json` in the
//! app's data dir, tauri-plugin-store), under its own key `attachment`. It holds the token, so
//! the file is made owner-only (0600 on Unix) before the token is first written to it.

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};

const KEY: &str = "attachment";
const FILE: &str = "prefs.json";

/// The scheduler this app attaches to at start.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// `host:port` or `https://host:port`.
    pub address: String,
    pub token: String,
    /// The pinned certificate fingerprint (TLS only).
    #[serde(default)]
    pub fingerprint: Option<String>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("address", &self.address)
            .field("token", &"[redacted]")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// The saved attachment, if any (a broken entry counts as none).
pub fn load(app: &AppHandle) -> Option<Attachment> {
    crate::commands::prefs_store(app)
        .ok()?
        .get(KEY)
        .and_then(|v| serde_json::from_value(v).ok())
}

/// Remember `attachment` (or forget it with `None`).
pub fn save(app: &AppHandle, attachment: Option<&Attachment>) -> Result<(), String> {
    let store = crate::commands::prefs_store(app)?;
    match attachment {
        Some(a) => {
            owner_only(app)?;
            store.set(KEY, serde_json::to_value(a).map_err(|e| e.to_string())?);
        }
        None => {
            store.delete(KEY);
        }
    }
    store.save().map_err(|e| e.to_string())?;
    owner_only(app)
}

/// Create the store's file owner-only if missing, and make it so if it is not (writing to an
/// existing file keeps its mode).
fn owner_only(app: &AppHandle) -> Result<(), String> {
    let path = app
        .path()
        .app_data_dir()
        .map_err(|e| e.to_string())?
        .join(FILE);
    restrict(&path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(unix)]
pub fn restrict(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        // An empty file is not valid JSON for the store: give it an empty object.
        std::fs::write(path, b"{}")?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
pub fn restrict(_path: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_stays_out_of_debug_output() {
        let a = Attachment {
            address: "127.0.0.1:8417".into(),
            token: "s3cret".into(),
            fingerprint: None,
        };
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[cfg(unix)]
    #[test]
    fn the_store_file_is_made_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("sub").join("prefs.json");
        restrict(&path).expect("new");
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0)
        };
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::fs::write(&path, b"{\"prefs\":{}}").expect("write");
        restrict(&path).expect("existing");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "{\"prefs\":{}}",
            "an existing store keeps its content"
        );
    }
}
