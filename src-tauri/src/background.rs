//! Blocking work (SQLite reads, chart and CSV rendering, file writes) goes to Tauri's blocking
//! pool, never onto the main thread or an async worker.

use crate::error::{app_error, CmdError};

/// Run `work` on the blocking pool and wait for it without blocking the caller's thread.
pub async fn blocking<T, F>(work: F) -> Result<T, CmdError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, CmdError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(app_error)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_another_thread_and_its_error_comes_back() {
        let here = std::thread::current().id();
        let there = tauri::async_runtime::block_on(blocking(|| Ok(std::thread::current().id())))
            .expect("ran");
        assert_ne!(here, there);
        let e = tauri::async_runtime::block_on(blocking::<(), _>(|| {
            Err(CmdError::new("io", "disk full"))
        }))
        .expect_err("error");
        assert_eq!(e.code, "io");
    }
}
