//! Measured energy and cost: the energy table against hand-computed joules, cost with 15/30/60
//! minute prices (negative and missing too), local days and months across DST, old databases.

use std::time::Duration;

use bitaxe_core::cost::{self, local_day_start};
use bitaxe_core::events::Sample;
use bitaxe_core::history::{EnergyRow, History, HISTORY_FILE, SLOT_S};
use bitaxe_core::schedule::Profile;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// A slot-aligned instant (2027-01-15 08:00 UTC).
const T0: i64 = 1_800_000_000 / 900 * 900;

fn profile(name: &str) -> Profile {
    Profile::new(name)
}

fn at(s: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(T0 * 1_000_000 + (s * 1e6) as i64).expect("time")
}

fn sample(miner: &str, t: f64, power: f64, hashrate: f64, p: &str) -> Sample {
    Sample {
        miner: miner.into(),
        at: at(t),
        profile: profile(p),
        hashrate,
        power,
        temp: Some(50.0),
        vr_temp: None,
        voltage: Some(1150),
        frequency: Some(525.0),
    }
}

/// Samples every `step` seconds from `from` to `to` inclusive.
fn run(miner: &str, from: f64, to: f64, step: f64, power: f64, p: &str) -> Vec<Sample> {
    let n = ((to - from) / step).round() as usize;
    (0..=n)
        .map(|i| sample(miner, from + step * i as f64, power, 1000.0, p))
        .collect()
}

fn energy(h: &History) -> Vec<EnergyRow> {
    h.energy(at(-86400.0), at(86400.0)).expect("energy")
}

fn joules(rows: &[EnergyRow], miner: &str, slot: i64, p: &str) -> f64 {
    rows.iter()
        .filter(|r| r.miner == miner && r.slot == T0 + slot * SLOT_S && r.profile == p)
        .map(|r| r.joules)
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn constant_power_over_a_slot_is_power_times_time() {
    let mut h = History::in_memory().expect("db");
    h.insert(&run("a", 0.0, 900.0, 30.0, 20.0, "day"))
        .expect("insert");
    let rows = energy(&h);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(close(rows[0].joules, 20.0 * 900.0), "{rows:?}");
    assert!(close(rows[0].seconds, 900.0));
    assert!(close(rows[0].hashes, 1000e9 * 900.0));
    assert_eq!(rows[0].slot, T0);
}

#[test]
fn a_step_change_is_integrated_as_a_trapezoid() {
    let mut h = History::in_memory().expect("db");
    let mut s = run("a", 0.0, 60.0, 30.0, 20.0, "day");
    s.extend(run("a", 90.0, 120.0, 30.0, 40.0, "day"));
    h.insert(&s).expect("insert");
    // 0-60 at 20 W, 60-90 from 20 to 40 W, 90-120 at 40 W.
    let want = 20.0 * 60.0 + 30.0 * 30.0 + 40.0 * 30.0;
    assert!(close(joules(&energy(&h), "a", 0, "day"), want));
}

#[test]
fn a_gap_longer_than_the_cap_is_not_integrated() {
    let mut h = History::in_memory().expect("db");
    let mut s = run("a", 0.0, 30.0, 30.0, 20.0, "day");
    s.extend(run("a", 630.0, 660.0, 30.0, 20.0, "day"));
    h.insert(&s).expect("insert");
    let rows = energy(&h);
    assert!(close(joules(&rows, "a", 0, "day"), 20.0 * 60.0), "{rows:?}");
    assert!(close(rows[0].seconds, 60.0));
    // The cap follows the poll period: with a 15-minute cap the same silence counts.
    let mut h = History::in_memory().expect("db");
    h.set_max_gap(Duration::from_secs(900));
    h.insert(&s).expect("insert");
    assert!(close(joules(&energy(&h), "a", 0, "day"), 20.0 * 660.0));
}

#[test]
fn a_profile_switch_inside_a_slot_splits_the_energy_by_name() {
    let mut h = History::in_memory().expect("db");
    let mut s = run("a", 0.0, 300.0, 30.0, 20.0, "day");
    s.extend(run("a", 330.0, 600.0, 30.0, 40.0, "performance"));
    h.insert(&s).expect("insert");
    let rows = energy(&h);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(close(joules(&rows, "a", 0, "day"), 20.0 * 300.0));
    // The interval that ends on the first performance sample is its: 300-330 at 20->40 W.
    assert!(close(
        joules(&rows, "a", 0, "performance"),
        30.0 * 30.0 + 40.0 * 270.0
    ));
    let perf = rows
        .iter()
        .find(|r| r.profile == "performance")
        .expect("performance");
    assert!(close(perf.seconds, 300.0));
}

#[test]
fn an_interval_across_a_slot_boundary_is_split_at_the_boundary() {
    let mut h = History::in_memory().expect("db");
    h.insert(&[
        sample("a", 885.0, 20.0, 1000.0, "day"),
        sample("a", 915.0, 40.0, 1000.0, "day"),
    ])
    .expect("insert");
    let rows = energy(&h);
    // At 900 s the power is 30 W: (20+30)/2*15 and (30+40)/2*15.
    assert!(close(joules(&rows, "a", 0, "day"), 375.0), "{rows:?}");
    assert!(close(joules(&rows, "a", 1, "day"), 525.0), "{rows:?}");
}

#[test]
fn miners_batches_and_restarts_integrate_independently() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(HISTORY_FILE);
    {
        let mut h = History::open(&path).expect("open");
        // Interleaved miners, split over two batches, plus a duplicate that adds nothing.
        let mut s = run("a", 0.0, 300.0, 30.0, 20.0, "day");
        s.extend(run("b", 0.0, 300.0, 30.0, 10.0, "day"));
        s.sort_by_key(|x| x.at);
        let (first, second) = s.split_at(7);
        h.insert(first).expect("first");
        h.insert(second).expect("second");
        h.insert(&[sample("a", 300.0, 20.0, 1000.0, "day")])
            .expect("duplicate");
    }
    // A new process continues from the newest stored sample.
    let mut h = History::open(&path).expect("reopen");
    h.insert(&[sample("a", 330.0, 20.0, 1000.0, "day")])
        .expect("after restart");
    let rows = energy(&h);
    assert!(
        close(joules(&rows, "a", 0, "day"), 20.0 * 330.0),
        "{rows:?}"
    );
    assert!(
        close(joules(&rows, "b", 0, "day"), 10.0 * 300.0),
        "{rows:?}"
    );
}

