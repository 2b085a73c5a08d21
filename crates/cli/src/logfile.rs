//! The scheduler's log, `multi_bitaxe_scheduler.log` next to the config, written through
//! `tracing` by a non-blocking `tracing-appender` writer that rolls daily.
//!
//! Lines keep the seed's format (`2026-11-25 21:00:00 - INFO - [bitaxe-1] ...`). The dated files
//! are `multi_bitaxe_scheduler.log.YYYY-MM-DD` (the last [`KEEP_FILES`] are kept); on Unix the
//! seed's name is a symlink to today's file, so `tail -F multi_bitaxe_scheduler.log` works as it
//! did. A regular log file left at that name by the seed or an older version is kept as
//! `multi_bitaxe_scheduler.log.old`.

use std::fmt;
use std::path::Path;

use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

pub const LOG_FILE: &str = "multi_bitaxe_scheduler.log";
/// Daily files kept (a week).
pub const KEEP_FILES: usize = 7;
/// Environment variable with a `tracing` filter for the file (default `info`).
pub const LOG_FILTER_ENV: &str = "BITAXE_LOG";

/// Keeps the background writer alive; dropping it flushes every line still queued.
pub struct LogGuard {
    _worker: WorkerGuard,
}

/// A subscriber writing the seed-format log into `dir`, and the guard that flushes it.
pub fn subscriber(
    dir: &Path,
) -> std::io::Result<(impl Subscriber + Send + Sync + 'static, LogGuard)> {
    let (writer, worker) = tracing_appender::non_blocking(appender(dir)?);
    let filter = EnvFilter::try_from_env(LOG_FILTER_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = tracing_subscriber::fmt::layer()
        .event_format(SeedFormat)
        .with_ansi(false)
        .with_writer(writer);
    let subscriber = tracing_subscriber::registry().with(filter).with(layer);
    Ok((subscriber, LogGuard { _worker: worker }))
}

/// Install the log for the whole process.
pub fn init(dir: &Path) -> std::io::Result<LogGuard> {
    let (subscriber, guard) = subscriber(dir)?;
    tracing::subscriber::set_global_default(subscriber).map_err(std::io::Error::other)?;
    Ok(guard)
}

fn appender(dir: &Path) -> std::io::Result<RollingFileAppender> {
    // The link's target is `dir` joined with the dated name: relative to the link's own folder it
    // would point nowhere, so give the appender an absolute folder.
    let dir = &std::fs::canonicalize(dir)?;
    let builder = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(LOG_FILE)
        .max_log_files(KEEP_FILES);
    #[cfg(unix)]
    let builder = {
        let seed_name = dir.join(LOG_FILE);
        let is_regular_file = std::fs::symlink_metadata(&seed_name)
            .map(|m| m.file_type().is_file())
            .unwrap_or(false);
        if is_regular_file {
            // The appender replaces whatever is at the link's name: keep the user's old log.
            std::fs::rename(&seed_name, dir.join(format!("{LOG_FILE}.old")))?;
        }
        builder.latest_symlink(LOG_FILE)
    };
    builder.build(dir).map_err(std::io::Error::other)
}

/// `YYYY-MM-DD HH:MM:SS - LEVEL - message`, local time, as the seed's Python logging wrote.
struct SeedFormat;

impl<S, N> FormatEvent<S, N> for SeedFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARNING",
            Level::INFO => "INFO",
            Level::DEBUG => "DEBUG",
            Level::TRACE => "TRACE",
        };
        let stamp = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        write!(writer, "{stamp} - {level} - ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_text(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(LOG_FILE)).expect("log at the seed's name")
    }

    #[test]
    fn lines_keep_the_seed_format_in_a_dated_file_under_the_seed_name() {
        let dir = tempfile::tempdir().expect("dir");
        let (subscriber, guard) = subscriber(dir.path()).expect("log");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("[bitaxe-1] now at 1100mV @ 425MHz");
            tracing::warn!("TOTAL: 1/2 online");
            tracing::debug!("not at the default level");
        });
        drop(guard);
        let text = log_text(dir.path());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with(" - INFO - [bitaxe-1] now at 1100mV @ 425MHz"),
            "{text}"
        );
        assert!(
            lines[1].ends_with(" - WARNING - TOTAL: 1/2 online"),
            "{text}"
        );
        // `2026-11-25 21:00:00 - `: a local timestamp first.
        assert!(
            chrono::NaiveDateTime::parse_from_str(&lines[0][..19], "%Y-%m-%d %H:%M:%S").is_ok(),
            "{text}"
        );
        let dated: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&format!("{LOG_FILE}.")))
            .collect();
        assert_eq!(dated.len(), 1, "one dated file: {dated:?}");
        #[cfg(unix)]
        assert!(std::fs::symlink_metadata(dir.path().join(LOG_FILE))
            .expect("meta")
            .file_type()
            .is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn an_old_plain_log_file_is_kept_not_replaced() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(LOG_FILE), "seed line\n").expect("old log");
        let (subscriber, guard) = subscriber(dir.path()).expect("log");
        tracing::subscriber::with_default(subscriber, || tracing::info!("new line"));
        drop(guard);
        assert!(log_text(dir.path()).contains("new line"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(format!("{LOG_FILE}.old"))).expect("old"),
            "seed line\n"
        );
    }

    #[test]
    fn a_relative_folder_still_gets_a_working_link() {
        let cwd = std::env::current_dir().expect("cwd");
        let dir = tempfile::tempdir_in(&cwd).expect("dir");
        let relative = dir.path().strip_prefix(&cwd).expect("relative");
        assert!(relative.is_relative());
        let (subscriber, guard) = subscriber(relative).expect("log");
        tracing::subscriber::with_default(subscriber, || tracing::info!("[m] relative"));
        drop(guard);
        assert!(log_text(dir.path()).contains("[m] relative"));
    }
}
