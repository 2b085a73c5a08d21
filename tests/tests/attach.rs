//! The desktop app attached to a scheduler in another process: `bitaxe-scheduler --serve` on
//! loopback drives a simulated miner; the real app (under Xvfb, a private D-Bus session, driven
//! through tauri-driver like tests/desktop.rs) connects to it from its first-run page, adds the
//! miner, applies night, and the sim follows; the miner goes offline and the desktop's native
//! notification says so (from the daemon's events); the daemon is killed and the window says
//! the link is lost and keeps its data; the daemon comes back and the link with it.
//! The app's own config stays untouched: everything went to the daemon's.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use bitaxe_e2e::desktop::{self, free_port, Desktop};
use bitaxe_e2e::process::Group;
use bitaxe_e2e::webdriver::Session;
use bitaxe_e2e::{binary, wait_until};
use bitaxe_sim::{Faults, Personality};
use chrono::{Timelike, Utc};
use serde_json::json;

/// Day now (until two hours from now), night after; no miners yet.
async fn shot(s: &Session, name: &str) {
    desktop::shot(s, &format!("attach-{name}")).await;
}

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

/// `bitaxe-scheduler --serve` on `port` for `config`, up when its version answers the token.
async fn daemon(config: &Path, port: u16) -> (Group, String) {
    let mut cmd = Command::new(binary("bitaxe-scheduler", "bitaxe-scheduler"));
    cmd.arg("--config")
        .arg(config)
        .arg("--serve")
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(config.parent().expect("dir"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let group = Group::spawn(cmd).expect("daemon");
    let token_file = config.with_file_name("multi_scheduler_config.json.api-token");
    let http = reqwest::Client::new();
    let mut token = String::new();
    for _ in 0..200 {
        if let Ok(t) = std::fs::read_to_string(&token_file) {
            token = t.trim().to_string();
            let up = http
                .get(format!("http://127.0.0.1:{port}/api/v1/version"))
                .bearer_auth(&token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return (group, token);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the daemon's API never came up (token {})",
        !token.is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_to_a_daemon_add_a_miner_apply_night_and_get_notified() {
    let app = binary("bitaxe-desktop", "bitaxe-fleet");
    let miners = bitaxe_sim::fleet("sim", 1, |s| {
        s.personality = Personality::V2_14;
        s.speed = 10.0;
    })
    .await
    .expect("sims");
    let miner = &miners[0];

    // The scheduler, in its own folder and process.
    let pi = tempfile::tempdir().expect("daemon dir");
    let daemon_config = pi.path().join("multi_scheduler_config.json");
    write_config(&daemon_config);
    let port = free_port();
    let (mut sched, token) = daemon(&daemon_config, port).await;

    // The desktop app with a config of its own (which must stay as it is).
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("multi_scheduler_config.json");
    write_config(&config);
    let own_before = std::fs::read_to_string(&config).expect("own config");

    let Desktop {
        mut x,
        mut driver,
        monitor_log,
        session: s,
    } = Desktop::launch(dir.path(), &app, &config).await;

    // First run offers to connect; the form takes the address and the token.
    s.click("#first-connect").await.expect("first-run connect");
    s.fill("#connect-address", &format!("127.0.0.1:{port}"))
        .await
        .expect("address");
    s.fill("#connect-token", "wrong-token")
        .await
        .expect("token");
    s.click("#connect-btn").await.expect("connect");
    let refused = s
        .wait_text("#connect-message", Duration::from_secs(10), |t| {
            !t.is_empty()
        })
        .await
        .expect("a wrong token is refused");
    assert!(refused.contains("refused the token"), "{refused}");
    s.fill("#connect-token", &token).await.expect("token");
    s.click("#connect-btn").await.expect("connect");
    let host = format!("127.0.0.1:{port}");
    s.wait_text("#connection", Duration::from_secs(20), |t| {
        t == format!("Attached to {host}")
    })
    .await
    .expect("attached chip");
    shot(&s, "attached").await;

    // Add the miner: the probe and the save run on the daemon.
    s.wait("#first-add", Duration::from_secs(20))
        .await
        .expect("the daemon's empty fleet shows the first-run page");
    s.click("#first-add").await.expect("add");
    s.fill("#add-name", "office").await.expect("name");
    s.fill("#add-address", &miner.url()).await.expect("address");
    s.click("#probe-btn").await.expect("probe");
    s.wait_text("#probe-result", Duration::from_secs(10), |t| {
        t.contains("BM1370")
    })
    .await
    .expect("probe result");
    s.click("#save-miner").await.expect("save");
    wait_until(
        "the daemon's config has the miner",
        Duration::from_secs(10),
        || {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&daemon_config).ok()?).ok()?;
            (v["miners"][0]["name"] == "office").then_some(())
        },
    );
    s.click("a[data-view='fleet']").await.expect("fleet nav");
    s.wait_text(
        "tr[data-miner='office'] .badge",
        Duration::from_secs(20),
        |t| t == "Online" || t == "Transitioning",
    )
    .await
    .expect("online");
    wait_until("day applied by the daemon", Duration::from_secs(20), || {
        (miner.state().nvs.frequency == 425.0).then_some(())
    });

    // Apply night now (with its confirmation): the daemon writes it to the sim.
    s.click("a[data-view='schedule']")
        .await
        .expect("schedule nav");
    s.click("#apply-night").await.expect("apply night");
    let dialog = s.text(".dialog p").await.expect("dialog text");
    assert!(dialog.contains("1200 mV @ 550 MHz"), "{dialog}");
    s.click("#confirm-ok").await.expect("confirm");
    wait_until("night on the sim", Duration::from_secs(20), || {
        let st = miner.state();
        (st.nvs.core_voltage == 1200 && st.nvs.frequency == 550.0).then_some(())
    });
    s.click("a[data-view='fleet']").await.expect("fleet nav");
    s.wait_text("#profile-now", Duration::from_secs(10), |t| {
        t.to_lowercase().contains("night")
    })
    .await
    .expect("the top bar shows night");
    shot(&s, "night").await;

    // The miner goes offline: the daemon's event reaches the desktop's notifications.
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
    s.wait_text(
        "tr[data-miner='office'] .badge",
        Duration::from_secs(10),
        |t| t == "Offline",
    )
    .await
    .expect("offline badge");
    miner.set_faults(Faults::default());
    miner.settle().await;

    // The daemon dies: the window says so, keeps its table, and comes back with the daemon.
    assert_eq!(sched.kill(), Vec::<u32>::new(), "daemon gone");
    s.wait_text("#connection", Duration::from_secs(60), |t| {
        t.contains("lost") && t.contains("retrying in")
    })
    .await
    .expect("lost chip");
    s.find("tr[data-miner='office']")
        .await
        .expect("the fleet table keeps its last data");
    shot(&s, "lost").await;
    let (_sched, _) = daemon(&daemon_config, port).await;
    s.wait_text("#connection", Duration::from_secs(30), |t| {
        t == format!("Attached to {host}")
    })
    .await
    .expect("attached again");
    s.wait_text(
        "tr[data-miner='office'] .badge",
        Duration::from_secs(30),
        |t| t == "Online" || t == "Transitioning",
    )
    .await
    .expect("live again after the reconnect");
    shot(&s, "back").await;
    s.end().await;

    assert_eq!(
        std::fs::read_to_string(&config).expect("own config"),
        own_before,
        "the app's own config is untouched while attached"
    );
    assert_eq!(driver.kill(), Vec::<u32>::new(), "driver processes left");
    assert_eq!(x.kill(), Vec::<u32>::new(), "Xvfb left");
}