fn old_schema(path: &std::path::Path) {
    let mut conn = rusqlite::Connection::open(path).expect("old db");
    let db = conn.transaction().expect("tx");
    db.execute_batch(
        "CREATE TABLE samples (
            miner TEXT NOT NULL, ts INTEGER NOT NULL, profile TEXT NOT NULL,
            hashrate REAL NOT NULL, power REAL NOT NULL, temp REAL, vr_temp REAL,
            voltage INTEGER, frequency REAL, n INTEGER NOT NULL DEFAULT 1);
         CREATE INDEX samples_miner_ts ON samples(miner, ts);
         CREATE INDEX samples_chart ON samples(miner, ts, hashrate, power, temp, profile, n);
         CREATE TABLE hourly (
            miner TEXT NOT NULL, hour INTEGER NOT NULL,
            hashrate_sum REAL NOT NULL, power_sum REAL NOT NULL, temp_sum REAL NOT NULL,
            temp_n INTEGER NOT NULL, n INTEGER NOT NULL, day_n INTEGER NOT NULL,
            PRIMARY KEY (miner, hour)) WITHOUT ROWID;
         CREATE INDEX samples_ts ON samples(ts);",
    )
    .expect("schema");
    // Two hours of an old release: day in the first, night in the second.
    for i in 0..240i64 {
        let ts = T0 - 7200 + i * 30;
        let day = i < 120;
        db.execute(
            "INSERT INTO samples (miner, ts, profile, hashrate, power, temp) VALUES ('a', ?1, ?2, 1000, 20, 50)",
            rusqlite::params![ts, if day { "day" } else { "night" }],
        )
        .expect("sample");
        db.execute(
            "INSERT INTO hourly VALUES ('a', ?1, 1000, 20, 50, 1, 1, ?2)
             ON CONFLICT (miner, hour) DO UPDATE SET hashrate_sum = hashrate_sum + 1000,
                power_sum = power_sum + 20, temp_sum = temp_sum + 50, temp_n = temp_n + 1,
                n = n + 1, day_n = day_n + excluded.day_n",
            rusqlite::params![ts.div_euclid(3600) * 3600, i64::from(day)],
        )
        .expect("hourly");
    }
    db.commit().expect("commit");
}

