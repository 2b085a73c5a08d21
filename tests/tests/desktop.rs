//! The real desktop app in its real webview: built, started under Xvfb with a private D-Bus
//! session, driven through tauri-driver + WebKitWebDriver, against simulated miners on loopback.
//! Needs Xvfb, dbus-run-session, dbus-monitor, WebKitWebDriver and tauri-driver (the README's
//! test command installs them). Every process it starts runs in a [`Group`] that is killed
//! whole when the test ends or panics; the test checks that nothing of it is left.

use std::path::Path;
use std::time::Duration;

use bitaxe_e2e::desktop::{shot, Desktop};
use bitaxe_e2e::process;
use bitaxe_e2e::webdriver::Session;
use bitaxe_e2e::{binary, wait_until};
use bitaxe_sim::{Faults, Personality, SimMiner};
use chrono::{Datelike, Timelike, Utc};
use serde_json::json;

fn write_config(path: &Path) {
    let h = Utc::now().hour();
    let hm = |h: u32| format!("{:02}:00", h % 24);
    let config = json!({
        "miners": [],
        "global_day_settings": {"start_time": hm(h + 23), "end_time": hm(h + 2), "voltage": 1100, "frequency": 425},
        "global_night_settings": {"start_time": hm(h + 2), "end_time": hm(h + 23), "voltage": 1200, "frequency": 550},
        "timezone": "UTC", "check_interval": 1, "temp_check_interval": 1, "log_stats_interval": 5,
        "transition_steps": 2, "transition_delay": 0.2, "retry_delay": 0.2
    });
    std::fs::write(path, serde_json::to_string_pretty(&config).expect("json")).expect("config");
}

/// An Energy-Charts price feed on loopback: 0.10 EUR/kWh in every quarter hour from a day
/// ago to a day ahead. Returns its URL.
async fn serve_prices() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/price", listener.local_addr().expect("addr"));
    let start = (Utc::now().timestamp() / 900 - 96) * 900;
    let times: Vec<i64> = (0..192).map(|i| start + i * 900).collect();
    let body =
        json!({"unix_seconds": times, "price": vec![100.0; times.len()], "unit": "EUR / MWh"})
            .to_string();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

/// `1050 mV @ 400 MHz` -> (1050, 400.0)
fn parse_settings(text: &str) -> (u32, f64) {
    let nums: Vec<f64> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|x| x.parse().ok())
        .collect();
    (nums[0] as u32, nums[1])
}

