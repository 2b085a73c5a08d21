//! `multi_bitaxe_scheduler.log`: timestamped lines, rotated by size (FILE.1 .. FILE.3).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const LOG_FILE: &str = "multi_bitaxe_scheduler.log";
const MAX_BYTES: u64 = 5 * 1024 * 1024;
const KEEP: u32 = 3;

pub struct LogFile {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max_bytes: u64,
}

impl LogFile {
    pub fn open(path: &Path) -> std::io::Result<LogFile> {
        LogFile::with_limit(path, MAX_BYTES)
    }

    pub fn with_limit(path: &Path, max_bytes: u64) -> std::io::Result<LogFile> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(LogFile {
            path: path.to_path_buf(),
            file: Some(file),
            size,
            max_bytes,
        })
    }

    /// Append one line with a local timestamp; rotate first when the file is full.
    pub fn line(&mut self, level: &str, text: &str) {
        let stamp = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        let entry = format!("{stamp} - {level} - {text}\n");
        if self.size + entry.len() as u64 > self.max_bytes {
            self.rotate();
        }
        if let Some(f) = self.file.as_mut() {
            if f.write_all(entry.as_bytes()).is_ok() {
                self.size += entry.len() as u64;
            }
        }
    }

    fn rotate(&mut self) {
        self.file = None;
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", self.path.display()));
        let _ = std::fs::remove_file(numbered(KEEP));
        for n in (1..KEEP).rev() {
            let _ = std::fs::rename(numbered(n), numbered(n + 1));
        }
        let _ = std::fs::rename(&self.path, numbered(1));
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .ok();
        self.size = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_three() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(LOG_FILE);
        let mut log = LogFile::with_limit(&path, 200).expect("open");
        for i in 0..40 {
            log.line("INFO", &format!("[m] line {i}"));
        }
        assert!(std::fs::metadata(&path).expect("log").len() <= 200);
        for n in 1..=3 {
            assert!(dir.path().join(format!("{LOG_FILE}.{n}")).exists(), "{n}");
        }
        assert!(!dir.path().join(format!("{LOG_FILE}.4")).exists());
        assert!(std::fs::read_to_string(&path)
            .expect("read")
            .contains("line 39"));
    }
}