#[test]
fn an_old_database_opens_keeps_its_charts_and_starts_counting_energy() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(HISTORY_FILE);
    old_schema(&path);
    let mut h = History::open(&path).expect("old file opens");
    assert_eq!(h.count().expect("count"), 240);
    // Old hours keep their day/night band from day_n.
    let hours = h
        .range(Some("a"), at(-7200.0), at(0.0), 3600)
        .expect("hourly");
    let bands: Vec<&str> = hours.iter().map(|p| p.profile.as_str()).collect();
    assert_eq!(bands, ["day", "night"]);
    // New samples: energy from the newest old sample on, and named bands.
    h.insert(&run("a", 0.0, 900.0, 30.0, 20.0, "quiet"))
        .expect("insert");
    let rows = energy(&h);
    assert!(
        close(joules(&rows, "a", -1, "quiet"), 20.0 * 30.0),
        "{rows:?}"
    );
    assert!(close(joules(&rows, "a", 0, "quiet"), 20.0 * 900.0));
    let hour = h.range(Some("a"), at(0.0), at(3600.0), 3600).expect("hour");
    assert_eq!(hour[0].profile, "quiet");
    let raw = h.range(Some("a"), at(0.0), at(900.0), 300).expect("raw");
    assert!(raw.iter().all(|p| p.profile == "quiet"), "{raw:?}");
    assert!(close(raw[0].power, 20.0));
    drop(h);
    // And it opens again (the migration is idempotent).
    let h = History::open(&path).expect("reopen");
    assert_eq!(energy(&h).len(), 2);
}

#[test]
fn compaction_keeps_the_profile_name_of_a_roll_up() {
    let mut h = History::in_memory().expect("db");
    let mut s = run("a", 0.0, 120.0, 30.0, 20.0, "efficiency");
    s.extend(run("a", 150.0, 180.0, 30.0, 20.0, "night"));
    h.insert(&s).expect("insert");
    h.compact(at(5.0 * 86400.0), 30).expect("compact");
    let pts = h.range(Some("a"), at(0.0), at(300.0), 300).expect("range");
    assert_eq!(pts.len(), 1);
    assert_eq!(
        pts[0].profile, "efficiency",
        "5 efficiency samples against 2 night"
    );
    assert!(close(
        joules(&energy(&h), "a", 0, "efficiency"),
        20.0 * 120.0
    ));
}

#[test]
fn chart_bands_show_the_profile_that_ran_most_by_name() {
    let mut h = History::in_memory().expect("db");
    // Hour 0: 40 min quiet, 20 min day. Hour 1: all off. Hour 2: 10 min off, 50 min quiet.
    let mut s = run("a", 0.0, 2370.0, 30.0, 20.0, "quiet");
    s.extend(run("a", 2400.0, 3570.0, 30.0, 20.0, "day"));
    s.extend(run("a", 3600.0, 7170.0, 30.0, 20.0, "off"));
    s.extend(run("a", 7200.0, 7770.0, 30.0, 20.0, "off"));
    s.extend(run("a", 7800.0, 10770.0, 30.0, 20.0, "quiet"));
    s.extend(run("b", 0.0, 3570.0, 30.0, 10.0, "day"));
    h.insert(&s).expect("insert");
    let bands = |bucket: i64, miner: Option<&str>| -> Vec<String> {
        h.range(miner, at(0.0), at(10800.0), bucket)
            .expect("range")
            .into_iter()
            .map(|p| format!("{}@{}:{}", p.miner, (p.at - T0) / 60, p.profile))
            .collect()
    };
    assert_eq!(
        bands(3600, None),
        ["a@0:quiet", "a@60:off", "a@120:quiet", "b@0:day"]
    );
    // Two-hour buckets count per name over both hours: quiet 80, day 40, off 120 samples.
    let two = bands(7200, Some("a"));
    assert_eq!(two.len(), 2);
    assert!(two[0].ends_with(":off"), "{two:?}");
    // Raw samples in 30-minute buckets: the second half hour of hour 0 is 10 min quiet, 20 day.
    assert_eq!(
        bands(1800, Some("a"))[..2],
        ["a@0:quiet".to_string(), "a@30:day".to_string()]
    );
}

