//! Plan resolution for 1000 miners over a week: a weekly plan of 21 periods with an exception,
//! four groups with plans of their own, three price rules and a week of 15-minute prices.
//! Measures `ops::preview` (every miner's segments for seven days) and, for comparison, asking
//! the resolver for every miner at every hour. Goal: under 50 ms for the week.
//! Run: `cargo bench -p bitaxe-core --bench plan`.

use std::time::{Duration as StdDuration, Instant};

use bitaxe_core::config::{ClockTime, Config, MinerConfig};
use bitaxe_core::ops;
use bitaxe_core::schedule::{
    self, Day, Exception, GroupConfig, Period, PlanConfig, PriceRule, PriceSlot,
};
use chrono::{DateTime, Duration, NaiveDate, Weekday};

fn period(day: Weekday, from: u32, to: u32, profile: &str) -> Period {
    Period {
        days: Some(vec![Day(day)]),
        from: ClockTime::hm(from, 0),
        to: ClockTime::hm(to, 0),
        profile: profile.into(),
    }
}

fn plan(shift: u32) -> PlanConfig {
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    let week = days
        .iter()
        .flat_map(|&d| {
            [
                period(d, 7 + shift, 12, "quiet"),
                period(d, 12, 17, "efficiency"),
                period(d, 17, 20 + shift, "off"),
            ]
        })
        .collect();
    PlanConfig {
        default: "performance".into(),
        week,
        exceptions: vec![Exception {
            name: Some("Holiday".into()),
            date: None,
            from: NaiveDate::from_ymd_opt(2026, 12, 3),
            to: NaiveDate::from_ymd_opt(2026, 12, 4),
            profile: "performance".into(),
            periods: vec![],
        }],
    }
}

fn config() -> Config {
    let mut c = Config {
        timezone: "Europe/Berlin".into(),
        ..Config::default()
    };
    c.miners = (0..1000)
        .map(|i| MinerConfig {
            profiles: Default::default(),
            name: format!("miner-{i:04}"),
            ip: format!("http://127.0.{}.{}", i / 250, i % 250 + 1),
            enabled: true,
            day_settings: None,
            night_settings: None,
            limits: None,
        })
        .collect();
    c.plan = Some(plan(0));
    for g in 0..4u32 {
        c.groups.insert(
            format!("group-{g}"),
            GroupConfig {
                miners: (0..100)
                    .map(|i| format!("miner-{:04}", g * 100 + i))
                    .collect(),
                plan: Some(plan(g + 1)),
                power_budget: None,
            },
        );
    }
    c.price_rules = [
        (Some(0.10), "performance"),
        (Some(0.25), "quiet"),
        (None, "off"),
    ]
    .into_iter()
    .map(|(max_price, profile)| PriceRule {
        profile: profile.into(),
        max_price,
        cheapest_hours: None,
        groups: None,
    })
    .collect();
    c
}

fn median(mut xs: Vec<StdDuration>) -> StdDuration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let c = config();
    let tz = schedule::zone(&c);
    let from = DateTime::parse_from_rfc3339("2026-11-30T00:00:00+01:00")
        .expect("time")
        .to_utc();
    let prices: Vec<PriceSlot> = (0..7 * 96)
        .map(|i| PriceSlot {
            start: from + Duration::minutes(15 * i),
            end: from + Duration::minutes(15 * (i + 1)),
            price: ((i * 37) % 40) as f64 / 100.0,
        })
        .collect();
    let mut runs = Vec::new();
    let mut segments = 0;
    for _ in 0..15 {
        let t = Instant::now();
        let p = ops::preview(&c, from, 7, Some(&prices));
        runs.push(t.elapsed());
        segments = p.miners.iter().map(|m| m.segments.len()).sum::<usize>();
    }
    println!(
        "plan: preview of 7 days for {} miners (5 plans, 3 price rules, 672 price slots): median {:.1} ms ({segments} segments)",
        c.miners.len(),
        median(runs).as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let mut n = 0;
    for h in 0..7 * 24 {
        let at = from + Duration::hours(h);
        for m in &c.miners {
            n += usize::from(
                schedule::profile_now(&c, tz, at, m, Some(&prices))
                    .0
                    .is_off(),
            );
        }
    }
    println!(
        "plan: the engine's per-poll question for every miner at every hour of the week (168 000 questions): {:.0} ms ({n} off)",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
