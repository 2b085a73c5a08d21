//! One-shot commands beside a running scheduler go through its local control socket: the real
//! binary runs as a daemon (no `--serve`), another process runs `--status`, `--apply night` and
//! `--resume`; the daemon's log shows it carried them out, the output is the usual one. After
//! the daemon is killed with SIGKILL (its socket left behind), the same commands act by
//! themselves again.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
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

fn log_text(dir: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("multi_bitaxe_scheduler.log")
        {
            all.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    all
}

fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shots_go_through_the_daemon_and_fall_back_when_it_is_gone() {
    let sims = bitaxe_sim::fleet("rig", 1, |s| s.speed = 20.0)
        .await
        .expect("sim");
    let dir = tempfile::tempdir().expect("dir");
    let config: PathBuf = dir.path().join("multi_scheduler_config.json");
    let cfg = serde_json::json!({
        "miners": [{"name": "rig-1", "ip": sims[0].url()}],
        "check_interval": 0.5,
        "temp_check_interval": 0.5,
        "transition_delay": 0.05,
        "retry_delay": 0.05,
        "timezone": zone_at_noon(),
    });
    std::fs::write(&config, cfg.to_string()).expect("config");
    let socket = dir.path().join("multi_scheduler_config.json.api.sock");
    let mut daemon = Daemon(
        bin(&config)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon"),
    );
    wait_for("the control socket", 20, || socket.exists());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&socket)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The daemon has polled the miner (its status shows the day profile running).
    wait_for("the first poll", 20, || {
        let o = bin(&config).arg("--status").output().expect("status");
        String::from_utf8_lossy(&o.stdout).contains("rig-1")
    });

    // --status from another process: the daemon's live status, through the socket.
    let o = bin(&config).arg("--status").output().expect("status");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("rig-1"), "{out}");
    assert!(
        !out.contains("API: listening"),
        "no TCP API was asked for: {out}"
    );
    wait_for("the status call in the daemon's log", 10, || {
        log_text(dir.path()).contains("API (local socket): GET /api/v1/overview -> 200")
    });

    // --apply night from another process: carried out by the daemon.
    let o = bin(&config)
        .args(["--apply", "night"])
        .output()
        .expect("apply");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains(&format!(
            "A scheduler is running on {}; it is applying night now.",
            config.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("Profile night applied to 1 miner(s)."),
        "{out}"
    );
    wait_for("the apply in the daemon's log", 10, || {
        log_text(dir.path()).contains("API (local socket): POST /api/v1/apply -> 200")
    });
    let nvs = sims[0].state().nvs;
    assert_eq!((nvs.core_voltage, nvs.frequency), (1200, 550.0));

    // A refusal reads as without a daemon: an unknown profile, exit 1, nothing done.
    let o = bin(&config)
        .args(["--apply", "turbo"])
        .output()
        .expect("apply");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(err.contains("Error: unknown profile \"turbo\""), "{err}");

    // --resume through the daemon knows a manual profile was in force.
    let o = bin(&config).arg("--resume").output().expect("resume");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert_eq!(
        out.trim(),
        "Manual profile cleared: the schedule drives the miners again."
    );
    wait_for("the resume in the daemon's log", 10, || {
        log_text(dir.path()).contains("API (local socket): POST /api/v1/resume -> 200")
    });

    // The daemon dies without cleaning up: its socket stays, its lock goes with it.
    daemon.0.kill().expect("kill -9");
    daemon.0.wait().expect("reaped");
    assert!(socket.exists(), "a SIGKILLed daemon leaves its socket");
    let before = log_text(dir.path());
    let o = bin(&config).arg("--status").output().expect("status");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("rig-1"), "{out}");
    let o = bin(&config)
        .args(["--apply", "day"])
        .output()
        .expect("apply");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(!out.contains("A scheduler is running"), "{out}");
    assert!(out.contains("Profile day applied to 1 miner(s)."), "{out}");
    let nvs = sims[0].state().nvs;
    assert_ne!((nvs.core_voltage, nvs.frequency), (1200, 550.0), "{nvs:?}");
    assert_eq!(
        log_text(dir.path()).matches("API (local socket)").count(),
        before.matches("API (local socket)").count(),
        "nothing went through a socket without a daemon"
    );
}