#[test]
fn energy_outlives_the_samples_for_at_least_62_days() {
    let mut h = History::in_memory().expect("db");
    h.insert(&run("a", 0.0, 900.0, 30.0, 20.0, "day"))
        .expect("insert");
    h.compact(at(40.0 * 86400.0), 30).expect("compact");
    assert_eq!(h.count().expect("count"), 0, "samples follow the retention");
    let kept = h.energy(at(0.0), at(900.0)).expect("energy");
    assert!(close(kept[0].joules, 18000.0), "{kept:?}");
    h.compact(at(63.0 * 86400.0), 30).expect("compact");
    assert!(h.energy(at(0.0), at(900.0)).expect("energy").is_empty());
}

// ---- cost ----

fn row(miner: &str, slot_from_t0: i64, p: &str, kwh: f64, th: f64) -> EnergyRow {
    EnergyRow {
        miner: miner.into(),
        slot: T0 + slot_from_t0 * SLOT_S,
        profile: p.into(),
        joules: kwh * 3.6e6,
        seconds: 900.0,
        hashes: th * 1e12,
    }
}

fn history_with(rows_kw: &[(&str, i64, &str, f64)]) -> History {
    // Real energy through samples: constant power over whole slots, every 5 minutes. Slots of
    // one miner that are not adjacent have a gap the cap leaves out.
    let mut h = History::in_memory().expect("db");
    h.set_max_gap(Duration::from_secs(600));
    for (miner, slot, p, watts) in rows_kw {
        let from = (*slot * SLOT_S) as f64;
        h.insert(&run(miner, from, from + 900.0, 300.0, *watts, p))
            .expect("insert");
    }
    h
}

fn priced(step_min: i64, prices: Vec<f64>) -> impl Fn(DateTime<Utc>) -> Option<f64> {
    move |t: DateTime<Utc>| {
        let i = (t.timestamp() - T0).div_euclid(step_min * 60);
        usize::try_from(i).ok().and_then(|i| prices.get(i).copied())
    }
}

#[test]
fn cost_with_15_30_and_60_minute_prices() {
    // Four quarter hours at 400 W = 0.1 kWh each.
    let rows: Vec<EnergyRow> = (0..4).map(|i| row("a", i, "day", 0.1, 360.0)).collect();
    let (from, to) = (at(0.0), at(3600.0));
    let cases: [(i64, Vec<f64>, f64); 3] = [
        (
            15,
            vec![0.10, 0.20, 0.30, 0.40],
            0.1 * (0.10 + 0.20 + 0.30 + 0.40),
        ),
        (30, vec![0.10, 0.30], 0.1 * (0.10 + 0.10 + 0.30 + 0.30)),
        (60, vec![0.25], 0.1 * 4.0 * 0.25),
    ];
    for (step, prices, want) in cases {
        let price = priced(step, prices);
        let r = cost::report_rows(&rows, from, to, &price, Tz::UTC);
        let cost = r.fleet.total.cost.expect("priced");
        assert!(close(cost, want), "{step} min: {cost} != {want}");
        assert!(close(r.fleet.total.kwh, 0.4));
        assert_eq!(r.fleet.total.unpriced_kwh, 0.0);
        assert!(close(r.miners["a"].total.cost.expect("miner"), want));
    }
}

#[test]
fn a_price_view_prices_each_quarter_hour_by_the_slot_containing_it() {
    use bitaxe_core::cost::PriceSource;
    use bitaxe_core::schedule::PriceSlot;
    // Hourly day-ahead prices: 0.10 then -0.02 (a negative hour); the third hour is unknown.
    let slots = vec![
        PriceSlot {
            start: at(0.0),
            end: at(3600.0),
            price: 0.10,
        },
        PriceSlot {
            start: at(3600.0),
            end: at(7200.0),
            price: -0.02,
        },
    ];
    let prices = PriceSource::from_lookup(std::sync::Arc::new(slots), Some("EUR".into()));
    let rows: Vec<EnergyRow> = (0..12).map(|i| row("a", i, "quiet", 0.1, 360.0)).collect();
    let r = cost::report_rows(&rows, at(0.0), at(3.0 * 3600.0), &*prices.price, Tz::UTC);
    let t = &r.miners["a"].profiles["quiet"];
    assert!(
        close(t.cost.expect("cost"), 0.4 * 0.10 - 0.4 * 0.02),
        "{t:?}"
    );
    assert!(close(t.unpriced_kwh, 0.4));
    assert!(close(t.kwh, 1.2));
}

