//! A broker that wants a login: a wrong password keeps the bridge out (it retries with backoff and
//! says why), the right one lets it in, and the password never shows in anything logged. A file of
//! its own, because it installs a global log collector.

mod common;
#[path = "../../core/tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitaxe_core::config::MqttConfig;
use bitaxe_sim::Personality;
use common::*;
use support::{sims, Harness, DAY};

const USER: &str = "bitaxe";
const RIGHT: &str = "Right-Pa55word-7f3a";
const WRONG: &str = "Wrong-Pa55word-91c2";

/// Everything logged, at every level, from every crate (rumqttc's `log` records included).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_is_used_and_the_password_never_logged() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber in this test binary");

    let broker = Mosquitto::start_with(Some((USER, RIGHT)));
    let mut w = Watcher::start_as(broker.port, Some((USER, RIGHT))).await;
    let miners = sims(1, Personality::V2_14).await;
    let url = broker.url();
    let mut h = Harness::start(miners, DAY, move |c| {
        c.mqtt = Some(MqttConfig {
            url,
            username: Some(USER.into()),
            password: Some(WRONG.into()),
            ..MqttConfig::default()
        })
    })
    .await;
    h.expect_done(&["sim-1"]).await;
    let bridge = bitaxe_mqtt::spawn(h.engine.clone());

    // Refused: the reason is logged once, and nothing is published.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !log.text().contains("MQTT: mqtt://127.0.0.1") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no refusal logged: {}",
            log.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    w.drain();

    // The right password (a config edit) lets it in.
    let mut c = (*h.engine.config()).clone();
    if let Some(m) = c.mqtt.as_mut() {
        m.password = Some(RIGHT.into());
    }
    h.engine.save_config(c).expect("save");
    w.expect("online", 15, |m| m.topic == STATUS && m.text() == "online")
        .await;
    let node = node_of(&h.miners[0].mac());
    state_where(&mut w, &node, 10, |s| s["hashrate"].is_number()).await;
    assert!(bridge.stop().await);
    h.engine.shutdown(Duration::from_secs(5)).await;

    let text = log.text();
    assert!(text.contains("connected to mqtt://127.0.0.1"), "{text}");
    assert!(
        text.contains("refused") || text.contains("Refused") || text.contains("authori"),
        "{text}"
    );
    for secret in [RIGHT, WRONG] {
        assert!(!text.contains(secret), "a password was logged:\n{text}");
    }
    let _ = std::io::stderr().flush();
}
