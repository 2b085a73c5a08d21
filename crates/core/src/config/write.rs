//! Crash-safe file replacement: a temp file beside the real one, written, fsynced, renamed over
//! it, then the folder fsynced. A symlinked file is written through (the link stays a link); the
//! file keeps its permissions (and, where the OS lets us, its owner). Temp files left behind by a
//! process killed mid-save are swept by the next save.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How many symlinks are followed before giving up (as the kernel does).
const MAX_LINKS: usize = 40;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to `path` so that a crash leaves either the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = resolve_links(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    sweep(&dir, &name);
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_new(&tmp, &target, bytes).and_then(|()| std::fs::rename(&tmp, &target));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    sync_dir(&dir);
    Ok(())
}

/// The file a chain of symlinks ends at (which need not exist yet).
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut target = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::read_link(&target) {
            Ok(link) if link.is_absolute() => target = link,
            Ok(link) => {
                target = target.parent().map(|p| p.join(&link)).unwrap_or(link);
            }
            Err(_) => return Ok(target),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// Create `tmp` with the bytes, the permissions (and owner) of `like` if it exists, and fsync it.
fn write_new(tmp: &Path, like: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(tmp)?;
    if let Ok(meta) = std::fs::metadata(like) {
        file.set_permissions(meta.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Only root can give a file away; for anyone else this is the owner already.
            let _ = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()));
        }
    }
    file.write_all(bytes)?;
    file.sync_all()
}

/// Make the rename itself durable.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Remove `.NAME.PID.N.tmp` files whose process is gone (killed in the middle of a save).
fn sweep(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.filter_map(Result::ok) {
        let file = entry.file_name();
        let Some(rest) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !alive(pid, &entry.path()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether the process that made a temp file may still be writing it.
fn alive(pid: u32, tmp: &Path) -> bool {
    let proc = Path::new("/proc");
    if proc.is_dir() {
        return proc.join(pid.to_string()).exists();
    }
    // No /proc: trust age instead; a save takes milliseconds.
    std::fs::metadata(tmp)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age.as_secs() < 600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_dead_processes_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.json");
        // pid 0 is never a user process; our own pid is alive.
        let dead = dir.path().join(".c.json.4000000000.0.tmp");
        let mine = dir
            .path()
            .join(format!(".c.json.{}.999.tmp", std::process::id()));
        let other = dir.path().join(".other.json.4000000000.0.tmp");
        for f in [&dead, &mine, &other] {
            std::fs::write(f, "x").expect("write");
        }
        write_atomic(&path, b"{}").expect("write");
        assert!(!dead.exists());
        assert!(mine.exists() && other.exists());
        assert_eq!(std::fs::read(&path).expect("read"), b"{}");
    }
}
