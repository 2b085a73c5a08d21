//! One engine per config: the running scheduler holds an exclusive lock on `FILE.lock`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

/// Held while an engine drives the miners of one config. Released on drop (and by the OS if the
/// process dies, so a crash never leaves a stale lock).
#[derive(Debug)]
pub struct EngineLock {
    _file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another scheduler (pid {pid}) is already running on {config}; stop it first, or use one-shot commands such as --status or --apply, which work alongside it")]
    Held { pid: String, config: String },
    #[error("cannot create the lock file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl EngineLock {
    pub fn path_for(config: &Path) -> PathBuf {
        crate::config::with_suffix(config, ".lock")
    }

    pub fn acquire(config: &Path) -> Result<EngineLock, LockError> {
        let path = EngineLock::path_for(config);
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match FileExt::try_lock_exclusive(&file) {
            Ok(true) => {}
            Ok(false) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(LockError::Held {
                    pid: if pid.trim().is_empty() {
                        "unknown".into()
                    } else {
                        pid.trim().to_string()
                    },
                    config: config.display().to_string(),
                });
            }
            Err(e) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(EngineLock { _file: file, path })
    }

    /// Whether some process holds the lock now (without taking it).
    pub fn is_held(config: &Path) -> bool {
        match EngineLock::acquire(config) {
            Ok(_) => false,
            Err(LockError::Held { .. }) => true,
            Err(LockError::Io { .. }) => false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_engine_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("dir");
        let config = dir.path().join("multi_scheduler_config.json");
        let first = EngineLock::acquire(&config).expect("first");
        let second = EngineLock::acquire(&config).expect_err("second");
        let msg = second.to_string();
        assert!(msg.contains(&std::process::id().to_string()), "{msg}");
        assert!(msg.contains("already running"));
        assert!(EngineLock::is_held(&config));
        drop(first);
        assert!(!EngineLock::is_held(&config));
        EngineLock::acquire(&config).expect("free again");
    }
}
