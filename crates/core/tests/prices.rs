//! Price feeds against real HTTP servers on 127.0.0.1 serving fixture files in each provider's
//! documented shape: every adapter, 15/30/60-minute slots, negative prices, DST days of 92 and
//! 100 quarter hours, late or missing tomorrow (the last known plan kept, the fixed tariff
//! after it), a hanging server, an answer that changes at run time, the cache across restarts,
//! and tokens kept out of every message. Nothing here leaves loopback.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use bitaxe_core::clock::FakeClock;
use bitaxe_core::config::{ClockTime, Config};
use bitaxe_core::prices::{
    build_slots, cache_path, client, fetch, Coverage, FeedOptions, PriceError, PriceFeed, Secret,
    SourceConfig, SourceKind, TariffConfig, TimeFormat, UrlFormat, WindowConfig,
};
use chrono::{DateTime, Duration as Span, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/prices")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn local(tz: Tz, s: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    tz.from_local_datetime(&naive)
        .earliest()
        .expect("local time")
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------------
// A loopback server: path -> answer, swappable at run time; every request is recorded.

#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    delay: Duration,
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    query: String,
    auth: Option<String>,
    body: String,
}

#[derive(Default)]
struct Routes {
    replies: Mutex<HashMap<String, Reply>>,
    seen: Mutex<Vec<Seen>>,
    base: Mutex<String>,
}

struct Server {
    base: String,
    routes: Arc<Routes>,
}

