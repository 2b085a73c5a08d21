//! History and chart reads: SQLite and drawing run on a blocking thread, never on the async
//! workers (nor a UI's main thread).

use chrono::{DateTime, Utc};

use super::{OpsError, Target};
use crate::history::Point;

/// History points from the engine's database, averaged into `bucket_s` buckets. SQLite runs on
/// a blocking thread, never on the async workers.
pub async fn history(
    t: &Target,
    miner: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket_s: i64,
) -> Result<Vec<Point>, OpsError> {
    let Target::Engine(e) = t else {
        return Err(OpsError::NeedsEngine("history"));
    };
    let (e, miner) = (e.clone(), miner.map(str::to_string));
    tokio::task::spawn_blocking(move || e.history(miner.as_deref(), from, to, bucket_s))
        .await
        .map_err(|e| OpsError::Task(e.to_string()))?
        .map_err(OpsError::from)
}

/// How many time buckets a chart's range is averaged into.
pub const CHART_BUCKETS: i64 = 240;

/// A history chart as SVG, and how many points it drew: the database read and the drawing both
/// run on a blocking thread, never on the async workers (nor a UI's main thread).
pub async fn chart_svg(
    t: &Target,
    req: crate::chart::ChartRequest,
    miner: Option<&str>,
) -> Result<(String, usize), OpsError> {
    let Target::Engine(e) = t else {
        return Err(OpsError::NeedsEngine("a chart"));
    };
    let (e, miner) = (e.clone(), miner.map(str::to_string));
    tokio::task::spawn_blocking(move || {
        let bucket = crate::chart::bucket_for(req.from, req.to, CHART_BUCKETS);
        let points = e.history(miner.as_deref(), req.from, req.to, bucket)?;
        let svg = crate::chart::render_svg(&req, &points, e.zone()).map_err(OpsError::Chart)?;
        Ok((svg, points.len()))
    })
    .await
    .map_err(|e| OpsError::Task(e.to_string()))?
}
