//! Every sample in SQLite (one file), with retention, 5-minute roll-ups for old data, range
//! queries downsampled to a bucket size for charts, and the measured energy per 15-minute slot
//! and profile ([`energy`]).
//!
//! Schema changes are additive (`CREATE ... IF NOT EXISTS` on open), so a file from an older
//! release opens and keeps working: it simply has no energy before the upgrade. The `hourly`
//! table keeps its `day_n` column (still written, so an older release can read a newer file), but
//! the profile shown for a bucket comes from `hourly_profile` (samples per profile name and hour);
//! `day_n` is only read for hours recorded before that table existed.

mod chart_query;
mod energy;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::events::Sample;

pub use energy::{EnergyRef, EnergyRow, DEFAULT_MAX_GAP, SLOT_S};

pub const HISTORY_FILE: &str = "bitaxe_history.sqlite";
/// How long a statement waits for another connection (the chart reader, a second process) to let
/// go of the database before failing with "database is locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Raw samples older than this are rolled up into 5-minute averages.
const RAW_KEEP_S: i64 = 2 * 24 * 3600;
const ROLLUP_S: i64 = 300;

#[derive(Debug, thiserror::Error)]
#[error("history database: {0}")]
pub struct HistoryError(#[from] rusqlite::Error);

/// One point of a chart series: averages over a bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub miner: String,
    /// Bucket start, Unix seconds.
    pub at: i64,
    pub hashrate: f64,
    pub power: f64,
    pub temp: Option<f64>,
    pub efficiency: Option<f64>,
    /// The name of the profile of most samples in the bucket ("day", "quiet", "off", ...).
    pub profile: String,
}

pub struct History {
    db: Connection,
    /// `None` when history is kept in memory only (the file could not be used).
    path: Option<PathBuf>,
    energy: energy::Integrator,
}

