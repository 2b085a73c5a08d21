//! Cost integration over 30 days of history for 50 miners (goal: under 100 ms): the energy table
//! a fleet of 50 fills in 30 days (one row per miner, 15-minute slot and profile: 144 000 rows),
//! priced per quarter hour and broken down per miner, local day (Europe/Berlin), month and
//! profile by `cost::report`. Also reports what integrating energy adds to storing samples.
//! Run: `cargo bench -p bitaxe-core --bench cost`.

use std::time::{Duration as StdDuration, Instant};

use bitaxe_core::cost;
use bitaxe_core::events::Sample;
use bitaxe_core::history::History;
use bitaxe_core::schedule::Profile;
use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Tz;

const MINERS: usize = 50;
const DAYS: i64 = 30;
/// Samples every 5 minutes keep the build short; the gap cap is raised to match.
const STEP_S: i64 = 300;
const RUNS: usize = 30;

fn profile(name: &str) -> Profile {
    Profile::new(name)
}

fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let now = DateTime::from_timestamp(1_800_000_000 / 900 * 900, 0).expect("now");
    let from = now - Duration::days(DAYS);
    let mut history = History::open(&dir.path().join("bench.sqlite")).expect("open");
    history.set_max_gap(StdDuration::from_secs(3 * STEP_S as u64));
    let started = Instant::now();
    let mut samples = 0usize;
    for m in 0..MINERS {
        let miner = format!("miner-{m:02}");
        let mut batch = Vec::new();
        let mut t = from;
        while t <= now {
            let is_day = (7..20).contains(&t.hour());
            batch.push(Sample {
                miner: miner.clone(),
                at: t,
                profile: profile(if is_day { "day" } else { "night" }),
                hashrate: if is_day { 870.0 } else { 1120.0 } + (t.timestamp() % 97) as f64,
                power: if is_day { 14.5 } else { 21.0 },
                temp: Some(55.0),
                vr_temp: Some(60.0),
                voltage: Some(1150),
                frequency: Some(525.0),
            });
            t += Duration::seconds(STEP_S);
        }
        samples += batch.len();
        history.insert(&batch).expect("insert");
    }
    let ingest = started.elapsed();
    let rows = history.energy(from, now).expect("rows").len();
    println!(
        "cost benchmark: {MINERS} miners x {DAYS} days, {samples} samples stored and integrated in {:.1} s \
         ({:.1} us per sample), {rows} energy rows",
        ingest.as_secs_f64(),
        ingest.as_secs_f64() * 1e6 / samples as f64
    );

    // A day-ahead price per quarter hour, negative now and then.
    let prices: Vec<f64> = (0..DAYS * 96)
        .map(|i| 0.05 + ((i * 37) % 41) as f64 / 100.0 - if i % 53 == 0 { 0.3 } else { 0.0 })
        .collect();
    let start = from.timestamp();
    let price = move |t: DateTime<Utc>| {
        usize::try_from((t.timestamp() - start) / 900)
            .ok()
            .and_then(|i| prices.get(i).copied())
    };
    let tz: Tz = "Europe/Berlin".parse().expect("tz");
    let mut times = Vec::new();
    let mut kwh = 0.0;
    let cpu_before = cpu_seconds();
    for _ in 0..RUNS {
        let t = Instant::now();
        let report = cost::report(&history, from, now, &price, tz).expect("report");
        times.push(t.elapsed());
        kwh = report.fleet.total.kwh;
        assert_eq!(report.miners.len(), MINERS);
    }
    let cpu_ms = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| (after - before) * 1e3 / RUNS as f64);
    times.sort();
    let ms = |d: StdDuration| d.as_secs_f64() * 1e3;
    // The part that is SQLite reading the rows.
    let mut scans = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut n = 0usize;
        history
            .for_each_energy(from, now, |_| n += 1)
            .expect("scan");
        scans.push(t.elapsed());
        assert_eq!(n, rows);
    }
    scans.sort();
    println!(
        "reading the {rows} rows alone: median {:.1} ms",
        ms(scans[RUNS / 2])
    );
    let median = times[RUNS / 2];
    println!(
        "cost::report over {DAYS} days for {MINERS} miners: median {:.1} ms, best {:.1} ms, worst {:.1} ms, \
         CPU {} per report ({kwh:.1} kWh) -> goal < 100 ms {}",
        ms(median),
        ms(times[0]),
        ms(times[RUNS - 1]),
        cpu_ms.map_or("?".to_string(), |c| format!("{c:.1} ms")),
        if median < StdDuration::from_millis(100) {
            "met"
        } else {
            "MISSED"
        }
    );
}

/// User plus system CPU time of this process, from `/proc/self/stat` (Linux; `None` elsewhere).
/// Wall time on a busy machine says more about the neighbours than about the code.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