/// Drag across the week grid from one cell to another (pointer events, as a mouse sends them).
async fn drag(s: &Session, d0: u32, s0: u32, d1: u32, s1: u32) {
    let js = format!(
        "const a = document.querySelector(\".wg-cell[data-day='{d0}'][data-slot='{s0}']\");
         const b = document.querySelector(\".wg-cell[data-day='{d1}'][data-slot='{s1}']\");
         const at = (el) => {{ const r = el.getBoundingClientRect(); return {{ clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, pointerId: 1 }}; }};
         b.scrollIntoView({{ block: 'nearest', inline: 'nearest' }});
         a.dispatchEvent(new PointerEvent('pointerdown', at(a)));
         a.dispatchEvent(new PointerEvent('pointermove', at(b)));
         b.dispatchEvent(new PointerEvent('pointerup', at(b)));
         return true;"
    );
    s.script(&js).await.expect("drag");
}

async fn settings(m: &SimMiner) -> (u32, f64) {
    let s = m.state();
    (s.nvs.core_voltage, s.nvs.frequency)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_a_miner_change_night_apply_it_and_get_notified_when_it_goes_offline() {
    let app = binary("bitaxe-desktop", "bitaxe-fleet");
    let miners = bitaxe_sim::fleet("sim", 1, |s| {
        s.personality = Personality::V2_14;
        s.speed = 10.0;
    })
    .await
    .expect("sims");
    let miner = &miners[0];
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("multi_scheduler_config.json");
    write_config(&config);

    // A private display and a private session bus, with a monitor watching notifications.
    let Desktop {
        mut x,
        mut driver,
        monitor_log,
        session: s,
    } = Desktop::launch(dir.path(), &app, &config).await;

    // First run: the empty app offers three ways in.
    s.wait("#first-demo", Duration::from_secs(30))
        .await
        .expect("first-run view");
    shot(&s, "first-run").await;
    s.click("#first-add").await.expect("add");

    // Add the miner through the UI, with the live probe.
    s.fill("#add-name", "office").await.expect("name");
    s.fill("#add-address", &miner.url()).await.expect("address");
    s.click("#probe-btn").await.expect("probe");
    let probe = s
        .wait_text("#probe-result", Duration::from_secs(10), |t| {
            t.contains("BM1370")
        })
        .await
        .expect("probe result");
    assert!(
        probe.contains("v2.14.1") && probe.contains("1150 mV @ 525 MHz"),
        "{probe}"
    );
    shot(&s, "miners").await;
    s.click("#save-miner").await.expect("save");
    tokio::time::sleep(Duration::from_millis(800)).await;
    shot(&s, "after-save").await;

    // It shows Online in the fleet table.
    s.click("a[data-view='fleet']").await.expect("fleet nav");
    s.wait_text(
        "tr[data-miner='office'] .badge",
        Duration::from_secs(20),
        |t| t == "Online" || t == "Transitioning",
    )
    .await
    .expect("online");
    wait_until("day applied", Duration::from_secs(20), || {
        (miner.state().nvs.frequency == 425.0).then_some(())
    });
    s.wait_text(
        "tr[data-miner='office'] .badge",
        Duration::from_secs(20),
        |t| t == "Online",
    )
    .await
    .expect("online after day");
    tokio::time::sleep(Duration::from_secs(2)).await;
    shot(&s, "fleet").await;

    // Change the night profile, save, apply night now (with its confirmation).
    s.click("a[data-view='schedule']")
        .await
        .expect("schedule nav");
    s.fill("#night-voltage", "1220")
        .await
        .expect("night voltage");
    s.fill("#night-frequency", "560")
        .await
        .expect("night frequency");
    s.wait_text("#schedule-message", Duration::from_secs(5), |t| {
        t.is_empty()
    })
    .await
    .expect("valid");
    s.click("#save-schedule").await.expect("save schedule");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).expect("config")).expect("json");
    assert_eq!(saved["global_night_settings"]["voltage"], 1220);
    assert_eq!(saved["global_night_settings"]["frequency"], 560);
    // Values outside the limits are refused with the limit in the message.
    s.fill("#night-voltage", "1400").await.expect("too high");
    let refusal = s
        .wait_text("#schedule-message", Duration::from_secs(5), |t| {
            !t.is_empty()
        })
        .await
        .expect("refused");
    assert!(refusal.contains("1250 mV"), "{refusal}");
    shot(&s, "schedule").await;
    s.fill("#night-voltage", "1220").await.expect("back");
    s.click("#apply-night").await.expect("apply night");
    let dialog = s.text(".dialog p").await.expect("dialog text");
    assert!(
        dialog.contains("1220 mV @ 560 MHz") && dialog.contains("2 step(s)"),
        "{dialog}"
    );
    s.click("#confirm-ok").await.expect("confirm");
    let mut got = (0, 0.0);
    for _ in 0..100 {
        got = settings(miner).await;
        if got == (1220, 560.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        got,
        (1220, 560.0),
        "the simulated miner received the night settings"
    );
    let patches = miner.patches();
    assert!(
        patches.iter().any(|p| p == &json!({"coreVoltage": 1220}))
            && patches.iter().any(|p| p == &json!({"frequency": 560})),
        "{patches:?}"
    );

    // History and events views render.
    s.click("a[data-view='history']")
        .await
        .expect("history nav");
    s.wait(
        "figure.chart[data-metric='hashrate'] svg",
        Duration::from_secs(20),
    )
    .await
    .expect("chart");
    shot(&s, "history").await;
    s.click("a[data-view='events']").await.expect("events nav");
    s.wait_text("#events-list", Duration::from_secs(10), |t| {
        t.contains("office now runs 1220mV @ 560MHz") && !t.contains("->")
    })
    .await
    .expect("events");
    shot(&s, "events").await;
    s.click("a[data-view='settings']")
        .await
        .expect("settings nav");
    s.wait("#save-settings", Duration::from_secs(10))
        .await
        .expect("settings");
    shot(&s, "settings").await;

    // Edit the miner in its drawer: a value past the limits is refused as typed, with the
    // limit; a good one is saved to the file.
    s.click("a[data-view='miners']").await.expect("miners nav");
    s.wait("button[data-edit='office']", Duration::from_secs(10))
        .await
        .expect("edit button");
    s.click("button[data-edit='office']")
        .await
        .expect("open the drawer");
    s.wait(".drawer #edit-day-voltage", Duration::from_secs(5))
        .await
        .expect("drawer");
    s.fill("#edit-day-voltage", "1400").await.expect("too high");
    let refusal = s
        .wait_text("#edit-message", Duration::from_secs(5), |t| !t.is_empty())
        .await
        .expect("refused");
    assert!(
        refusal.contains("Day voltage must be") && refusal.contains("mV"),
        "{refusal}"
    );
    s.fill("#edit-day-voltage", "1120").await.expect("good");
    s.wait_text("#edit-message", Duration::from_secs(5), |t| t.is_empty())
        .await
        .expect("accepted");
    shot(&s, "miner-drawer").await;
    s.click("#edit-save").await.expect("save miner");
    let saved = wait_until("the override saved", Duration::from_secs(10), || {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).ok()?).ok()?;
        (v["miners"][0]["day_settings"]["voltage"] == 1120).then_some(v)
    });
    assert_eq!(saved["miners"][0]["name"], "office");
    let mut open = true;
    for _ in 0..30 {
        open = s.find(".drawer").await.is_ok();
        if !open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!open, "the drawer closes after saving");

    // Paint the plan: Quiet from this quarter hour for two hours (the config's zone is UTC),
    // save, and the miner follows it.
    s.click("a[data-view='profiles']")
        .await
        .expect("profiles nav");
    let quiet = s
        .wait_text(
            "[data-profile='quiet'] .num",
            Duration::from_secs(10),
            |t| t.contains("mV"),
        )
        .await
        .expect("quiet card");
    let (qv, qf) = parse_settings(&quiet);
    s.click("a[data-view='plan']").await.expect("plan nav");
    s.wait(".week-grid", Duration::from_secs(10))
        .await
        .expect("week grid");
    s.click(".wg-brush[data-brush='quiet']")
        .await
        .expect("quiet brush");
    let now = Utc::now();
    let day = now.weekday().num_days_from_monday();
    let slot = (now.hour() * 60 + now.minute()) / 15;
    // One cell by a real click, the rest by a drag along the row (and on into tomorrow).
    s.click(&format!(".wg-cell[data-day='{day}'][data-slot='{slot}']"))
        .await
        .expect("paint a cell");
    let last = slot + 8;
    drag(&s, day, slot, day, last.min(95)).await;
    if last > 95 {
        drag(&s, (day + 1) % 7, 0, (day + 1) % 7, last - 96).await;
    }
    shot(&s, "plan").await;
    s.wait_text("#plan-message", Duration::from_secs(5), |t| t.is_empty())
        .await
        .expect("the painted plan is valid");
    s.click("#save-plan").await.expect("save plan");
    // Night was applied by hand above and holds until the plan's next change: end it.
    s.wait("#back-to-plan", Duration::from_secs(5))
        .await
        .expect("a profile applied by hand offers the way back");
    s.click("#back-to-plan").await.expect("back to the plan");
    let saved = wait_until("the plan saved", Duration::from_secs(10), || {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).ok()?).ok()?;
        v["plan"]["week"].as_array().filter(|w| !w.is_empty())?;
        Some(v)
    });
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let from = format!("{:02}:{:02}", slot * 15 / 60, slot * 15 % 60);
    assert!(
        saved["plan"]["week"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["profile"] == "quiet"
                && p["from"] == from.as_str()
                && p["days"] == json!([days[day as usize]])),
        "{}",
        saved["plan"]
    );
    let mut got = (0, 0.0);
    for _ in 0..100 {
        got = settings(miner).await;
        if got == (qv, qf) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(got, (qv, qf), "the miner follows the painted plan");

    // A tariff from a price feed on loopback: the test fetch reads it, the tariff is saved,
    // and the History view's cost panel prices the measured energy.
    let feed = serve_prices().await;
    s.click("a[data-view='energy']").await.expect("energy nav");
    s.wait("#tariff-on", Duration::from_secs(10))
        .await
        .expect("tariff switch");
    s.click("#tariff-on").await.expect("use a tariff");
    s.wait("#source-type", Duration::from_secs(5))
        .await
        .expect("source select");
    s.script(
        "const k = document.getElementById('source-type'); k.value = 'energy-charts'; \
         k.dispatchEvent(new Event('change')); return true;",
    )
    .await
    .expect("pick energy-charts");
    s.fill("#source-url", &feed).await.expect("feed url");
    s.click("#window-add").await.expect("a fixed window");
    s.click("#test-fetch").await.expect("test fetch");
    let fetched = s
        .wait_text("#test-fetch-result", Duration::from_secs(20), |t| {
            t.contains("prices from") || t.contains("failed")
        })
        .await
        .expect("test fetch result");
    assert!(
        fetched.contains("energy-charts") && fetched.contains("0.100 to 0.100 EUR/kWh"),
        "{fetched}"
    );
    s.wait_text("#energy-message", Duration::from_secs(5), |t| t.is_empty())
        .await
        .expect("the tariff is valid");
    s.script(
        "document.getElementById('save-energy').scrollIntoView({block: 'center'}); return true;",
    )
    .await
    .expect("scroll to save");
    s.click("#save-energy").await.expect("save tariff");
    wait_until("the tariff saved", Duration::from_secs(10), || {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&config).ok()?).ok()?;
        (v["tariff"]["source"]["url"] == feed.as_str()).then_some(())
    });
    let mut cost = String::new();
    for _ in 0..20 {
        s.click("a[data-view='history']")
            .await
            .expect("history nav");
        cost = s
            .wait_text("#cost-panel", Duration::from_secs(20), |t| {
                t.contains("Fleet") || t.contains("No cost")
            })
            .await
            .unwrap_or_default();
        if cost.contains(" EUR") {
            break;
        }
        s.click("a[data-view='fleet']").await.expect("fleet nav");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(
        cost.contains(" EUR"),
        "the cost panel prices the energy: {cost}"
    );
    shot(&s, "cost").await;

    // The miner goes offline: a desktop notification goes out on the session bus, once.
    miner.set_faults(Faults {
        offline: true,
        ..Faults::default()
    });
    miner.settle().await;
    let log = wait_until("offline notification", Duration::from_secs(30), || {
        let t = std::fs::read_to_string(&monitor_log).ok()?;
        t.contains("office is offline").then_some(t)
    });
    assert!(log.contains("member=Notify"), "{log}");
    s.click("a[data-view='fleet']").await.expect("fleet nav");
    s.wait_text(
        "tr[data-miner='office'] .badge",
        Duration::from_secs(10),
        |t| t == "Offline",
    )
    .await
    .expect("offline badge");
    shot(&s, "fleet-offline").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let t = std::fs::read_to_string(&monitor_log).unwrap_or_default();
    assert_eq!(
        t.matches("office is offline").count(),
        1,
        "one notification per episode"
    );
    miner.set_faults(Faults::default());
    miner.settle().await;
    wait_until("recovery notification", Duration::from_secs(30), || {
        std::fs::read_to_string(&monitor_log)
            .ok()
            .filter(|t| t.contains("office is back online"))
    });
    s.end().await;

    // Nothing the test started is left: tauri-driver, WebKitWebDriver, the app, dbus-monitor,
    // the session bus and Xvfb all go with their groups.
    let drivers: Vec<u32> = driver.alive();
    let named: Vec<u32> = ["tauri-driver", "WebKitWebDriver", "bitaxe-fleet"]
        .iter()
        .flat_map(|n| process::named(n))
        .filter(|p| drivers.contains(p))
        .collect();
    assert!(
        named.len() >= 2,
        "tauri-driver and WebKitWebDriver ran in the test's group: {drivers:?}"
    );
    assert_eq!(driver.kill(), Vec::<u32>::new(), "driver processes left");
    assert_eq!(x.kill(), Vec::<u32>::new(), "Xvfb left");
    let still: Vec<u32> = ["tauri-driver", "WebKitWebDriver", "bitaxe-fleet"]
        .iter()
        .flat_map(|n| process::named(n))
        .filter(|p| named.contains(p))
        .collect();
    assert_eq!(
        still,
        Vec::<u32>::new(),
        "tauri-driver or WebKitWebDriver left"
    );
}