impl Server {
    async fn start() -> Server {
        let routes = Arc::new(Routes::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        *routes.base.lock().expect("lock") = base.clone();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(routes.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Server { base, routes }
    }

    fn serve(&self, path: &str, body: String) {
        self.reply(path, 200, body, Duration::ZERO);
    }

    fn reply(&self, path: &str, status: u16, body: String, delay: Duration) {
        self.routes.replies.lock().expect("lock").insert(
            path.to_string(),
            Reply {
                status,
                body,
                delay,
            },
        );
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn seen(&self) -> Vec<Seen> {
        self.routes.seen.lock().expect("lock").clone()
    }
}

async fn answer(
    State(routes): State<Arc<Routes>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    routes.seen.lock().expect("lock").push(Seen {
        method: method.to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        auth: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let reply = routes
        .replies
        .lock()
        .expect("lock")
        .get(uri.path())
        .cloned();
    let base = routes.base.lock().expect("lock").clone();
    match reply {
        Some(r) => {
            tokio::time::sleep(r.delay).await;
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
            (status, r.body.replace("{BASE}", &base)).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such fixture").into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn source(kind: SourceKind, url: String) -> SourceConfig {
    let mut s = SourceConfig::new(kind);
    s.url = Some(url);
    s
}

fn window(from: (u32, u32), to: (u32, u32), price: f64) -> WindowConfig {
    WindowConfig {
        from: ClockTime::hm(from.0, from.1),
        to: ClockTime::hm(to.0, to.1),
        price_per_kwh: price,
        days: None,
    }
}

fn tariff(currency: &str, source: SourceConfig, fixed: Vec<WindowConfig>) -> TariffConfig {
    TariffConfig {
        currency: currency.into(),
        fixed,
        source: Some(source),
    }
}

fn quick() -> FeedOptions {
    FeedOptions {
        refresh: Duration::from_millis(100),
        retry: Duration::from_millis(50),
        timeout: Duration::from_secs(3),
    }
}

fn feed(t: TariffConfig, tz: Tz, clock: Arc<FakeClock>, cache: Option<&Path>) -> PriceFeed {
    PriceFeed::new(
        Some(t),
        tz,
        cache.map(Path::to_path_buf),
        30,
        clock,
        quick(),
    )
    .expect("feed")
}

/// Fetch from `s` and make final slots, as the feed does.
async fn slots_of(
    s: &SourceConfig,
    tz: Tz,
    now: DateTime<Utc>,
    currency: &str,
) -> Result<Vec<bitaxe_core::prices::Slot>, PriceError> {
    let c = client(Duration::from_secs(3))?;
    let got = fetch(&c, s, tz, now, currency, Duration::from_secs(3)).await?;
    Ok(build_slots(
        got.points,
        |p| s.final_price(p),
        s.slot_minutes,
    ))
}

fn minutes(s: &bitaxe_core::prices::Slot) -> i64 {
    (s.end - s.start).num_minutes()
}

// ---------------------------------------------------------------------------------------------
// Energy-Charts

#[tokio::test]
async fn energy_charts_quarter_hours_with_a_missing_price_negatives_and_the_formula() {
    let server = Server::start().await;
    server.serve("/price", fixture("energy-charts-two-days.json"));
    let mut s = source(SourceKind::EnergyCharts, server.url("/price"));
    s.charges = Some(0.10);
    s.tax = Some(0.19);
    let t = tariff("EUR", s, vec![window((0, 0), (0, 0), 0.30)]);
    let now = local(BERLIN, "2026-11-25 12:00");
    let mut f = feed(t, BERLIN, Arc::new(FakeClock::new(now)), None);
    f.refresh().await.expect("refresh");

    // Asked in local-day bounds (local midnight with its offset), not UTC dates.
    let q = &server.seen()[0].query;
    assert!(q.contains("bzn=DE-LU"), "{q}");
    assert!(q.contains("start=2026-11-25T00%3A00%3A00%2B01%3A00"), "{q}");
    assert!(q.contains("end=2026-11-27T00%3A00%3A00%2B01%3A00"), "{q}");

    let view = f.current();
    let series = view.feed().expect("feed slots");
    // 192 quarter hours, one of them listed without a price.
    assert_eq!(series.slots().len(), 191);
    assert!(series.slots().iter().all(|s| minutes(s) == 15));
    // The missing quarter hour (01:15) is not zero: the fixed tariff answers there.
    let gap = local(BERLIN, "2026-11-25 01:20");
    assert_eq!(view.coverage_at(gap), Coverage::Fixed);
    assert_eq!(view.price_at(gap), Some(0.30));
    let gap_slot = view.slot_at(gap).expect("slot");
    assert_eq!(gap_slot.start, local(BERLIN, "2026-11-25 01:15"));
    assert_eq!(gap_slot.end, local(BERLIN, "2026-11-25 01:30"));
    // 11:00 is index 44: -3.5 EUR/MWh -> (-0.0035 + 0.10) * 1.19, negative input kept.
    let p = view
        .price_at(local(BERLIN, "2026-11-25 11:00"))
        .expect("price");
    assert!((p - (-0.0035 + 0.10) * 1.19).abs() < 1e-9, "{p}");
    let st = view.status();
    assert!(st.tomorrow_known, "{st:?}");
    assert_eq!(st.now, Coverage::Feed);
    assert_eq!(st.last_fetch, Some(now));
    assert!(
        st.message
            .starts_with("prices from energy-charts DE-LU until"),
        "{}",
        st.message
    );
}

#[tokio::test]
async fn negative_prices_stay_negative_without_charges() {
    let server = Server::start().await;
    server.serve("/price", fixture("energy-charts-two-days.json"));
    let s = source(SourceKind::EnergyCharts, server.url("/price"));
    let now = local(BERLIN, "2026-11-25 12:00");
    let slots = slots_of(&s, BERLIN, now, "EUR").await.expect("slots");
    let negative: Vec<_> = slots.iter().filter(|s| s.price < 0.0).collect();
    assert_eq!(negative.len(), 16, "8 per day");
    assert!((negative[0].price + 0.0035).abs() < 1e-12);
}

#[tokio::test]
async fn dst_days_have_92_and_100_quarter_hours() {
    let server = Server::start().await;
    server.serve("/spring", fixture("energy-charts-spring-dst.json"));
    server.serve("/autumn", fixture("energy-charts-autumn-dst.json"));
    for (path, day, want) in [
        ("/spring", "2026-03-29", 92),
        ("/autumn", "2026-10-25", 100),
    ] {
        let s = source(SourceKind::EnergyCharts, server.url(path));
        let now = local(BERLIN, &format!("{day} 12:00"));
        let slots = slots_of(&s, BERLIN, now, "EUR").await.expect("slots");
        assert_eq!(slots.len(), want, "{day}");
        assert!(slots.iter().all(|s| minutes(s) == 15));
        assert_eq!(slots[0].start, local(BERLIN, &format!("{day} 00:00")));
        let next = NaiveDateTime::parse_from_str(&format!("{day} 00:00"), "%Y-%m-%d %H:%M")
            .expect("day")
            + Span::days(1);
        let end = BERLIN
            .from_local_datetime(&next)
            .earliest()
            .expect("midnight")
            .with_timezone(&Utc);
        assert_eq!(slots.last().expect("slot").end, end);
        // Averaged to hours: 23 and 25 of them.
        let mut hourly = s.clone();
        hourly.slot_minutes = Some(60);
        let hours = slots_of(&hourly, BERLIN, now, "EUR").await.expect("slots");
        assert_eq!(hours.len(), want / 4, "{day}");
        assert!(hours.iter().all(|s| minutes(s) == 60));
    }
}

#[tokio::test]
async fn energy_charts_without_tomorrow_keeps_the_known_plan_and_falls_back_after_it() {
    let server = Server::start().await;
    server.serve("/price", fixture("energy-charts-today-only.json"));
    let t = tariff(
        "EUR",
        source(SourceKind::EnergyCharts, server.url("/price")),
        vec![window((23, 0), (7, 0), 0.21), window((7, 0), (23, 0), 0.33)],
    );
    let now = local(BERLIN, "2026-11-25 14:00");
    let clock = Arc::new(FakeClock::new(now));
    let mut f = feed(t, BERLIN, clock.clone(), None);
    f.refresh().await.expect("refresh");
    let view = f.current();
    let st = view.status();
    assert!(!st.tomorrow_known);
    assert_eq!(
        st.message,
        "prices for tomorrow not published yet; using the fixed tariff after 00:00"
    );
    let tomorrow = local(BERLIN, "2026-11-26 10:00");
    assert_eq!(view.coverage_at(tomorrow), Coverage::Fixed);
    assert_eq!(view.price_at(tomorrow), Some(0.33));
    // The view covers today from the feed and tomorrow from the fixed windows, without a gap.
    let all = view.slots_between(
        local(BERLIN, "2026-11-25 00:00"),
        local(BERLIN, "2026-11-27 00:00"),
    );
    for pair in all.windows(2) {
        assert_eq!(pair[0].end, pair[1].start);
    }
    assert_eq!(all.iter().filter(|s| minutes(s) == 15).count(), 96);

    // Tomorrow is published: the next refresh takes it; a later short answer drops nothing.
    server.serve("/price", fixture("energy-charts-two-days.json"));
    f.refresh().await.expect("refresh");
    assert!(f.current().status().tomorrow_known);
    server.serve("/price", fixture("energy-charts-today-only.json"));
    clock.advance(Span::minutes(30));
    f.refresh().await.expect("refresh");
    let view = f.current();
    assert!(view.status().tomorrow_known);
    assert_eq!(view.coverage_at(tomorrow), Coverage::Feed);
}

// ---------------------------------------------------------------------------------------------
// aWATTar, Octopus, Tibber

#[tokio::test]
async fn awattar_hourly_with_negative_prices() {
    let server = Server::start().await;
    server.serve("/v1/marketdata", fixture("awattar.json"));
    let s = source(SourceKind::Awattar, server.url("/v1/marketdata"));
    let now = local(BERLIN, "2026-11-25 12:00");
    let slots = slots_of(&s, BERLIN, now, "EUR").await.expect("slots");
    assert_eq!(slots.len(), 48);
    assert!(slots.iter().all(|s| minutes(s) == 60));
    assert_eq!(slots[0].start, local(BERLIN, "2026-11-25 00:00"));
    assert!((slots[12].price + 0.0124).abs() < 1e-12);
    let q = &server.seen()[0].query;
    let start = local(BERLIN, "2026-11-25 00:00").timestamp_millis();
    assert!(q.contains(&format!("start={start}")), "{q}");
}

#[tokio::test]
async fn octopus_pages_newest_first_thirty_minutes_and_an_open_end() {
    let server = Server::start().await;
    server.serve("/octopus/", fixture("octopus-page1.json"));
    server.serve("/octopus/page2/", fixture("octopus-page2.json"));
    let mut s = source(SourceKind::Octopus, server.url("/octopus/"));
    s.product = Some("AGILE-24-10-01".into());
    s.region = Some("C".into());
    let london = chrono_tz::Europe::London;
    let now = local(london, "2026-11-25 12:00");
    let slots = slots_of(&s, london, now, "GBP").await.expect("slots");
    assert_eq!(slots.len(), 96);
    assert!(
        slots.iter().all(|s| minutes(s) == 30),
        "the open end gets the measured length"
    );
    assert!(
        slots.iter().all(|s| s.price < 0.9),
        "the non-direct-debit rate is left out"
    );
    assert!(
        (slots[40].price + 0.03).abs() < 1e-12,
        "p/kWh to GBP/kWh, negative kept"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "followed `next` once");
    assert!(
        seen[0]
            .query
            .contains("period_from=2026-11-25T00%3A00%3A00Z"),
        "{}",
        seen[0].query
    );
    // In another currency than the tariff's, the feed refuses the prices.
    let mut f = feed(
        tariff("EUR", s, vec![]),
        london,
        Arc::new(FakeClock::new(now)),
        None,
    );
    let err = f.refresh().await.expect_err("currency");
    assert_eq!(err.code(), "prices_currency", "{err}");
}

#[tokio::test]
async fn tibber_quarter_hours_with_tomorrow_not_published() {
    let server = Server::start().await;
    server.serve("/gql", fixture("tibber-quarter-hourly-no-tomorrow.json"));
    let mut s = source(SourceKind::Tibber, server.url("/gql"));
    s.token = Some(Secret::new("test-token-not-real"));
    let t = tariff("EUR", s, vec![window((0, 0), (0, 0), 0.40)]);
    let now = local(BERLIN, "2026-11-25 20:00");
    let mut f = feed(t, BERLIN, Arc::new(FakeClock::new(now)), None);
    f.refresh().await.expect("refresh");
    let seen = &server.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.auth.as_deref(), Some("Bearer test-token-not-real"));
    assert!(seen.body.contains("QUARTER_HOURLY"), "{}", seen.body);
    let view = f.current();
    let slots = view.feed().expect("slots").slots();
    assert_eq!(slots.len(), 96);
    assert!(slots.iter().all(|s| minutes(s) == 15));
    assert_eq!(slots[0].start, local(BERLIN, "2026-11-25 00:00"));
    assert!(!view.status().tomorrow_known);
    assert!(view.status().message.contains("not published yet"));
    assert_eq!(view.price_at(local(BERLIN, "2026-11-26 01:00")), Some(0.40));
}

#[tokio::test]
async fn tibber_hourly_today_and_tomorrow() {
    let server = Server::start().await;
    server.serve("/gql", fixture("tibber-hourly.json"));
    let mut s = source(SourceKind::Tibber, server.url("/gql"));
    s.token = Some(Secret::new("t"));
    let now = local(BERLIN, "2026-11-25 20:00");
    let slots = slots_of(&s, BERLIN, now, "EUR").await.expect("slots");
    assert_eq!(slots.len(), 48);
    assert!(slots.iter().all(|s| minutes(s) == 60));
}

// ---------------------------------------------------------------------------------------------
// ENTSO-E

fn entsoe(server: &Server, path: &str, token: &str) -> SourceConfig {
    let mut s = source(SourceKind::Entsoe, server.url(path));
    s.token = Some(Secret::new(token));
    s.zone = Some("10Y1001A1001A82H".into());
    s
}

#[tokio::test]
async fn entsoe_dst_days_gaps_filled_and_the_first_classification_wins() {
    let server = Server::start().await;
    server.serve("/spring", fixture("entsoe-spring-dst.xml"));
    server.serve("/autumn", fixture("entsoe-autumn-dst.xml"));
    let now = local(BERLIN, "2026-03-29 12:00");
    let slots = slots_of(&entsoe(&server, "/spring", "tok"), BERLIN, now, "EUR")
        .await
        .expect("spring");
    assert_eq!(slots.len(), 92);
    assert!(slots.iter().all(|s| minutes(s) == 15));
    // Positions 10-12 are missing: they repeat position 9.
    assert_eq!(slots[9].price, slots[8].price);
    assert_eq!(slots[11].price, slots[8].price);
    assert_ne!(slots[12].price, slots[8].price);
    // The series with classification position 1 wins over position 2 (555.5 everywhere).
    assert!(slots.iter().all(|s| s.price < 0.5), "{:?}", slots[0]);
    let q = &server.seen()[0].query;
    assert!(q.contains("documentType=A44"), "{q}");
    assert!(q.contains("in_Domain=10Y1001A1001A82H"), "{q}");
    assert!(q.contains("periodStart=202603282300"), "{q}");
    let now = local(BERLIN, "2026-10-25 12:00");
    let slots = slots_of(&entsoe(&server, "/autumn", "tok"), BERLIN, now, "EUR")
        .await
        .expect("autumn");
    assert_eq!(slots.len(), 100);
}

#[tokio::test]
async fn entsoe_hourly_and_a_wrong_unit() {
    let server = Server::start().await;
    server.serve("/h", fixture("entsoe-hourly.xml"));
    server.serve(
        "/kwh",
        fixture("entsoe-hourly.xml").replace(">MWH<", ">KWH<"),
    );
    let now = local(BERLIN, "2026-11-25 12:00");
    let slots = slots_of(&entsoe(&server, "/h", "t"), BERLIN, now, "EUR")
        .await
        .expect("hourly");
    assert_eq!(slots.len(), 24);
    assert!(slots.iter().all(|s| minutes(s) == 60));
    let err = slots_of(&entsoe(&server, "/kwh", "t"), BERLIN, now, "EUR")
        .await
        .expect_err("unit");
    assert!(err.to_string().contains("MWH"), "{err}");
}

#[tokio::test]
async fn an_entsoe_acknowledgement_is_a_clear_error_and_the_known_plan_stays() {
    let server = Server::start().await;
    server.serve("/api", fixture("entsoe-hourly.xml"));
    let t = tariff(
        "EUR",
        entsoe(&server, "/api", "SECRET-TOKEN-123"),
        vec![window((0, 0), (0, 0), 0.25)],
    );
    let now = local(BERLIN, "2026-11-25 15:00");
    let mut f = feed(t, BERLIN, Arc::new(FakeClock::new(now)), None);
    f.refresh().await.expect("first");
    server.reply(
        "/api",
        400,
        fixture("entsoe-acknowledgement.xml"),
        Duration::ZERO,
    );
    let err = f.refresh().await.expect_err("acknowledgement");
    assert_eq!(err.code(), "prices_no_data");
    assert!(err.to_string().contains("No matching data found"), "{err}");
    let view = f.current();
    assert_eq!(view.feed().expect("kept").slots().len(), 24);
    let st = view.status();
    assert_eq!(st.now, Coverage::Feed);
    assert!(!st.tomorrow_known);
    assert!(st
        .message
        .contains("not published yet; using the fixed tariff after 00:00"));
    assert!(st.message.contains("last fetch failed"), "{}", st.message);
    assert!(!st.message.contains("SECRET-TOKEN-123"));
}

// ---------------------------------------------------------------------------------------------
// Generic URL

#[tokio::test]
async fn a_generic_url_in_json_and_csv() {
    let server = Server::start().await;
    server.serve("/p.json", fixture("url-prices.json"));
    server.serve("/p.csv", fixture("url-prices.csv"));
    let now = local(BERLIN, "2026-11-25 12:00");
    let mut j = source(SourceKind::Url, server.url("/p.json"));
    j.start_field = Some("from".into());
    j.end_field = Some("to".into());
    j.price_field = Some("eur_mwh".into());
    j.time_format = Some(TimeFormat::Unix);
    j.price_unit = Some(bitaxe_core::prices::PriceUnit::Mwh);
    let slots = slots_of(&j, BERLIN, now, "EUR").await.expect("json");
    assert_eq!(slots.len(), 96);
    assert!(slots.iter().all(|s| minutes(s) == 30));
    assert!((slots[0].price - 0.1).abs() < 1e-12);

    let mut c = source(SourceKind::Url, server.url("/p.csv"));
    c.format = Some(UrlFormat::Csv);
    c.start_field = Some("start".into());
    c.price_field = Some("price".into());
    let slots = slots_of(&c, BERLIN, now, "SEK").await.expect("csv");
    assert_eq!(slots.len(), 48);
    assert!(slots.iter().all(|s| minutes(s) == 60));
    assert!((slots[0].price - 0.25).abs() < 1e-12);
    assert_eq!(slots[0].start, local(BERLIN, "2026-11-25 00:00"));
}

// ---------------------------------------------------------------------------------------------
// Failures, refresh, cache, secrets

#[tokio::test]
async fn a_hanging_server_hits_the_timeout() {
    let server = Server::start().await;
    server.reply(
        "/price",
        200,
        fixture("energy-charts-two-days.json"),
        Duration::from_secs(20),
    );
    let s = source(SourceKind::EnergyCharts, server.url("/price"));
    let c = client(Duration::from_millis(300)).expect("client");
    let started = Instant::now();
    let now = local(BERLIN, "2026-11-25 12:00");
    let err = fetch(&c, &s, BERLIN, now, "EUR", Duration::from_millis(300))
        .await
        .expect_err("timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.code(), "prices_timeout", "{err}");
    assert_eq!(
        err.to_string(),
        "energy-charts DE-LU: no answer within 0.3 s"
    );
}

#[tokio::test]
async fn the_feed_task_picks_up_a_changed_answer_on_refresh() {
    let server = Server::start().await;
    let two_days = fixture("energy-charts-two-days.json");
    server.serve("/price", two_days.clone());
    let t = tariff(
        "EUR",
        source(SourceKind::EnergyCharts, server.url("/price")),
        vec![],
    );
    let now = local(BERLIN, "2026-11-25 12:00");
    let f = feed(t, BERLIN, Arc::new(FakeClock::new(now)), None);
    let mut rx = f.subscribe();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(f.run(cancel.clone()));
    let at = local(BERLIN, "2026-11-25 12:00");
    let first = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(p) = rx.borrow_and_update().price_at(at) {
                return p;
            }
            rx.changed().await.expect("feed alive");
        }
    })
    .await
    .expect("first prices");
    // The provider corrects its prices: every price +100 EUR/MWh.
    let mut v: serde_json::Value = serde_json::from_str(&two_days).expect("json");
    for p in v["price"].as_array_mut().expect("prices") {
        if let Some(x) = p.as_f64() {
            *p = serde_json::json!(x + 100.0);
        }
    }
    server.serve("/price", v.to_string());
    let second = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            rx.changed().await.expect("feed alive");
            let p = rx.borrow_and_update().price_at(at).expect("price");
            if (p - first).abs() > 1e-9 {
                return p;
            }
        }
    })
    .await
    .expect("the changed answer");
    assert!((second - first - 0.1).abs() < 1e-9, "{first} -> {second}");
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("stops on cancel")
        .expect("task");
}

#[tokio::test]
async fn the_cache_survives_a_restart_and_a_corrupt_cache_is_moved_aside() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("multi_scheduler_config.json");
    let cache = cache_path(&config);
    assert!(cache.ends_with("multi_scheduler_config.json.prices.json"));
    let server = Server::start().await;
    server.serve("/price", fixture("energy-charts-two-days.json"));
    let now = local(BERLIN, "2026-11-25 12:00");
    let clock = Arc::new(FakeClock::new(now));
    let t = tariff(
        "EUR",
        source(SourceKind::EnergyCharts, server.url("/price")),
        vec![window((0, 0), (0, 0), 0.5)],
    );
    let mut f = feed(t.clone(), BERLIN, clock.clone(), Some(&cache));
    f.refresh().await.expect("refresh");
    let before = f.current().slots_between(now, now + Span::hours(12));
    drop(f);
    let same = |a: &[bitaxe_core::prices::Slot], b: &[bitaxe_core::prices::Slot]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.start == y.start && x.end == y.end && (x.price - y.price).abs() < 1e-12
            })
    };

    // Restart with the server gone: the cached prices still answer.
    server.reply("/price", 503, String::new(), Duration::ZERO);
    clock.advance(Span::hours(1));
    let mut f = feed(t.clone(), BERLIN, clock.clone(), Some(&cache));
    let view = f.current();
    assert!(same(
        &view.slots_between(now, now + Span::hours(12)),
        &before
    ));
    assert_eq!(view.status().last_fetch, Some(now));
    let err = f.refresh().await.expect_err("server down");
    assert_eq!(err.code(), "prices_status");
    assert!(same(
        &f.current().slots_between(now, now + Span::hours(12)),
        &before
    ));

    // A corrupt cache is moved aside and never fatal.
    std::fs::write(&cache, "{ not json").expect("write");
    let f = feed(t, BERLIN, clock, Some(&cache));
    let view = f.current();
    assert!(view.feed().is_none());
    assert_eq!(view.price_at(now), Some(0.5));
    assert!(
        view.status().message.contains("price cache was unreadable"),
        "{}",
        view.status().message
    );
    assert!(!cache.exists());
    let aside = dir
        .path()
        .join("multi_scheduler_config.json.prices.json.corrupt");
    assert_eq!(std::fs::read_to_string(aside).expect("moved"), "{ not json");
}

