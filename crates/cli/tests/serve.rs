//! `--serve` end to end: the real binary runs the scheduler with its API over a simulated miner;
//! a client reads the token from the file beside the config, reads the overview, applies night
//! and sees the sim follow; `--status` says where the API listens; `--rotate-token` replaces it.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};

fn bin(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bitaxe-scheduler"));
    c.arg("--config").arg(config);
    c
}

/// A fixed-offset zone in which it is about noon now, so the schedule says day.
fn zone_at_noon() -> String {
    let offset = 12 - Utc::now().hour() as i32;
    match offset {
        0 => "UTC".into(),
        // Etc/GMT-N is UTC+N.
        n if n > 0 => format!("Etc/GMT-{n}"),
        n => format!("Etc/GMT+{}", -n),
    }
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_then_apply_night_over_http() {
    let sims = bitaxe_sim::fleet("rig", 1, |s| s.speed = 20.0)
        .await
        .expect("sim");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("multi_scheduler_config.json");
    let cfg = serde_json::json!({
        "miners": [{"name": "rig-1", "ip": sims[0].url()}],
        "check_interval": 0.5,
        "temp_check_interval": 0.5,
        "transition_delay": 0.05,
        "retry_delay": 0.05,
        "timezone": zone_at_noon(),
    });
    std::fs::write(&config, cfg.to_string()).expect("config");
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let _daemon = Daemon(
        bin(&config)
            .arg("--serve")
            .arg(&addr)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon"),
    );
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    // Up when the token exists and the version answers with it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let token = loop {
        assert!(Instant::now() < deadline, "the API never came up");
        if let Ok(t) =
            std::fs::read_to_string(dir.path().join("multi_scheduler_config.json.api-token"))
        {
            let t = t.trim().to_string();
            let r = http
                .get(format!("{base}/api/v1/version"))
                .bearer_auth(&t)
                .send()
                .await;
            if r.is_ok_and(|r| r.status().is_success()) {
                break t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(token.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir.path().join("multi_scheduler_config.json.api-token"))
            .expect("meta");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let r = http
        .get(format!("{base}/api/v1/overview"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    let overview: serde_json::Value = http
        .get(format!("{base}/api/v1/overview"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(overview["miners"][0]["name"], "rig-1");
    assert_eq!(overview["profile"], "day");

    // --status beside the daemon says where the API listens.
    let out = bin(&config).arg("--status").output().expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("API: listening on http://{addr}")),
        "{text}"
    );

    let r = http
        .post(format!("{base}/api/v1/apply"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"profile": "night"}))
        .send()
        .await
        .expect("send");
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let nvs = sims[0].state().nvs;
        if nvs.core_voltage == 1200 && nvs.frequency == 550.0 {
            break;
        }
        assert!(Instant::now() < deadline, "the sim stayed at {nvs:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The token is never written to the log.
    let mut logs = 0;
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        let entry = entry.expect("entry");
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("multi_bitaxe_scheduler.log")
        {
            logs += 1;
            let text = std::fs::read_to_string(entry.path()).expect("log");
            assert!(text.contains("API listening on"), "{text}");
            assert!(!text.contains(&token), "the token is in the log");
        }
    }
    assert!(logs > 0, "no log file");
}

#[test]
fn rotate_token_prints_the_new_control_token_once() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("c.json");
    let run = || {
        let out = bin(&config).arg("--rotate-token").output().expect("run");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let first = run();
    assert_eq!(first.len(), 64);
    let on_disk = std::fs::read_to_string(dir.path().join("c.json.api-token")).expect("file");
    assert_eq!(on_disk.trim(), first);
    assert!(dir.path().join("c.json.api-read-token").exists());
    let second = run();
    assert_ne!(first, second);
}