#[test]
fn negative_and_missing_prices() {
    let rows: Vec<EnergyRow> = (0..4).map(|i| row("a", i, "day", 0.1, 360.0)).collect();
    // Negative first hour half, then no price at all.
    let price = priced(30, vec![-0.05]);
    let r = cost::report_rows(&rows, at(0.0), at(3600.0), &price, Tz::UTC);
    let t = &r.fleet.total;
    assert!(close(t.cost.expect("cost"), -0.05 * 0.2), "{t:?}");
    assert!(close(t.unpriced_kwh, 0.2));
    assert!(close(t.kwh, 0.4));
    // Nothing priced: energy but no money.
    let none = |_: DateTime<Utc>| None;
    let r = cost::report_rows(&rows, at(0.0), at(3600.0), &none, Tz::UTC);
    assert_eq!(r.fleet.total.cost, None);
    assert_eq!(r.fleet.total.cost_per_th_day, None);
    assert!(close(r.fleet.total.unpriced_kwh, 0.4));
}

#[test]
fn which_profile_pays_per_miner_and_fleet_from_real_samples() {
    // a: day 2 slots at 20 W, night 1 slot at 40 W; b: day 1 slot at 10 W. Hashrate 1000 GH/s.
    let h = history_with(&[
        ("a", 0, "day", 20.0),
        ("a", 1, "day", 20.0),
        ("a", 3, "night", 40.0),
        ("b", 0, "day", 10.0),
    ]);
    let price = |_: DateTime<Utc>| Some(0.30);
    let r = cost::report(&h, at(0.0), at(3600.0), &price, Tz::UTC).expect("report");
    let kwh = |w: f64, slots: f64| w * 900.0 * slots / 3.6e6;
    let a = &r.miners["a"];
    assert!(close(a.profiles["day"].kwh, kwh(20.0, 2.0)));
    assert!(close(a.profiles["night"].kwh, kwh(40.0, 1.0)));
    assert!(close(a.total.kwh, kwh(20.0, 2.0) + kwh(40.0, 1.0)));
    assert!(close(
        r.fleet.profiles["day"].kwh,
        kwh(20.0, 2.0) + kwh(10.0, 1.0)
    ));
    assert!(close(
        r.miners["b"].total.cost.expect("b"),
        kwh(10.0, 1.0) * 0.30
    ));
    // 1 TH/s: J/TH equals watts; a TH-day costs 24 h of power.
    assert!(close(a.profiles["day"].j_per_th.expect("j/th"), 20.0));
    assert!(close(a.profiles["night"].j_per_th.expect("j/th"), 40.0));
    let per_th_day = a.profiles["night"].cost_per_th_day.expect("per th-day");
    assert!(
        close(per_th_day, 40.0 * 24.0 / 1000.0 * 0.30),
        "{per_th_day}"
    );
    assert!(close(a.profiles["day"].hours, 0.5));
    // The range is half-open: the night slot is outside [0, 45 min).
    let r = cost::report(&h, at(0.0), at(2700.0), &price, Tz::UTC).expect("report");
    assert!(!r.miners["a"].profiles.contains_key("night"));
    // It serialises for the UI and the statistics file.
    let json = serde_json::to_value(&r).expect("json");
    assert!(json["fleet"]["profiles"]["day"]["kwh"].is_number());
}

