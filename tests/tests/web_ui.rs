//! The web UI the daemon serves, in a real browser: the UI bundle is built (`scripts/ui.sh`), the
//! scheduler runs with `--serve 127.0.0.1:0` over simulated miners, and `ui/e2e/web.mjs` drives
//! headless Chromium through playwright-core: sign in with the control token, see the fleet,
//! apply night and see the sim follow, sign out, sign in with the read token and find the
//! controls disabled, every view at 390 px without a horizontal scroll, and the page's headers
//! (CSP, caching). Needs node and chromium (`scripts/setup.sh` installs them). Every process it
//! starts runs in a [`Group`] killed whole when the test ends or panics; the test checks that
//! nothing of it is left.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use bitaxe_e2e::process::Group;
use bitaxe_e2e::{binary, wait_until};
use bitaxe_sim::{Personality, SimMiner};
use chrono::{Timelike, Utc};
use serde_json::json;

const NIGHT: (u32, f64) = (1200, 550.0);

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn artifacts() -> PathBuf {
    let dir = std::env::var("E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("artifacts/screenshots/web"));
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

fn need(program: &str, path: &str) {
    assert!(
        Path::new(path).exists()
            || Command::new(program)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        "{program} is missing: run ./scripts/setup.sh, which installs it"
    );
}

/// A config whose day window surrounds now (so night is a change), with fast intervals.
fn write_config(dir: &Path, miners: &[SimMiner]) -> PathBuf {
    let h = Utc::now().hour();
    let hm = |h: u32| format!("{:02}:00", h % 24);
    let config = json!({
        "miners": miners.iter().map(|m| json!({"name": m.name(), "ip": m.url(), "enabled": true,
            "day_settings": null, "night_settings": null})).collect::<Vec<_>>(),
        "global_day_settings": {"start_time": hm(h + 23), "end_time": hm(h + 2), "voltage": 1100, "frequency": 425},
        "global_night_settings": {"start_time": hm(h + 2), "end_time": hm(h + 23), "voltage": NIGHT.0, "frequency": NIGHT.1},
        "timezone": "UTC", "check_interval": 0.5, "temp_check_interval": 0.5, "log_stats_interval": 2,
        "transition_steps": 2, "transition_delay": 0.1, "retry_delay": 0.1
    });
    let path = dir.join("multi_scheduler_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&config).expect("json")).expect("config");
    path
}

fn read_trimmed(path: &Path) -> Option<String> {
    let t = std::fs::read_to_string(path).ok()?;
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_ui_in_a_real_browser_against_the_daemon() {
    need("node", "/usr/bin/node");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    need("chromium", &chromium);
    let status = Command::new("bash")
        .arg(root().join("scripts/ui.sh"))
        .status()
        .expect("run scripts/ui.sh");
    assert!(status.success(), "building the UI (scripts/ui.sh) failed");
    let ui_dist = root().join("ui/dist");

    let sims = bitaxe_sim::fleet("rig", 2, |s| {
        s.personality = Personality::V2_14;
        s.speed = 20.0;
    })
    .await
    .expect("sims");
    let dir = tempfile::tempdir().expect("dir");
    let config = write_config(dir.path(), &sims);
    let mut daemon = Group::spawn({
        let mut c = Command::new(binary("bitaxe-scheduler", "bitaxe-scheduler"));
        c.arg("--config")
            .arg(&config)
            .args(["--serve", "127.0.0.1:0"])
            .env("BITAXE_UI_DIR", &ui_dist)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    })
    .expect("daemon");
    let with = |suffix: &str| {
        dir.path()
            .join(format!("multi_scheduler_config.json{suffix}"))
    };
    let (addr, control, read) = wait_until("the API to listen", Duration::from_secs(30), || {
        Some((
            read_trimmed(&with(".api-addr"))?,
            read_trimmed(&with(".api-token"))?,
            read_trimmed(&with(".api-read-token"))?,
        ))
    });
    let sims_json = json!(sims
        .iter()
        .map(|m| json!({"name": m.name(), "url": m.url()}))
        .collect::<Vec<_>>());
    let out = artifacts();
    let mut browser = Group::spawn({
        let mut c = Command::new("node");
        c.arg(root().join("ui/e2e/web.mjs"))
            .current_dir(root().join("ui"))
            // `FILE.api-addr` holds the URL (`http://ADDR:PORT`), a fingerprint under it with TLS.
            .env("BASE", addr.lines().next().unwrap_or_default())
            .env("CONTROL", &control)
            .env("READ", &read)
            .env("SIMS", sims_json.to_string())
            .env(
                "NIGHT",
                json!({"voltage": NIGHT.0, "frequency": NIGHT.1}).to_string(),
            )
            .env("OUT", &out)
            .env("CHROMIUM", &chromium);
        c
    })
    .expect("node ui/e2e/web.mjs");
    let finished = wait_until("the browser run", Duration::from_secs(240), || {
        browser.try_wait()
    });
    let left = browser.kill();
    assert!(left.is_empty(), "browser processes left: {left:?}");
    assert!(
        finished.success(),
        "the web UI run failed ({finished}); see its output above"
    );
    // The sim really is at night (checked from here too, not only by the page's script).
    let s = sims[0].state();
    assert_eq!((s.nvs.core_voltage, s.nvs.frequency), NIGHT);
    let left = daemon.kill();
    assert!(left.is_empty(), "scheduler processes left: {left:?}");
    for shot in [
        "fleet-phone-light.png",
        "fleet-phone-dark.png",
        "settings-desktop-dark.png",
    ] {
        assert!(out.join(shot).is_file(), "screenshot {shot} missing");
    }
}
