//! The bridge against a real broker: Debian's `mosquitto`, started here on 127.0.0.1 with a free
//! port and killed at the end; a real engine driving simulated miners; a rumqttc subscriber that
//! sees what Home Assistant would see, and publishes what Home Assistant would send.

#[path = "../../core/tests/support/mod.rs"]
mod support;

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use bitaxe_sim::Personality;
use common::*;
use rumqttc::QoS;
use serde_json::Value;
use support::{sims, Harness, DAY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_states_birth_and_goodbye() {
    let broker = Mosquitto::start();
    let mut w = Watcher::start(broker.port).await;
    let miners = sims(2, Personality::V2_14).await;
    let mut h = Harness::start(miners, DAY, with_mqtt(broker.url())).await;
    h.expect_done(&["sim-1", "sim-2"]).await;
    let bridge = bitaxe_mqtt::spawn(h.engine.clone());

    let online = w.on(STATUS, 10).await;
    assert_eq!(online.text(), "online");

    let config = h.engine.config();
    let mut wanted: Vec<String> = h
        .miners
        .iter()
        .map(|m| discovery_topic(&node_of(&m.mac())))
        .collect();
    wanted.push(discovery_topic(FLEET));
    let announced = w.each(&wanted, 10).await;
    for sim in &h.miners {
        let node = node_of(&sim.mac());
        let d = announced[&discovery_topic(&node)].json();
        assert_eq!(d["dev"]["ids"], serde_json::json!([node]));
        assert_eq!(d["dev"]["name"], sim.name());
        assert_eq!(
            d["dev"]["cns"][0][1].as_str().expect("mac"),
            sim.mac().to_ascii_lowercase()
        );
        assert!(
            d["dev"]["mdl"]
                .as_str()
                .expect("model")
                .starts_with("Bitaxe"),
            "{d}"
        );
        assert_eq!(d["dev"]["sw"], "v2.14.1");
        assert_eq!(d["avty_mode"], "all");
        assert_eq!(d["avty"][0]["t"], STATUS);
        assert_eq!(d["stat_t"], state_topic(&node));
        let cmps = d["cmps"].as_object().expect("components");
        for (key, c) in cmps {
            assert_eq!(
                c["unique_id"],
                Value::from(key.as_str()),
                "stable unique ids"
            );
            assert!(key.starts_with(&node), "{key}");
        }
        let c = |k: &str| &cmps[&format!("{node}_{k}")];
        for (k, class, unit, state_class) in [
            ("power", Some("power"), Some("W"), Some("measurement")),
            (
                "energy",
                Some("energy"),
                Some("kWh"),
                Some("total_increasing"),
            ),
            ("temp", Some("temperature"), Some("°C"), Some("measurement")),
            (
                "vr_temp",
                Some("temperature"),
                Some("°C"),
                Some("measurement"),
            ),
            ("voltage", Some("voltage"), Some("V"), Some("measurement")),
            (
                "frequency",
                Some("frequency"),
                Some("MHz"),
                Some("measurement"),
            ),
            ("hashrate", None, Some("GH/s"), Some("measurement")),
            ("efficiency", None, Some("J/TH"), Some("measurement")),
            ("throttled", Some("problem"), None, None),
            ("stalled", Some("problem"), None, None),
            ("overheated", Some("heat"), None, None),
        ] {
            assert_eq!(c(k)["device_class"].as_str(), class, "{k}");
            assert_eq!(c(k)["unit_of_measurement"].as_str(), unit, "{k}");
            assert_eq!(c(k)["state_class"].as_str(), state_class, "{k}");
        }
        assert_eq!(c("profile")["p"], "select");
        let options: Vec<&str> = c("profile")["options"]
            .as_array()
            .expect("options")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for p in bitaxe_core::profiles::names(&config) {
            assert!(options.contains(&p.name()), "{options:?} lacks {p}");
        }
        assert_eq!(c("pause")["p"], "switch");
        assert_eq!(c("restart")["p"], "button");
    }
    let fleet = announced[&discovery_topic(FLEET)].json();
    let fc = fleet["cmps"].as_object().expect("fleet components");
    assert_eq!(fc[&format!("{FLEET}_power")]["device_class"], "power");
    assert_eq!(
        fc[&format!("{FLEET}_energy")]["state_class"],
        "total_increasing"
    );
    assert_eq!(fc[&format!("{FLEET}_profile")]["p"], "select");
    assert_eq!(fc[&format!("{FLEET}_pause")]["p"], "switch");
    assert_eq!(fc[&format!("{FLEET}_resume")]["p"], "button");

    // The numbers are the simulated miner's: day settings (1100 mV, 425 MHz), its power, and a
    // hashrate near what that clock gives.
    let sim = h.miners[0].clone();
    let node = node_of(&sim.mac());
    let avail_topic = format!("bitaxe-scheduler/{node}/availability");
    assert_eq!(w.on(&avail_topic, 10).await.text(), "online");
    // Retained: a subscriber that comes later gets it from the broker's store.
    let mut late = Watcher::start(broker.port).await;
    let avail = late.on(&avail_topic, 10).await;
    assert!(avail.retain && avail.text() == "online", "{avail:?}");
    drop(late);
    // The first states may carry the poll from before the move to day; the engine's next poll
    // sees the day clock, and so must the state.
    let nvs = sim.state().nvs;
    assert_eq!((nvs.core_voltage, nvs.frequency), (1100, 425.0));
    let s = state_where(&mut w, &node, 10, |s| s["frequency"] == nvs.frequency).await;
    assert!(
        (f(&s, "voltage") - f64::from(nvs.core_voltage) / 1000.0).abs() < 0.05,
        "{s}"
    );
    let power = sim.power();
    assert!(
        (f(&s, "power") - power).abs() / power < 0.2,
        "{s} vs {power} W"
    );
    let expected = sim.state().expected_hashrate();
    assert!(
        (f(&s, "hashrate") - expected).abs() / expected < 0.25,
        "{s} vs {expected} GH/s"
    );
    assert!(f(&s, "temp") > 20.0 && f(&s, "temp") < 90.0, "{s}");
    assert!((f(&s, "efficiency") - f(&s, "power") / (f(&s, "hashrate") / 1000.0)).abs() < 0.01);
    assert_eq!(s["state"], "online");
    assert_eq!(s["profile"], "day");
    assert_eq!(s["throttled"], "OFF");
    assert_eq!(s["paused"], "OFF");
    assert!(s.get("energy").is_some(), "{s}");
    let fleet_state = state_where(&mut w, FLEET, 10, |s| s["online"] == 2).await;
    assert!(f(&fleet_state, "hashrate") > 0.0);
    assert_eq!(fleet_state["profile"], "day");
    assert_eq!(fleet_state["paused"], "OFF");

    // Home Assistant restarts: its birth message brings every discovery payload again.
    w.drain();
    w.send("homeassistant/status", "online").await;
    w.each(&wanted, 10).await;

    // A clean stop says offline (retained, so a later subscriber sees it) within the deadline.
    let started = Instant::now();
    assert!(bridge.stop().await, "the bridge did not stop in time");
    assert!(started.elapsed() < Duration::from_secs(5));
    let off = w.on(STATUS, 5).await;
    assert_eq!(off.text(), "offline");
    let mut late = Watcher::start(broker.port).await;
    let kept = late.on(STATUS, 5).await;
    assert!(kept.retain && kept.text() == "offline", "{kept:?}");
    let kept = late.on(&discovery_topic(FLEET), 5).await;
    assert!(kept.retain, "discovery is retained");
    h.engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_go_through_the_engine() {
    let broker = Mosquitto::start();
    let mut w = Watcher::start(broker.port).await;
    let miners = sims(1, Personality::V2_14).await;
    let mut h = Harness::start(miners, DAY, with_mqtt(broker.url())).await;
    h.expect_done(&["sim-1"]).await;
    let sim = h.miners[0].clone();
    let node = node_of(&sim.mac());
    // A command someone left retained on the broker reaches the bridge from the broker's store
    // when it subscribes: it must not run (nor at any later reconnection).
    w.client
        .publish(
            command_topic(&node, "restart"),
            QoS::AtLeastOnce,
            true,
            "PRESS",
        )
        .await
        .expect("publish");
    w.on(&command_topic(&node, "restart"), 5).await;
    let bridge = bitaxe_mqtt::spawn(h.engine.clone());
    w.on(&discovery_topic(&node), 10).await;
    state_where(&mut w, &node, 10, |s| s["profile"] == "day").await;

    // The profile select: night on this miner, through the engine's transition.
    w.send(&command_topic(&node, "profile"), "night").await;
    h.expect("night on sim-1", 15, support::done("sim-1")).await;
    let nvs = sim.state().nvs;
    assert_eq!((nvs.core_voltage, nvs.frequency), (1200, 550.0));
    state_where(&mut w, &node, 10, |s| s["profile"] == "night").await;

    // An unknown profile, an unknown device and a bad payload are refused; nothing moves and
    // the bridge carries on.
    w.send(&command_topic(&node, "profile"), "turbo-max").await;
    w.send(&command_topic("bitaxe_000000000000", "pause"), "ON")
        .await;
    w.send(&command_topic(&node, "pause"), "perhaps").await;

    // The pause switch: mining pauses on the miner, and the state says so.
    w.send(&command_topic(&node, "pause"), "ON").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sim.paused() {
        assert!(Instant::now() < deadline, "the miner was not paused");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    state_where(&mut w, &node, 10, |s| s["paused"] == "ON").await;
    let nvs = sim.state().nvs;
    assert_eq!(
        (nvs.core_voltage, nvs.frequency),
        (1200, 550.0),
        "turbo-max was refused"
    );
    assert!(
        !sim.requests().iter().any(|r| r.path.contains("restart")),
        "a retained command must not run"
    );
    w.send(&command_topic(&node, "pause"), "OFF").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.paused() {
        assert!(Instant::now() < deadline, "the miner was not resumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the clock ramp back up before the next move. (The engine does not wait for this ramp
    // after a resume asked by the user, as it does after its own Off: lowering the settings
    // during the ramp browns the sim out. Reported as a core issue, not an MQTT one.)
    while {
        let s = sim.state();
        (s.actual_frequency - s.nvs.frequency).abs() > 1.0
    } {
        assert!(Instant::now() < deadline, "the clock did not ramp back up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The fleet's switch holds the schedule; its button goes back to plan (day again).
    w.send(&command_topic(FLEET, "pause"), "ON").await;
    state_where(&mut w, FLEET, 10, |s| s["paused"] == "ON").await;
    assert!(h.engine.status().paused);
    w.send(&command_topic(FLEET, "resume"), "PRESS").await;
    state_where(&mut w, FLEET, 10, |s| s["paused"] == "OFF").await;
    h.expect("day again on sim-1", 15, support::done("sim-1"))
        .await;
    let nvs = sim.state().nvs;
    assert_eq!((nvs.core_voltage, nvs.frequency), (1100, 425.0));
    assert!(h.engine.overrides().per_miner.is_empty());

    // The fleet select applies to every miner.
    w.send(&command_topic(FLEET, "profile"), "night").await;
    h.expect("fleet night", 15, support::done("sim-1")).await;
    assert_eq!(h.engine.status().profile.name(), "night");
    assert!(bridge.stop().await);
    h.engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_will_config_changes_and_reconnection() {
    let mut broker = Mosquitto::start();
    let mut w = Watcher::start(broker.port).await;
    let miners = sims(1, Personality::V2_14).await;
    let mut h = Harness::start(miners, DAY, with_mqtt(broker.url())).await;
    h.expect_done(&["sim-1"]).await;
    let node = node_of(&h.miners[0].mac());

    // A bridge whose process dies: its runtime is dropped without a goodbye, the socket closes,
    // and the broker publishes the last will.
    let engine = h.engine.clone();
    let (up_tx, up_rx) = std::sync::mpsc::channel::<()>();
    let (die_tx, die_rx) = tokio::sync::oneshot::channel::<()>();
    let doomed = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let _bridge = bitaxe_mqtt::spawn(engine);
            let _ = up_tx.send(());
            let _ = die_rx.await;
        });
        drop(rt);
    });
    up_rx.recv().expect("started");
    assert_eq!(w.on(STATUS, 10).await.text(), "online");
    w.on(&discovery_topic(&node), 10).await;
    let _ = die_tx.send(());
    doomed.join().expect("thread");
    assert_eq!(w.on(STATUS, 10).await.text(), "offline", "the last will");

    // A bridge that lives: the broker restarts (losing every retained message), the bridge
    // connects again with backoff and announces everything again.
    let bridge = bitaxe_mqtt::spawn(h.engine.clone());
    w.expect("online", 10, |m| m.topic == STATUS && m.text() == "online")
        .await;
    broker.kill();
    broker.launch();
    let mut w = Watcher::start(broker.port).await;
    w.expect("online again", 15, |m| {
        m.topic == STATUS && m.text() == "online"
    })
    .await;
    w.on(&discovery_topic(&node), 10).await;
    state_where(&mut w, &node, 10, |s| s["hashrate"].is_number()).await;

    // Another base topic in the config: goodbye on the old one, hello on the new one.
    let mut c = (*h.engine.config()).clone();
    if let Some(m) = c.mqtt.as_mut() {
        m.base_topic = Some("farm".into());
    }
    h.engine.save_config(c).expect("save");
    w.expect("offline on the old topic", 10, |m| {
        m.topic == STATUS && m.text() == "offline"
    })
    .await;
    w.expect("online on the new topic", 10, |m| {
        m.topic == "farm/status" && m.text() == "online"
    })
    .await;
    w.on(&format!("farm/{node}/state"), 10).await;

    // And without the key, the bridge leaves.
    let mut c = (*h.engine.config()).clone();
    c.mqtt = None;
    h.engine.save_config(c).expect("save");
    w.expect("offline", 10, |m| {
        m.topic == "farm/status" && m.text() == "offline"
    })
    .await;
    assert!(bridge.stop().await);
    h.engine.shutdown(Duration::from_secs(5)).await;
    let _ = std::io::stderr().flush();
}
