//! History is never a reason not to schedule: an engine starts beside a corrupt history database
//! (moved aside) and with a data folder that cannot hold one (history in memory).

use std::time::Duration;

use bitaxe_core::config::Config;
use bitaxe_core::history::HISTORY_FILE;
use bitaxe_core::{EngineHandle, EngineOptions};

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("multi_scheduler_config.json");
    Config::default().save(&path).expect("config");
    path
}

#[tokio::test]
async fn the_engine_starts_beside_a_corrupt_history_database() {
    let dir = tempfile::tempdir().expect("dir");
    let path = config(dir.path());
    std::fs::write(dir.path().join(HISTORY_FILE), b"not sqlite".repeat(500)).expect("garbage");
    let engine = EngineHandle::start(EngineOptions::new(&path)).expect("engine starts");
    let moved = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().contains(".corrupt-"));
    assert!(moved, "the corrupt file is kept aside");
    assert!(engine.shutdown(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn the_engine_starts_when_the_data_folder_cannot_be_made() {
    let dir = tempfile::tempdir().expect("dir");
    let path = config(dir.path());
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "").expect("blocker");
    let mut opts = EngineOptions::new(&path);
    opts.data_dir = blocker.join("history");
    let engine = EngineHandle::start(opts).expect("engine starts with history in memory");
    assert!(engine.shutdown(Duration::from_secs(5)).await);
}
