//! Price-driven switching in the running engine: an Energy-Charts feed served on loopback whose
//! prices change while the engine runs; the price rules move the simulated miner accordingly.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use bitaxe_core::prices::{SourceConfig, SourceKind, TariffConfig};
use bitaxe_core::safety::Settings;
use bitaxe_core::schedule::{PlanConfig, PriceRule};
use bitaxe_sim::Personality;
use serde_json::json;
use support::*;

/// Serves two days of hourly prices around the harness's day; every slot costs what `price`
/// (EUR/MWh, as f64 bits) holds when asked.
async fn feed(price: Arc<AtomicU64>) -> String {
    let app = Router::new()
        .route(
            "/price",
            get(|State(p): State<Arc<AtomicU64>>| async move {
                let start = utc("2026-05-31 00:00").timestamp();
                let times: Vec<i64> = (0..72).map(|h| start + h * 3600).collect();
                let mwh = f64::from_bits(p.load(Ordering::SeqCst));
                axum::Json(
                    json!({"unix_seconds": times, "price": vec![mwh; 72], "unit": "EUR / MWh"}),
                )
            }),
        )
        .with_state(price);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/price")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_miner_follows_the_price_as_the_feed_changes() {
    let price = Arc::new(AtomicU64::new(80.0f64.to_bits())); // 0.08 EUR/kWh
    let url = feed(price.clone()).await;
    let miners = sims(1, Personality::V2_14).await;
    let h = Harness::start(miners, DAY, |c| {
        c.transition_steps = 1;
        c.plan = Some(PlanConfig {
            default: "quiet".into(),
            week: vec![],
            exceptions: vec![],
        });
        let mut source = SourceConfig::new(SourceKind::EnergyCharts);
        source.url = Some(url.clone());
        c.tariff = Some(TariffConfig {
            currency: "EUR".into(),
            fixed: vec![],
            source: Some(source),
        });
        c.price_rules = vec![
            PriceRule {
                profile: "performance".into(),
                max_price: Some(0.10),
                cheapest_hours: None,
                groups: None,
            },
            PriceRule {
                profile: "efficiency".into(),
                max_price: Some(0.25),
                cheapest_hours: None,
                groups: None,
            },
        ];
    })
    .await;
    let wait_for = |want: Settings, what: &'static str| {
        let miner = h.miners[0].clone();
        async move {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let s = miner.state();
                if Settings::new(s.nvs.core_voltage, s.nvs.frequency) == want {
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{what}: miner at {:?}",
                    (s.nvs.core_voltage, s.nvs.frequency)
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    };
    // 8 ct: performance (the preset, clamped into the default envelope: 1200 mV, 575 MHz).
    wait_for(Settings::new(1200, 575.0), "cheap: performance").await;
    let status = h.engine.status();
    let why = status.miners[0].plan_why.clone().unwrap_or_default();
    assert!(
        why.starts_with("Performance: price 8 ct at most 10"),
        "{why}"
    );
    // The feed now answers 20 ct: efficiency, picked up on the next refresh.
    price.store(200.0f64.to_bits(), Ordering::SeqCst);
    wait_for(Settings::new(1100, 490.0), "middling: efficiency").await;
    // 40 ct: no rule matches, the plan (quiet) runs.
    price.store(400.0f64.to_bits(), Ordering::SeqCst);
    wait_for(Settings::new(1050, 400.0), "dear: the plan's quiet").await;
    h.engine.shutdown(std::time::Duration::from_secs(5)).await;
}