impl History {
    /// Open (or create) the database at `path`. Fails on a corrupt or unusable file; see
    /// [`History::open_or_recover`] for the variant that never stops the scheduler.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        let db = Connection::open(path)?;
        let mut history = History::init(db)?;
        history.path = Some(path.to_path_buf());
        Ok(history)
    }

    /// History is never a reason not to schedule: open `path`, and when that fails, move a
    /// corrupt file aside (`FILE.corrupt-<UTC timestamp>`, with its `-wal`/`-shm`) and start a
    /// fresh one; when the folder cannot hold a database at all, keep history in memory for this
    /// run. The warning says what happened, for the caller to show. Fails only when SQLite cannot
    /// make even an in-memory database.
    pub fn open_or_recover(path: &Path) -> Result<(History, Option<String>), HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let first = match History::open(path) {
            Ok(h) => return Ok((h, None)),
            Err(e) => e,
        };
        let aside = if path.is_file() && !is_busy(&first) {
            move_aside(path)
        } else {
            None
        };
        if let Some(aside) = &aside {
            if let Ok(h) = History::open(path) {
                let warning = format!(
                    "history database {} could not be used ({first}); moved it to {} and started a fresh one",
                    path.display(),
                    aside.display()
                );
                tracing::warn!("{warning}");
                return Ok((h, Some(warning)));
            }
        }
        let warning = format!(
            "history database {} could not be used ({first}){}; history is kept in memory until restart",
            path.display(),
            aside
                .map(|a| format!(", moved it to {}", a.display()))
                .unwrap_or_default()
        );
        tracing::warn!("{warning}");
        Ok((History::in_memory()?, Some(warning)))
    }

    /// A database that lives only as long as this value (history switched off on disk).
    pub fn in_memory() -> Result<History, HistoryError> {
        History::init(Connection::open_in_memory()?)
    }

    /// The file the history lives in, or `None` when it is kept in memory only.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn init(db: Connection) -> Result<History, HistoryError> {
        db.busy_timeout(BUSY_TIMEOUT)?;
        db.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS samples (
                miner TEXT NOT NULL, ts INTEGER NOT NULL, profile TEXT NOT NULL,
                hashrate REAL NOT NULL, power REAL NOT NULL, temp REAL, vr_temp REAL,
                voltage INTEGER, frequency REAL, n INTEGER NOT NULL DEFAULT 1);
             CREATE INDEX IF NOT EXISTS samples_miner_ts ON samples(miner, ts);
             -- Covers the chart query: a range scan in (miner, ts) order, no table look-ups, no sort.
             CREATE INDEX IF NOT EXISTS samples_chart ON samples(miner, ts, hashrate, power, temp, profile, n);
             -- Hourly sums, kept as samples arrive: long ranges read these, not every sample.
             CREATE TABLE IF NOT EXISTS hourly (
                miner TEXT NOT NULL, hour INTEGER NOT NULL,
                hashrate_sum REAL NOT NULL, power_sum REAL NOT NULL, temp_sum REAL NOT NULL,
                temp_n INTEGER NOT NULL, n INTEGER NOT NULL, day_n INTEGER NOT NULL,
                PRIMARY KEY (miner, hour)) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS samples_ts ON samples(ts);
             -- Added for named profiles: samples per profile name and hour.
             CREATE TABLE IF NOT EXISTS hourly_profile (
                miner TEXT NOT NULL, hour INTEGER NOT NULL, profile TEXT NOT NULL, n INTEGER NOT NULL,
                PRIMARY KEY (miner, hour, profile)) WITHOUT ROWID;
             -- Added for cost: measured energy per 15-minute UTC slot and profile name.
             -- Keyed by slot first: reports read a time range in slot order without a sort.
             CREATE TABLE IF NOT EXISTS energy (
                slot INTEGER NOT NULL, miner TEXT NOT NULL, profile TEXT NOT NULL,
                joules REAL NOT NULL, seconds REAL NOT NULL, hashes REAL NOT NULL,
                PRIMARY KEY (slot, miner, profile)) WITHOUT ROWID;",
        )?;
        Ok(History {
            db,
            path: None,
            energy: energy::Integrator::new(),
        })
    }

    /// The longest silence between two samples of a miner that is still integrated into energy
    /// (default [`DEFAULT_MAX_GAP`]); the engine sets three times its poll period. A longer gap
    /// (miner offline, app closed) counts no energy.
    pub fn set_max_gap(&mut self, gap: Duration) {
        self.energy.set_max_gap(gap);
    }

    /// Insert samples in one transaction.
    pub fn insert(&mut self, samples: &[Sample]) -> Result<(), HistoryError> {
        let tx = self.db.transaction()?;
        self.energy.record(&tx, samples)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO samples (miner, ts, profile, hashrate, power, temp, vr_temp, voltage, frequency)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut hourly = tx.prepare_cached(
                "INSERT INTO hourly (miner, hour, hashrate_sum, power_sum, temp_sum, temp_n, n, day_n)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7)
                 ON CONFLICT (miner, hour) DO UPDATE SET
                    hashrate_sum = hashrate_sum + excluded.hashrate_sum, power_sum = power_sum + excluded.power_sum,
                    temp_sum = temp_sum + excluded.temp_sum, temp_n = temp_n + excluded.temp_n,
                    n = n + 1, day_n = day_n + excluded.day_n",
            )?;
            let mut by_profile = tx.prepare_cached(
                "INSERT INTO hourly_profile (miner, hour, profile, n) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (miner, hour, profile) DO UPDATE SET n = n + 1",
            )?;
            for s in samples {
                let at = s.at.timestamp();
                stmt.execute(params![
                    s.miner,
                    at,
                    s.profile.name(),
                    s.hashrate,
                    s.power,
                    s.temp,
                    s.vr_temp,
                    s.voltage,
                    s.frequency
                ])?;
                // Still written for older releases reading this file; no longer read for new hours.
                let day = i64::from(s.profile.name() == "day");
                let temp = (s.temp.unwrap_or(0.0), i64::from(s.temp.is_some()));
                let hour = at.div_euclid(3600) * 3600;
                by_profile.execute(params![s.miner, hour, s.profile.name()])?;
                hourly.execute(params![
                    s.miner, hour, s.hashrate, s.power, temp.0, temp.1, day
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Drop what is older than `retention_days` (energy: older than that or
    /// [`ENERGY_MIN_KEEP_DAYS`], whichever is longer), and roll raw samples older than two days
    /// into 5-minute averages. Returns how many sample rows went.
    pub fn compact(
        &mut self,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<usize, HistoryError> {
        let now = now.timestamp();
        let keep_from = now - i64::from(retention_days) * 86400;
        let energy_from = now - i64::from(retention_days.max(ENERGY_MIN_KEEP_DAYS)) * 86400;
        let tx = self.db.transaction()?;
        tx.execute("DELETE FROM hourly WHERE hour < ?1", params![keep_from])?;
        tx.execute(
            "DELETE FROM hourly_profile WHERE hour < ?1",
            params![keep_from],
        )?;
        tx.execute("DELETE FROM energy WHERE slot < ?1", params![energy_from])?;
        let mut removed = tx.execute("DELETE FROM samples WHERE ts < ?1", params![keep_from])?;
        let cutoff = (now - RAW_KEEP_S) / ROLLUP_S * ROLLUP_S;
        // A roll-up carries the profile most of its samples ran (ties: the first name).
        tx.execute(
            "CREATE TEMP TABLE rolled AS
             SELECT s.miner AS miner, s.ts / ?2 * ?2 AS b,
                    (SELECT p.profile FROM samples p
                     WHERE p.miner = s.miner AND p.ts >= s.ts / ?2 * ?2 AND p.ts < s.ts / ?2 * ?2 + ?2
                     GROUP BY p.profile ORDER BY SUM(p.n) DESC, p.profile LIMIT 1) AS profile,
                    SUM(s.hashrate * s.n) / SUM(s.n) AS hashrate, SUM(s.power * s.n) / SUM(s.n) AS power,
                    AVG(s.temp) AS temp, AVG(s.vr_temp) AS vr_temp, MAX(s.voltage) AS voltage,
                    MAX(s.frequency) AS frequency, SUM(s.n) AS n, COUNT(*) AS rows
             FROM samples s WHERE s.ts < ?1 GROUP BY s.miner, b HAVING rows > 1",
            params![cutoff, ROLLUP_S],
        )?;
        removed += tx.execute(
            "DELETE FROM samples WHERE ts < ?1 AND EXISTS
             (SELECT 1 FROM rolled r WHERE r.miner = samples.miner AND r.b = samples.ts / ?2 * ?2)",
            params![cutoff, ROLLUP_S],
        )?;
        tx.execute(
            "INSERT INTO samples (miner, ts, profile, hashrate, power, temp, vr_temp, voltage, frequency, n)
             SELECT miner, b, profile, hashrate, power, temp, vr_temp, voltage, frequency, n FROM rolled",
            [],
        )?;
        tx.execute("DROP TABLE rolled", [])?;
        tx.commit()?;
        Ok(removed)
    }

    /// Energy rows whose slot starts in `[from, to)`, ordered by slot, then miner and profile.
    pub fn energy(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<EnergyRow>, HistoryError> {
        let mut out = Vec::new();
        self.for_each_energy(from, to, |row| out.push(row.to_owned()))?;
        Ok(out)
    }

    /// Like [`History::energy`], lending each row instead of collecting them.
    pub fn for_each_energy(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        mut each: impl FnMut(EnergyRef<'_>),
    ) -> Result<(), HistoryError> {
        let mut stmt = self.db.prepare_cached(
            "SELECT slot, miner, profile, joules, seconds, hashes FROM energy
             WHERE slot >= ?1 AND slot < ?2 ORDER BY slot, miner, profile",
        )?;
        let mut rows = stmt.query(params![from.timestamp(), to.timestamp()])?;
        while let Some(r) = rows.next()? {
            let text = |i: usize| -> rusqlite::Result<&str> {
                r.get_ref(i)?.as_str().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        i,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })
            };
            each(EnergyRef {
                slot: r.get(0)?,
                miner: text(1)?,
                profile: text(2)?,
                joules: r.get(3)?,
                seconds: r.get(4)?,
                hashes: r.get(5)?,
            });
        }
        Ok(())
    }

    pub fn count(&self) -> Result<i64, HistoryError> {
        Ok(self
            .db
            .query_row("SELECT COUNT(*) FROM samples", [], |r| r.get(0))?)
    }
}

/// Energy is kept at least this many days (whatever `history_retention_days` says), so the
/// current and the previous month can be reported.
pub const ENERGY_MIN_KEEP_DAYS: u32 = 62;

/// Another connection holds the database: it is in use, not corrupt, so it must not be moved.
fn is_busy(e: &HistoryError) -> bool {
    matches!(
        e.0.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Rename `path` (and its WAL and shared-memory files) to `path.corrupt-<timestamp>`.
fn move_aside(path: &Path) -> Option<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let aside = crate::config::with_suffix(path, &format!(".corrupt-{stamp}"));
    std::fs::rename(path, &aside).ok()?;
    for side in ["-wal", "-shm"] {
        let from = crate::config::with_suffix(path, side);
        if from.exists() {
            let _ = std::fs::rename(&from, crate::config::with_suffix(&aside, side));
        }
    }
    Some(aside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Profile;
    use chrono::Duration;

    fn sample(miner: &str, at: DateTime<Utc>, hashrate: f64, profile: Profile) -> Sample {
        Sample {
            miner: miner.into(),
            at,
            profile,
            hashrate,
            power: 20.0,
            temp: Some(55.0),
            vr_temp: Some(60.0),
            voltage: Some(1150),
            frequency: Some(525.0),
        }
    }

    #[test]
    fn samples_round_trip_through_a_real_file_with_downsampling() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(HISTORY_FILE);
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("t0");
        {
            let mut h = History::open(&path).expect("open");
            let batch: Vec<Sample> = (0..120)
                .flat_map(|i| {
                    let at = t0 + Duration::seconds(30 * i);
                    [
                        sample("a", at, 1000.0 + i as f64, Profile::night()),
                        sample("b", at, 500.0, Profile::day()),
                    ]
                })
                .collect();
            h.insert(&batch).expect("insert");
        }
        let h = History::open(&path).expect("reopen");
        assert_eq!(h.count().expect("count"), 240);
        let pts = h
            .range(Some("a"), t0, t0 + Duration::hours(1), 600)
            .expect("range");
        assert_eq!(pts.len(), 6, "an hour in 10-minute buckets");
        assert!(
            (pts[0].hashrate - (1000.0 + 9.5)).abs() < 1e-9,
            "{}",
            pts[0].hashrate
        );
        assert_eq!(pts[0].profile, "night");
        // Whole-hour buckets come from the hourly sums and agree with the raw samples.
        let hourly = h
            .range(Some("a"), t0, t0 + Duration::hours(1), 3600)
            .expect("hourly");
        let raw = h
            .range(Some("a"), t0, t0 + Duration::hours(1), 1800)
            .expect("raw");
        assert!((hourly[0].hashrate - (raw[0].hashrate + raw[1].hashrate) / 2.0).abs() < 1e-9);
        assert!((pts[0].efficiency.expect("eff") - 20.0 / 1.0095).abs() < 1e-6);
        let all = h
            .range(None, t0, t0 + Duration::hours(1), 3600)
            .expect("all");
        assert_eq!(
            all.iter().map(|p| p.miner.as_str()).collect::<Vec<_>>(),
            vec!["a", "b"]
        );
        assert_eq!(all[1].profile, "day");
    }

    #[test]
    fn compaction_keeps_averages_and_drops_expired_rows() {
        let dir = tempfile::tempdir().expect("dir");
        let mut h = History::open(&dir.path().join(HISTORY_FILE)).expect("open");
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("now");
        let old = now - Duration::days(5);
        let bucket_start = DateTime::from_timestamp(old.timestamp() / 300 * 300, 0).expect("b");
        let mut batch: Vec<Sample> = (0..10)
            .map(|i| {
                sample(
                    "a",
                    bucket_start + Duration::seconds(i * 30),
                    1000.0 + 10.0 * i as f64,
                    Profile::day(),
                )
            })
            .collect();
        batch.push(sample("a", now - Duration::days(40), 1.0, Profile::day()));
        batch.push(sample(
            "a",
            now - Duration::minutes(1),
            900.0,
            Profile::night(),
        ));
        h.insert(&batch).expect("insert");
        let removed = h.compact(now, 30).expect("compact");
        assert_eq!(removed, 11, "1 expired + 10 rolled up");
        assert_eq!(
            h.count().expect("count"),
            2,
            "one 5-minute roll-up and the recent sample"
        );
        let pts = h
            .range(
                Some("a"),
                old - Duration::hours(1),
                old + Duration::hours(1),
                3600,
            )
            .expect("range");
        assert_eq!(pts.len(), 1);
        assert!((pts[0].hashrate - 1045.0).abs() < 1e-9);
    }

    #[test]
    fn a_garbage_file_is_moved_aside_and_a_fresh_database_made() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(HISTORY_FILE);
        let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
        std::fs::write(&path, &garbage).expect("garbage");
        assert!(History::open(&path).is_err(), "open alone refuses it");
        let (mut h, warning) = History::open_or_recover(&path).expect("recover");
        let warning = warning.expect("a warning");
        assert!(warning.contains("moved it to"), "{warning}");
        assert_eq!(h.path(), Some(path.as_path()));
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("t0");
        h.insert(&[sample("a", t0, 1.0, Profile::day())])
            .expect("insert");
        assert_eq!(h.count().expect("count"), 1);
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(std::fs::read(aside[0].path()).expect("kept"), garbage);
        // The next start finds the fresh database and says nothing.
        drop(h);
        let (h, warning) = History::open_or_recover(&path).expect("reopen");
        assert!(warning.is_none(), "{warning:?}");
        assert_eq!(h.count().expect("count"), 1);
    }

    #[test]
    fn an_unusable_folder_keeps_history_in_memory_with_a_warning() {
        let dir = tempfile::tempdir().expect("dir");
        // A file where the folder should be: nothing can be created under it (even as root).
        let blocker = dir.path().join("data");
        std::fs::write(&blocker, "").expect("blocker");
        let path = blocker.join(HISTORY_FILE);
        assert!(History::open(&path).is_err());
        let (mut h, warning) = History::open_or_recover(&path).expect("memory");
        let warning = warning.expect("a warning");
        assert!(warning.contains("in memory"), "{warning}");
        assert_eq!(h.path(), None);
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("t0");
        h.insert(&[sample("a", t0, 1.0, Profile::day())])
            .expect("insert");
        assert_eq!(h.count().expect("count"), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_folder_with_a_corrupt_file_keeps_history_in_memory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("mkdir");
        let path = data.join(HISTORY_FILE);
        std::fs::write(&path, b"garbage".repeat(100)).expect("garbage");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        // Root ignores folder permissions; then this case cannot be made here.
        let root = std::fs::write(data.join("probe"), "").is_ok();
        let (_h, warning) = History::open_or_recover(&path).expect("never fails");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let warning = warning.expect("a warning");
        if !root {
            assert!(warning.contains("in memory"), "{warning}");
            assert!(path.exists(), "a file that cannot be moved stays");
        }
    }

    #[test]
    fn a_second_connection_waits_instead_of_failing_when_busy() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(HISTORY_FILE);
        let mut writer = History::open(&path).expect("open");
        let reader = History::open(&path).expect("open reader");
        let busy: i64 = reader
            .db
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(busy, BUSY_TIMEOUT.as_millis() as i64);
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).expect("t0");
        writer
            .insert(&[sample("a", t0, 1.0, Profile::day())])
            .expect("insert");
        assert_eq!(reader.count().expect("count"), 1);
    }
}
