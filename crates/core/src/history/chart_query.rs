//! Chart queries: points averaged into buckets, each with the profile most of its samples ran
//! (by name; hours recorded before `hourly_profile` existed fall back to `day_n`).

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{History, HistoryError, Point};

impl History {
    /// Points between `from` and `to` averaged into buckets of `bucket_s` seconds, per miner
    /// (or for one miner). Each point carries the profile most of its samples ran.
    pub fn range(
        &self,
        miner: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bucket_s: i64,
    ) -> Result<Vec<Point>, HistoryError> {
        let bucket = bucket_s.max(1);
        let args = params![from.timestamp(), to.timestamp(), bucket, miner];
        // Whole hours: the hourly sums answer it (a 30-day chart for 50 miners reads 36 000 rows
        // instead of 700 000).
        if bucket % 3600 == 0 {
            // In key order (no sort): each (miner, bucket)'s rows arrive together.
            let mut names = self.db.prepare_cached(
                "SELECT miner, hour / ?3 * ?3 AS b, profile, n FROM hourly_profile
                 WHERE hour >= ?1 / 3600 * 3600 AND hour < ?2 AND (?4 IS NULL OR miner = ?4)
                 ORDER BY miner, hour",
            )?;
            let mut most = Majority::default();
            let mut rows = names.query(args)?;
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
                most.add(text(0)?, r.get(1)?, text(2)?, r.get(3)?);
            }
            most.close();
            // Also in key order, summed here per bucket (a GROUP BY would sort every hour).
            let mut stmt = self.db.prepare_cached(
                "SELECT miner, hour / ?3 * ?3 AS b, hashrate_sum, power_sum, temp_sum, temp_n, n, day_n
                 FROM hourly WHERE hour >= ?1 / 3600 * 3600 AND hour < ?2 AND (?4 IS NULL OR miner = ?4)
                 ORDER BY miner, hour",
            )?;
            let mut points: Vec<Point> = Vec::new();
            // hashrate, power, temp sums; temp count, samples, day samples.
            let mut sums = [0.0f64; 6];
            let mut rows = stmt.query(args)?;
            while let Some(r) = rows.next()? {
                let miner = r.get_ref(0)?.as_str().unwrap_or_default();
                let at: i64 = r.get(1)?;
                let same = points
                    .last()
                    .is_some_and(|p| p.at == at && p.miner == miner);
                if !same {
                    if let Some(p) = points.last_mut() {
                        finish_hourly(p, &sums, &most);
                    }
                    points.push(Point {
                        miner: miner.to_string(),
                        at,
                        hashrate: 0.0,
                        power: 0.0,
                        temp: None,
                        efficiency: None,
                        profile: String::new(),
                    });
                    sums = [0.0; 6];
                }
                for (i, s) in sums.iter_mut().enumerate() {
                    *s += r.get::<_, f64>(i + 2)?;
                }
            }
            if let Some(p) = points.last_mut() {
                finish_hourly(p, &sums, &most);
            }
            return Ok(points);
        }
        let mut stmt = self.db.prepare_cached(
            "SELECT miner, ts / ?3 * ?3 AS b, profile, SUM(hashrate * n), SUM(power * n), SUM(n),
                    SUM(temp), COUNT(temp)
             FROM samples INDEXED BY samples_chart
             WHERE ts >= ?1 AND ts < ?2 AND (?4 IS NULL OR miner = ?4)
             GROUP BY miner, b, profile ORDER BY miner, b, profile",
        )?;
        let mut points: Vec<Point> = Vec::new();
        // Sums of the bucket being built: hashrate, power, n, temp, temp count; best profile n.
        let mut sums = [0.0f64; 5];
        let mut best = 0i64;
        let mut rows = stmt.query(args)?;
        while let Some(r) = rows.next()? {
            let miner: String = r.get(0)?;
            let at: i64 = r.get(1)?;
            let profile: String = r.get(2)?;
            let n: i64 = r.get(5)?;
            let part = [
                r.get::<_, f64>(3)?,
                r.get::<_, f64>(4)?,
                n as f64,
                r.get::<_, Option<f64>>(6)?.unwrap_or(0.0),
                r.get::<_, i64>(7)? as f64,
            ];
            let same = points
                .last()
                .is_some_and(|p| p.miner == miner && p.at == at);
            if !same {
                if let Some(p) = points.last_mut() {
                    finish(p, &sums);
                }
                points.push(Point {
                    miner,
                    at,
                    hashrate: 0.0,
                    power: 0.0,
                    temp: None,
                    efficiency: None,
                    profile,
                });
                sums = [0.0; 5];
                best = n;
            } else if n > best {
                best = n;
                if let Some(p) = points.last_mut() {
                    p.profile = profile;
                }
            }
            for (s, x) in sums.iter_mut().zip(part) {
                *s += x;
            }
        }
        if let Some(p) = points.last_mut() {
            finish(p, &sums);
        }
        Ok(points)
    }
}