#[tokio::test]
async fn tokens_stay_out_of_errors_and_debug_output() {
    let server = Server::start().await;
    // A server that echoes the request, token included, in its error page.
    server.reply(
        "/api",
        401,
        "invalid securityToken=SECRET-TOKEN-123 for this request".into(),
        Duration::ZERO,
    );
    let s = entsoe(&server, "/api", "SECRET-TOKEN-123");
    let now = local(BERLIN, "2026-11-25 12:00");
    let err = slots_of(&s, BERLIN, now, "EUR").await.expect_err("401");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("SECRET-TOKEN-123"), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(server.seen()[0]
        .query
        .contains("securityToken=SECRET-TOKEN-123"));
    // An unreachable server: the error does not carry the URL (and so not the token).
    let mut gone = entsoe(&server, "/api", "SECRET-TOKEN-123");
    gone.url = Some("http://127.0.0.1:9/api".into());
    let err = slots_of(&gone, BERLIN, now, "EUR")
        .await
        .expect_err("refused");
    assert!(
        !format!("{err} {err:?}").contains("SECRET-TOKEN-123"),
        "{err:?}"
    );
    let t = tariff("EUR", s, vec![]);
    assert!(!format!("{t:?}").contains("SECRET-TOKEN-123"));
}

#[test]
fn a_config_with_a_tariff_loads_and_bad_keys_name_their_line() {
    let text = r#"{
  // prices
  "timezone": "Europe/Berlin",
  "tariff": {
    "currency": "EUR",
    "fixed": [ { "from": "22:00", "to": "06:00", "price_per_kwh": 0.21 },
               { "from": "06:00", "to": "22:00", "price_per_kwh": 0.32, "days": ["mon", "fri"] } ],
    "source": { "type": "energy-charts", "bzn": "DE-LU", "tax": 0.19 }
  }
}"#;
    let cfg = Config::parse(text, Path::new("c.json")).expect("loads");
    let t = cfg.tariff.expect("tariff");
    assert_eq!(t.fixed.len(), 2);
    assert_eq!(t.source.expect("source").kind, SourceKind::EnergyCharts);
    let err = Config::parse(&text.replace("\"bzn\"", "\"bzm\""), Path::new("c.json"))
        .expect_err("misspelt");
    assert!(err.to_string().contains("tariff.source"), "{err}");
    assert!(err.to_string().contains("bzm"), "{err}");
    let err = Config::parse(&text.replace("\"EUR\"", "\"euro\""), Path::new("c.json"))
        .expect_err("currency");
    assert!(err.to_string().contains("line 5: tariff.currency"), "{err}");
    // A seed file has no tariff, and saving it writes none.
    let seed = Config::parse("{}", Path::new("c.json")).expect("seed");
    assert!(seed.tariff.is_none());
    assert!(!serde_json::to_string(&seed)
        .expect("json")
        .contains("tariff"));
}

