//! The merged price view: building it (30 days of 15-minute history, two days ahead and three
//! fixed windows), looking up slots, and a week's plan preview for 1000 miners with three price
//! rules reading it (feed for two days, the fixed tariff after), against the same slots as a
//! plain list. Run: `cargo bench -p bitaxe-core --bench prices`.

use std::path::Path;
use std::time::{Duration as StdDuration, Instant};

use bitaxe_core::config::Config;
use bitaxe_core::ops;
use bitaxe_core::prices::{PriceSeries, Prices, Slot};
use bitaxe_core::schedule::{self, PriceLookup, PriceSlot};
use chrono::{DateTime, Duration};

fn median(mut xs: Vec<StdDuration>) -> StdDuration {
    xs.sort();
    xs[xs.len() / 2]
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let miners: Vec<serde_json::Value> = (0..1000)
        .map(|i| serde_json::json!({"name": format!("m{i}"), "ip": format!("127.0.{}.{}:80", i / 250, i % 250 + 1)}))
        .collect();
    let text = serde_json::json!({
        "timezone": "Europe/Berlin",
        "miners": miners,
        "price_rules": [
            {"profile": "performance", "max_price": 0.10},
            {"profile": "quiet", "max_price": 0.25},
            {"profile": "off"}
        ],
        "tariff": {
            "currency": "EUR",
            "fixed": [
                {"from": "07:00", "to": "12:00", "price_per_kwh": 0.32},
                {"from": "12:00", "to": "22:00", "price_per_kwh": 0.24},
                {"from": "22:00", "to": "07:00", "price_per_kwh": 0.08}
            ],
            "source": {"type": "energy-charts"}
        }
    })
    .to_string();
    let c = Config::parse(&text, Path::new("bench.json")).expect("config");
    let tariff = c.tariff.clone().expect("tariff");
    let tz = schedule::zone(&c);
    let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00+01:00")
        .expect("time")
        .to_utc();
    let midnight = now - Duration::hours(12);
    let history = midnight - Duration::days(30);
    let slots: Vec<Slot> = (0..32 * 96)
        .map(|i| Slot {
            start: history + Duration::minutes(15 * i),
            end: history + Duration::minutes(15 * (i + 1)),
            price: ((i * 37) % 40) as f64 / 100.0,
        })
        .collect();
    let series = PriceSeries::new("energy-charts DE-LU", "EUR", now, slots);

    let mut builds = Vec::new();
    let mut view = Prices::none(now);
    for _ in 0..15 {
        let t = Instant::now();
        view = Prices::new(&tariff, tz, Some(series.clone()), None, now);
        builds.push(t.elapsed());
    }
    println!(
        "prices: building the view (3072 feed slots, 3 fixed windows): median {:.2} ms",
        ms(median(builds))
    );

    let t = Instant::now();
    let mut hits = 0usize;
    for i in 0..100_000 {
        let at = history + Duration::seconds(i * 32);
        hits += usize::from(view.slot_at(at).is_some());
    }
    println!(
        "prices: slot_at over 37 days: {:.2} us per lookup ({hits} found)",
        t.elapsed().as_secs_f64() * 1e6 / 100_000.0
    );

    let list: Vec<PriceSlot> =
        PriceLookup::slots_between(&view, midnight, midnight + Duration::days(8));
    for (name, lookup) in [
        ("the view", &view as &dyn PriceLookup),
        ("a plain list", &list as &dyn PriceLookup),
    ] {
        let mut runs = Vec::new();
        let mut segments = 0;
        for _ in 0..7 {
            let t = Instant::now();
            let p = ops::preview(&c, midnight, 7, Some(lookup));
            runs.push(t.elapsed());
            segments = p.miners.iter().map(|m| m.segments.len()).sum::<usize>();
        }
        println!(
            "prices: preview of 7 days for 1000 miners, 3 price rules, prices from {name}: median {:.1} ms ({segments} segments)",
            ms(median(runs))
        );
    }
}