/// Averages of a bucket from its sums (hashrate, power, n, temp sum, temp count).
fn finish(p: &mut Point, sums: &[f64; 5]) {
    let n = sums[2].max(1.0);
    p.hashrate = sums[0] / n;
    p.power = sums[1] / n;
    p.temp = (sums[4] > 0.0).then(|| sums[3] / sums[4]);
    p.efficiency = axeos::efficiency(p.power, p.hashrate);
}

/// Averages of an hourly bucket from its sums (hashrate, power, temp, temp count, samples, day
/// samples); its profile from `most`, or for hours from before `hourly_profile` existed, day or
/// night from `day_n`.
fn finish_hourly(p: &mut Point, sums: &[f64; 6], most: &Majority) {
    let n = sums[4].max(1.0);
    p.hashrate = sums[0] / n;
    p.power = sums[1] / n;
    p.temp = (sums[3] > 0.0).then(|| sums[2] / sums[3]);
    p.efficiency = axeos::efficiency(p.power, p.hashrate);
    p.profile = most.take(&p.miner, p.at).unwrap_or_else(|| {
        if sums[5] * 2.0 >= sums[4] {
            "day"
        } else {
            "night"
        }
        .to_string()
    });
}

/// Miner, bucket start, samples per profile name.
type OpenBucket = (String, i64, Vec<(String, i64)>);

/// The profile with the most samples per (miner, bucket), from rows that arrive grouped by
/// (miner, bucket); ties go to the first name.
#[derive(Default)]
struct Majority {
    /// Finished buckets in (miner, bucket) order, with the winning profile.
    done: Vec<(String, i64, String)>,
    /// The bucket being counted.
    open: Option<OpenBucket>,
}

impl Majority {
    fn add(&mut self, miner: &str, at: i64, profile: &str, n: i64) {
        if !matches!(&self.open, Some((m, b, _)) if m == miner && *b == at) {
            self.close();
            self.open = Some((miner.to_string(), at, Vec::new()));
        }
        if let Some((_, _, counts)) = &mut self.open {
            match counts.iter_mut().find(|(p, _)| p == profile) {
                Some((_, c)) => *c += n,
                None => counts.push((profile.to_string(), n)),
            }
        }
    }

    fn close(&mut self) {
        if let Some((miner, at, counts)) = self.open.take() {
            let best = counts.into_iter().reduce(|a, b| {
                if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) {
                    b
                } else {
                    a
                }
            });
            if let Some((profile, _)) = best {
                self.done.push((miner, at, profile));
            }
        }
    }

    fn take(&self, miner: &str, at: i64) -> Option<String> {
        self.done
            .binary_search_by(|(m, b, _)| (m.as_str(), *b).cmp(&(miner, at)))
            .ok()
            .map(|i| self.done[i].2.clone())
    }
}