#[tokio::test]
async fn a_test_fetch_gives_final_slots_and_another_sources_cache_is_not_used() {
    let server = Server::start().await;
    server.serve("/v1/marketdata", fixture("awattar.json"));
    let mut s = source(SourceKind::Awattar, server.url("/v1/marketdata"));
    s.tax = Some(0.2);
    let t = tariff("EUR", s, vec![]);
    let now = local(BERLIN, "2026-11-25 12:00");
    let series = bitaxe_core::prices::fetch_series(&t, BERLIN, now, Duration::from_secs(3))
        .await
        .expect("test fetch");
    assert_eq!(series.source, "awattar de");
    assert_eq!(series.slots().len(), 48);
    assert!((series.slots()[12].price + 0.0124 * 1.2).abs() < 1e-12);

    // A cache written for aWATTar is not read as Energy-Charts prices.
    let dir = tempfile::tempdir().expect("dir");
    let cache = cache_path(&dir.path().join("c.json"));
    let clock = Arc::new(FakeClock::new(now));
    let mut f = feed(t, BERLIN, clock.clone(), Some(&cache));
    f.refresh().await.expect("refresh");
    assert!(cache.exists());
    let other = tariff(
        "EUR",
        source(SourceKind::EnergyCharts, server.url("/none")),
        vec![],
    );
    let f = feed(other, BERLIN, clock, Some(&cache));
    assert!(f.current().feed().is_none());
    assert_eq!(f.current().status().now, Coverage::None);
}

