//! Time to draw the 30-day chart for 50 miners from SQLite: the history a fleet of 50 builds in
//! 30 days (two days of 30 s samples, then 5-minute roll-ups), one range query into ~240 buckets
//! per miner, and the plotters SVG. Run: `cargo bench -p bitaxe-core --bench chart`.

use std::time::Instant;

use bitaxe_core::chart::{bucket_for, render_svg, ChartRequest, Metric};
use bitaxe_core::events::Sample;
use bitaxe_core::history::History;
use bitaxe_core::schedule::Profile;
use chrono::{DateTime, Duration};

fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let now = DateTime::from_timestamp(1_800_000_000, 0).expect("now");
    let mut history = History::open(&dir.path().join("bench.sqlite")).expect("open");
    let started = Instant::now();
    let mut rows = 0usize;
    for m in 0..50 {
        let miner = format!("miner-{m:02}");
        let mut batch = Vec::new();
        let mut t = now - Duration::days(30);
        while t < now {
            let recent = now - t < Duration::days(2);
            let hour = (t.timestamp() / 3600) % 24;
            let profile = if (7..20).contains(&hour) {
                Profile::day()
            } else {
                Profile::night()
            };
            let base = if profile == Profile::day() {
                870.0
            } else {
                1120.0
            };
            batch.push(Sample {
                miner: miner.clone(),
                at: t,
                profile: profile.clone(),
                hashrate: base + (t.timestamp() % 97) as f64,
                power: if profile == Profile::day() {
                    14.5
                } else {
                    21.0
                },
                temp: Some(55.0 + (t.timestamp() % 7) as f64),
                vr_temp: Some(60.0),
                voltage: Some(1150),
                frequency: Some(525.0),
            });
            t += if recent {
                Duration::seconds(30)
            } else {
                Duration::minutes(5)
            };
        }
        rows += batch.len();
        history.insert(&batch).expect("insert");
    }
    println!(
        "built {rows} rows for 50 miners over 30 days in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let from = now - Duration::days(30);
    let mut times = Vec::new();
    for _ in 0..7 {
        let t0 = Instant::now();
        let points = history
            .range(None, from, now, bucket_for(from, now, 240))
            .expect("range");
        let q = t0.elapsed();
        let req = ChartRequest {
            metric: Metric::Hashrate,
            from,
            to: now,
            fleet_total: false,
            width: 1100,
            height: 240,
            dark: false,
        };
        let svg = render_svg(&req, &points, chrono_tz::Tz::UTC).expect("svg");
        times.push((
            t0.elapsed().as_secs_f64() * 1000.0,
            q.as_secs_f64() * 1000.0,
            points.len(),
            svg.len(),
        ));
    }
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (total, query, points, bytes) = times[times.len() / 2];
    println!("30-day chart, 50 miners: {total:.0} ms median of 7 (query {query:.0} ms, {points} points, SVG {} KB)", bytes / 1024);
}