#[test]
fn days_and_months_are_local_across_a_dst_change_in_berlin() {
    let berlin: Tz = "Europe/Berlin".parse().expect("tz");
    let local = |y, m, d, hh, mm| {
        berlin
            .with_ymd_and_hms(y, m, d, hh, mm, 0)
            .earliest()
            .expect("local")
            .with_timezone(&Utc)
    };
    // Every quarter hour of 2026-03-29 (23 h long in Berlin) and the evening of 2026-03-31
    // into April 1st local.
    let day_start = local_day_start(berlin, NaiveDate::from_ymd_opt(2026, 3, 29).expect("d"));
    let next = local_day_start(berlin, NaiveDate::from_ymd_opt(2026, 3, 30).expect("d"));
    assert_eq!((next - day_start).num_hours(), 23);
    let mut rows = Vec::new();
    let mut t = day_start.timestamp();
    while t < next.timestamp() {
        rows.push(EnergyRow {
            miner: "a".into(),
            slot: t,
            profile: "day".into(),
            joules: 3.6e6 * 0.01,
            seconds: 900.0,
            hashes: 0.0,
        });
        t += SLOT_S;
    }
    let evening = local(2026, 3, 31, 23, 0).timestamp();
    for i in 0..8 {
        rows.push(EnergyRow {
            miner: "a".into(),
            slot: evening + i * SLOT_S,
            profile: "night".into(),
            joules: 3.6e6 * 0.01,
            seconds: 900.0,
            hashes: 0.0,
        });
    }
    let r = cost::report_rows(
        &rows,
        day_start,
        local(2026, 4, 2, 0, 0),
        &|_| Some(1.0),
        berlin,
    );
    let day = &r.fleet.days[&NaiveDate::from_ymd_opt(2026, 3, 29).expect("d")];
    assert_eq!(rows.len() - 8, 92, "a 23-hour day has 92 quarter hours");
    assert!(close(day.kwh, 0.92), "{day:?}");
    assert!(close(day.hours, 23.0));
    let march = &r.fleet.months["2026-03"];
    let april = &r.fleet.months["2026-04"];
    assert!(close(march.kwh, 0.92 + 0.04), "{march:?}");
    assert!(close(april.kwh, 0.04), "{april:?}");
    assert!(close(
        r.fleet.days[&NaiveDate::from_ymd_opt(2026, 4, 1).expect("d")].kwh,
        0.04
    ));
    assert_eq!(r.timezone, "Europe/Berlin");
    // The autumn day has 100 quarter hours.
    let oct = local_day_start(berlin, NaiveDate::from_ymd_opt(2026, 10, 25).expect("d"));
    let oct_next = local_day_start(berlin, NaiveDate::from_ymd_opt(2026, 10, 26).expect("d"));
    assert_eq!((oct_next - oct).num_seconds() / SLOT_S, 100);
}

// ---- the engine records energy ----

mod support;