#[test]
fn a_tariff_saved_into_a_commented_seed_file_loads_back() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    std::fs::write(
        &path,
        "{\n  // my miners\n  \"miners\": [],\n  \"max_temp\": 66\n}\n",
    )
    .expect("seed");
    let mut cfg = Config::load(&path).expect("seed loads");
    let mut s = SourceConfig::new(SourceKind::Entsoe);
    s.token = Some(Secret::new("tok"));
    s.zone = Some("10Y1001A1001A82H".into());
    cfg.tariff = Some(tariff("EUR", s, vec![window((22, 0), (6, 0), 0.2)]));
    cfg.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("// my miners"), "{text}");
    assert_eq!(Config::load(&path).expect("reload"), cfg);
    cfg.tariff = None;
    cfg.save(&path).expect("save without");
    assert!(!std::fs::read_to_string(&path)
        .expect("read")
        .contains("tariff"));
}

#[tokio::test]
async fn price_rules_read_the_merged_view_feed_then_fixed_tariff() {
    let server = Server::start().await;
    server.serve("/price", fixture("energy-charts-today-only.json"));
    let text = serde_json::json!({
        "timezone": "Europe/Berlin",
        "miners": [{"name": "a", "ip": "127.0.0.1:1"}],
        "price_rules": [
            {"profile": "performance", "max_price": 0.10},
            {"profile": "quiet", "max_price": 0.25},
            {"profile": "off"}
        ],
        "tariff": {
            "currency": "EUR",
            "fixed": [{"from": "00:00", "to": "00:00", "price_per_kwh": 0.30}],
            "source": {"type": "energy-charts", "url": server.url("/price"), "charges": 0.05}
        }
    })
    .to_string();
    let cfg = Config::parse(&text, Path::new("c.json")).expect("config");
    let now = local(BERLIN, "2026-11-25 11:00");
    let clock = Arc::new(FakeClock::new(now));
    let mut f = PriceFeed::for_config(&cfg, Path::new("/nonexistent/c.json"), clock, quick())
        .expect("feed");
    f.refresh().await.expect("refresh");
    let view = f.current();
    let lookup: &dyn bitaxe_core::schedule::PriceLookup = &*view;
    let miner = &cfg.miners[0];
    let at = |s: &str| {
        bitaxe_core::schedule::resolve(&cfg, BERLIN, local(BERLIN, s), miner, Some(lookup))
    };
    // 11:00: -3.5 EUR/MWh + 5 ct = 4.65 ct -> performance.
    let r = at("2026-11-25 11:00");
    assert_eq!(r.profile.name(), "performance", "{}", r.reason);
    assert_eq!(r.reason.to_string(), "price 4.7 ct at most 10");
    // 16:00: 80 + 60 sin(64/8) = 139.36 EUR/MWh + 5 ct = 18.9 ct -> quiet.
    assert_eq!(at("2026-11-25 16:00").profile.name(), "quiet");
    // Tomorrow is not published: the fixed 30 ct answers -> off.
    let r = at("2026-11-26 09:00");
    assert_eq!(r.profile.name(), "off");
    assert_eq!(r.reason.to_string(), "price 30 ct above 25");
    let slots = lookup.slots_between(
        local(BERLIN, "2026-11-25 23:00"),
        local(BERLIN, "2026-11-26 02:00"),
    );
    assert_eq!(slots.len(), 5, "{slots:?}");
    assert_eq!(slots[4].price, 0.30);
}
