//! The API's two bearer tokens: control in `FILE.api-token`, read in `FILE.api-read-token` (FILE
//! being the config path), 256-bit random, hex, mode 0600, compared in constant time.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use subtle::ConstantTimeEq;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Status, history, events, metrics.
    Read,
    /// Everything, writes included.
    Control,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: not a token (expected 64 hex digits); remove it or run --rotate-token")]
    Malformed(String),
}

/// The control and the read token.
#[derive(Clone)]
pub struct Tokens {
    control: String,
    read: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(..)")
    }
}

/// The control token's file beside `config`.
pub fn control_path(config: &Path) -> PathBuf {
    bitaxe_core::config::with_suffix(config, ".api-token")
}

/// The read token's file beside `config`.
pub fn read_path(config: &Path) -> PathBuf {
    bitaxe_core::config::with_suffix(config, ".api-read-token")
}

impl Tokens {
    /// Read both tokens, creating a missing one. Returns the tokens and whether the control token
    /// was created now (the caller prints it once).
    pub fn load_or_create(config: &Path) -> Result<(Tokens, bool), TokenError> {
        let (control, created) = load_or_new(&control_path(config))?;
        let (read, _) = load_or_new(&read_path(config))?;
        Ok((Tokens { control, read }, created))
    }

    /// Read both tokens as they are on disk (none missing).
    pub fn load(config: &Path) -> Result<Tokens, TokenError> {
        let read = |p: &Path| -> Result<String, TokenError> {
            let text = std::fs::read_to_string(p).map_err(io(p))?;
            parse(p, &text)
        };
        Ok(Tokens {
            control: read(&control_path(config))?,
            read: read(&read_path(config))?,
        })
    }

    /// New tokens in both files (the old ones stop working when the server restarts).
    pub fn rotate(config: &Path) -> Result<Tokens, TokenError> {
        let t = Tokens {
            control: fresh(),
            read: fresh(),
        };
        write_secret(&control_path(config), &t.control)?;
        write_secret(&read_path(config), &t.read)?;
        Ok(t)
    }

    /// Tokens given in memory (tests, embedders).
    pub fn new(control: String, read: String) -> Tokens {
        Tokens { control, read }
    }

    pub fn control(&self) -> &str {
        &self.control
    }

    pub fn read(&self) -> &str {
        &self.read
    }

    /// The scope `presented` grants, if any. Both comparisons always run, in constant time.
    pub fn scope_of(&self, presented: &str) -> Option<Scope> {
        let p = presented.as_bytes();
        let control: bool = p.ct_eq(self.control.as_bytes()).into();
        let read: bool = p.ct_eq(self.read.as_bytes()).into();
        if control {
            Some(Scope::Control)
        } else if read {
            Some(Scope::Read)
        } else {
            None
        }
    }
}

fn fresh() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TokenError + '_ {
    move |source| TokenError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn load_or_new(path: &Path) -> Result<(String, bool), TokenError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((parse(path, &text)?, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let t = fresh();
            write_secret(path, &t)?;
            Ok((t, true))
        }
        Err(e) => Err(io(path)(e)),
    }
}

fn parse(path: &Path, text: &str) -> Result<String, TokenError> {
    let t = text.trim();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TokenError::Malformed(path.display().to_string()));
    }
    Ok(t.to_string())
}

/// Write `secret` to `path` with mode 0600 from the start (a temporary file renamed over it).
pub(crate) fn write_secret(path: &Path, secret: &str) -> Result<(), TokenError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".api-token");
    // Elsewhere (Windows) a temporary file is private to the user already.
    #[cfg(unix)]
    builder.permissions(secret_permissions());
    let mut tmp = builder.tempfile_in(dir).map_err(io(path))?;
    tmp.write_all(secret.as_bytes()).map_err(io(path))?;
    tmp.write_all(b"\n").map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

#[cfg(unix)]
fn secret_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_rotatable() {
        let dir = tempfile::tempdir().expect("dir");
        let cfg = dir.path().join("c.json");
        let (t, created) = Tokens::load_or_create(&cfg).expect("create");
        assert!(created);
        assert_eq!(t.control().len(), 64);
        assert_ne!(t.control(), t.read());
        let (again, created) = Tokens::load_or_create(&cfg).expect("load");
        assert!(!created);
        assert_eq!(again.control(), t.control());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [control_path(&cfg), read_path(&cfg)] {
                let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", p.display());
            }
        }
        let r = Tokens::rotate(&cfg).expect("rotate");
        assert_ne!(r.control(), t.control());
        let (loaded, _) = Tokens::load_or_create(&cfg).expect("load");
        assert_eq!(loaded.control(), r.control());
        assert_eq!(loaded.scope_of(r.control()), Some(Scope::Control));
        assert_eq!(loaded.scope_of(r.read()), Some(Scope::Read));
        assert_eq!(loaded.scope_of(t.control()), None);
        assert_eq!(loaded.scope_of(""), None);
    }
}