#[tokio::test]
async fn the_engine_records_energy_with_a_gap_cap_of_three_poll_periods() {
    use bitaxe_core::events::Event;
    use bitaxe_sim::Personality;
    use support::{sims, Harness, NIGHT};

    // Polls every 0.2 s: the cap is 0.6 s of the engine's (fake) clock.
    // A fixed tariff of 0.25 all day prices it.
    let mut h = Harness::start(sims(1, Personality::V2_14).await, NIGHT, |c| {
        c.tariff = Some(bitaxe_core::prices::TariffConfig {
            currency: "EUR".into(),
            fixed: vec![bitaxe_core::prices::WindowConfig {
                from: bitaxe_core::config::ClockTime::hm(0, 0),
                to: bitaxe_core::config::ClockTime::hm(0, 0),
                price_per_kwh: 0.25,
                days: None,
            }],
            source: None,
        });
    })
    .await;
    let mut seen: Vec<(DateTime<Utc>, f64)> = Vec::new();
    for i in 0..12 {
        let e = h
            .expect("a sample", 5, |e| matches!(e, Event::Sampled(_)))
            .await;
        if let Event::Sampled(s) = e {
            seen.push((s.at, s.power));
        }
        // A silence of 10 s halfway (the app was closed), otherwise a poll period.
        h.clock.advance(if i == 5 {
            chrono::Duration::seconds(10)
        } else {
            chrono::Duration::milliseconds(200)
        });
    }
    assert!(h.engine.shutdown(Duration::from_secs(5)).await);
    while let Ok(e) = h.events.try_recv() {
        if let Event::Sampled(s) = e {
            seen.push((s.at, s.power));
        }
    }
    let mut want = 0.0;
    let mut skipped = 0;
    for w in seen.windows(2) {
        let dt = (w[1].0 - w[0].0).num_microseconds().expect("us") as f64 / 1e6;
        if dt > 0.6 {
            skipped += 1;
        } else if dt > 0.0 {
            want += (w[0].1 + w[1].1) / 2.0 * dt;
        }
    }
    assert_eq!(skipped, 1, "the 10 s silence: {seen:?}");
    assert!(want > 0.0);
    let history = History::open(&h.path.with_file_name(HISTORY_FILE)).expect("history");
    let rows = history.energy(at(-1e9), at(1e9)).expect("energy");
    let got: f64 = rows.iter().map(|r| r.joules).sum();
    assert!(
        close(got, want),
        "{got} J recorded, {want} J from the samples"
    );
    assert!(rows.iter().all(|r| r.profile == "night"), "{rows:?}");
    // The handle reports it too.
    let report = h.engine.cost(at(-1e9), at(1e9)).expect("cost");
    assert!(close(
        report.miners["sim-1"].profiles["night"].kwh,
        got / 3.6e6
    ));
    let cost = report.fleet.total.cost.expect("priced");
    assert!(close(cost, got / 3.6e6 * 0.25), "{cost}");
    // The statistics file carries today's energy.
    let stats: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(h.path.with_file_name("multi_bitaxe_stats.json")).expect("stats"),
    )
    .expect("json");
    let kwh = stats["miners"]["sim-1"]["today"]["energy_kwh"]
        .as_f64()
        .expect("kwh");
    assert!(close(kwh, want / 3.6e6), "{stats}");
    let cost = stats["today"]["cost"].as_f64().expect("cost");
    assert!(close(cost, want / 3.6e6 * 0.25), "{stats}");
    assert_eq!(stats["today"]["currency"], "EUR");
    assert_eq!(stats["today"]["date"], "2026-06-01");
}

#[test]
fn a_day_whose_midnight_is_skipped_starts_at_its_first_instant() {
    // Sao Paulo went from 00:00 to 01:00 on 2018-11-04.
    let tz: Tz = "America/Sao_Paulo".parse().expect("tz");
    let start = local_day_start(tz, NaiveDate::from_ymd_opt(2018, 11, 4).expect("d"));
    let local = start.with_timezone(&tz);
    assert_eq!(
        local.format("%Y-%m-%d %H:%M").to_string(),
        "2018-11-04 01:00"
    );
    assert_eq!(
        start,
        Utc.with_ymd_and_hms(2018, 11, 4, 3, 0, 0)
            .single()
            .expect("utc")
    );
}

#[test]
fn the_price_source_prefers_the_view_then_the_fixed_tariff_then_nothing() {
    use bitaxe_core::config::Config;
    use bitaxe_core::cost::price_source;
    use bitaxe_core::schedule::PriceSlot;
    let parse = |text: &str| Config::parse(text, std::path::Path::new("test.json")).expect("cfg");
    let none = price_source(&parse(r#"{"timezone": "UTC"}"#), None);
    assert_eq!(none.currency, None);
    assert_eq!((none.price)(at(0.0)), None);
    let cfg = parse(
        r#"{"timezone": "Europe/Berlin", "tariff": {"currency": "CHF",
            "fixed": [{"from": "08:00", "to": "20:00", "price_per_kwh": 0.31}]}}"#,
    );
    let fixed = price_source(&cfg, None);
    assert_eq!(fixed.currency.as_deref(), Some("CHF"));
    // T0 is 08:00 UTC, 09:00 in Berlin: inside the window; 20:30 Berlin is not.
    assert_eq!((fixed.price)(at(0.0)), Some(0.31));
    assert_eq!((fixed.price)(at(11.5 * 3600.0)), None);
    let view: Vec<PriceSlot> = vec![PriceSlot {
        start: at(0.0),
        end: at(900.0),
        price: -0.01,
    }];
    let viewed = price_source(&cfg, Some(std::sync::Arc::new(view)));
    assert_eq!((viewed.price)(at(60.0)), Some(-0.01));
    assert_eq!((viewed.price)(at(960.0)), None, "the view alone decides");
    assert_eq!(viewed.currency.as_deref(), Some("CHF"));
}
