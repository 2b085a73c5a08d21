//! `bitaxe-scheduler` as a user runs it, against simulated miners on loopback.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use bitaxe_e2e::{binary, wait_until};
use bitaxe_sim::{Faults, Personality, SimMiner};
use chrono::{Timelike, Utc};
use serde_json::{json, Value};

fn exe() -> PathBuf {
    binary("bitaxe-scheduler", "bitaxe-scheduler")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bitaxe_e2e::scheduler(dir, args)
}

fn text(o: &Output) -> (String, String) {
    bitaxe_e2e::output_text(o)
}

async fn sims(n: usize) -> Vec<SimMiner> {
    bitaxe_sim::fleet("sim", n, |s| {
        s.personality = Personality::V2_14;
        s.speed = 20.0;
    })
    .await
    .expect("sims")
}

/// A config whose day window surrounds the current UTC time, with fast intervals.
fn write_config(dir: &Path, miners: &[SimMiner], extra: Value) -> PathBuf {
    let h = Utc::now().hour();
    let hm = |h: u32| format!("{:02}:00", h % 24);
    let mut v = json!({
        "miners": miners.iter().map(|m| json!({"name": m.name(), "ip": m.url(), "enabled": true,
            "day_settings": null, "night_settings": null})).collect::<Vec<_>>(),
        "global_day_settings": {"start_time": hm(h + 23), "end_time": hm(h + 2), "voltage": 1100, "frequency": 425},
        "global_night_settings": {"start_time": hm(h + 2), "end_time": hm(h + 23), "voltage": 1200, "frequency": 550},
        "timezone": "UTC",
        "check_interval": 0.5, "temp_check_interval": 0.5, "log_stats_interval": 1,
        "transition_steps": 2, "transition_delay": 0.1, "retry_delay": 0.1
    });
    if let (Some(base), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        for (k, val) in more {
            base.insert(k.clone(), val.clone());
        }
    }
    let path = dir.join("multi_scheduler_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&v).expect("json")).expect("write config");
    path
}

fn settings(m: &SimMiner) -> (u32, f64) {
    let s = m.state();
    (s.nvs.core_voltage, s.nvs.frequency)
}

/// Wait until every miner reports `want`.
fn all_at(miners: &[SimMiner], want: (u32, f64), what: &str) {
    wait_until(what, Duration::from_secs(20), || {
        miners.iter().all(|m| settings(m) == want).then_some(())
    });
}

struct Daemon(Child);

impl Daemon {
    fn start(dir: &Path) -> Daemon {
        Daemon(
            Command::new(exe())
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("daemon"),
        )
    }

    /// SIGTERM, then wait for a clean exit.
    fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        wait_until("daemon exit", Duration::from_secs(20), || {
            self.0.try_wait().ok().flatten()
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

#[test]
fn a_fresh_folder_gets_the_default_config_and_seed_style_miner_commands() {
    let dir = tempfile::tempdir().expect("dir");
    let o = run(dir.path(), &["--list-miners"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.starts_with("Created default configuration at multi_scheduler_config.json"),
        "{out}"
    );
    assert!(out.ends_with("Configured Miners:\n"), "{out:?}");
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("multi_scheduler_config.json")).expect("cfg"),
    )
    .expect("json");
    assert_eq!(config["miners"], json!([]));
    assert!(
        config["max_power"].as_f64().unwrap_or(0.0) >= 25.0,
        "defaults fit a real Gamma"
    );

    assert!(run(dir.path(), &["--add-miner", "office", "127.0.0.1"])
        .status
        .success());
    assert!(run(dir.path(), &["--add-miner", "attic", "127.0.0.2:8080"])
        .status
        .success());
    assert!(
        run(dir.path(), &["--add-miner", "shed", "http://127.0.0.3:81"])
            .status
            .success()
    );
    assert!(run(dir.path(), &["--disable-miner", "attic"])
        .status
        .success());
    let (out, _) = text(&run(dir.path(), &["--list-miners"]));
    assert_eq!(
        out,
        "Configured Miners:\n  office: http://127.0.0.1 [Enabled]\n  attic: http://127.0.0.2:8080 [Disabled]\n  shed: http://127.0.0.3:81 [Enabled]\n"
    );
    assert!(run(dir.path(), &["--enable-miner", "attic"])
        .status
        .success());

    // Bad input: one clear line, non-zero, nothing written.
    let path = dir.path().join("multi_scheduler_config.json");
    let before = std::fs::read(&path).expect("read");
    for (args, needle) in [
        (vec!["--add-miner", "office", "127.0.0.9"], "already exists"),
        (
            vec!["--add-miner", "x", "https://127.0.0.9"],
            "expected IP, IP:PORT or http://HOST[:PORT]",
        ),
        (
            vec!["--disable-miner", "nobody"],
            "unknown miner \"nobody\" (configured: office, attic, shed)",
        ),
        (
            vec!["--plan", "--at", "tomorrow"],
            "expected YYYY-MM-DDTHH:MM",
        ),
        (vec!["--apply", "dusk"], "unknown profile"),
    ] {
        let o = run(dir.path(), &args);
        let (_, err) = text(&o);
        assert!(!o.status.success(), "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            before,
            "{args:?} changed the file"
        );
    }
}

#[test]
fn a_malformed_config_names_the_line_and_field_and_is_left_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    let broken = "{\n  // mine\n  \"max_temp\": 70,\n  \"global_day_settings\": {\"voltage\": \"high\"}\n}\n";
    std::fs::write(&path, broken).expect("write");
    let o = run(dir.path(), &["--status"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("line 4") && err.contains("global_day_settings.voltage"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), broken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_the_seed_table_with_offline_and_throttled_miners() {
    let miners = sims(3).await;
    miners[2].set_faults(Faults {
        offline: true,
        ..Faults::default()
    });
    miners[2].settle().await;
    let dir = tempfile::tempdir().expect("dir");
    // The seed's max_power of 15 W: a stock Gamma (about 19 W) is over it, and --status says so.
    write_config(dir.path(), &miners, json!({"max_power": 15}));
    let o = run(dir.path(), &["--status"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    for col in [
        "Name",
        "Status",
        "Hashrate",
        "Temp",
        "Power",
        "Efficiency",
        "Settings",
    ] {
        assert!(lines[0].contains(col), "{col}: {}", lines[0]);
    }
    let row = lines
        .iter()
        .find(|l| l.starts_with("sim-1"))
        .expect("sim-1 row");
    assert!(
        row.contains("Throttled")
            && row.contains(" GH/s")
            && row.contains(" J/TH")
            && row.contains("1150mV @ 525MHz"),
        "{row}"
    );
    let off = lines
        .iter()
        .find(|l| l.starts_with("sim-3"))
        .expect("sim-3 row");
    assert!(off.contains("Offline") && off.contains("--"), "{off}");
    assert!(
        lines.iter().any(|l| l.starts_with("TOTAL: 2/3 online | ")),
        "{out}"
    );
    assert!(
        out.contains("sim-1: Throttled because") && out.contains("above max_power 15 W"),
        "{out}"
    );
    assert!(miners[0].patches().is_empty(), "--status never writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_night_reaches_every_miner_and_names_the_ones_that_did_not() {
    let miners = sims(3).await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(dir.path(), &miners, json!({}));
    let o = run(dir.path(), &["--apply", "night"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("Profile night applied to 3 miner(s)."),
        "{out}"
    );
    for m in &miners {
        assert_eq!(settings(m), (1200, 550.0));
        let p = m.patches();
        assert_eq!(p.len(), 4, "2 steps x (voltage, frequency): {p:?}");
        assert!(p[0].get("coreVoltage").is_some() && p[1].get("frequency").is_some());
    }
    miners[1].set_faults(Faults {
        offline: true,
        ..Faults::default()
    });
    miners[1].settle().await;
    let o = run(dir.path(), &["--apply", "day"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("not applied to: sim-2 (connection refused"),
        "{err}"
    );
    assert_eq!(settings(&miners[0]), (1100, 425.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_prints_each_miner_at_a_local_time_without_contacting_it() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    let path = write_config(
        dir.path(),
        &miners,
        json!({
            "global_day_settings": {"start_time": "07:30", "end_time": "20:00", "voltage": 1100, "frequency": 425},
            "global_night_settings": {"start_time": "20:00", "end_time": "07:30", "voltage": 1200, "frequency": 550}
        }),
    );
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    cfg["miners"][1]["night_settings"] = json!({"voltage": 1180});
    std::fs::write(&path, cfg.to_string()).expect("write");
    let (out, _) = text(&run(dir.path(), &["--plan", "--at", "2026-11-25T22:00"]));
    assert_eq!(
        out,
        "sim-1  night  1200 mV  550 MHz\nsim-2  night  1180 mV  550 MHz\n"
    );
    let (out, _) = text(&run(dir.path(), &["--plan", "--at", "2026-11-25T12:00"]));
    assert_eq!(
        out,
        "sim-1  day    1100 mV  425 MHz\nsim-2  day    1100 mV  425 MHz\n"
    );
    assert!(miners.iter().all(|m| m.requests().is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_schedules_logs_keeps_stats_and_stops_cleanly() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(dir.path(), &miners, json!({}));
    let daemon = Daemon::start(dir.path());
    all_at(&miners, (1100, 425.0), "day applied");
    let log_path = dir.path().join("multi_bitaxe_scheduler.log");
    let log = wait_until("log lines", Duration::from_secs(10), || {
        let t = std::fs::read_to_string(&log_path).ok()?;
        // The transition ends once the miner confirms the settings, a moment after it stores them.
        (t.contains("[sim-2] now at 1100mV @ 425MHz") && t.contains("TOTAL: 2/2 online"))
            .then_some(t)
    });
    assert!(log.contains("[sim-1]"), "{log}");
    // A second scheduler on the same config refuses.
    let o = run(dir.path(), &[]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("already running"), "{err}");
    assert!(daemon.stop().success());
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("multi_bitaxe_stats.json")).expect("stats"),
    )
    .expect("json");
    assert!(stats["timestamp"].is_string());
    let day = &stats["miners"]["sim-1"]["day_performance"];
    assert!(
        day["samples"].as_u64().unwrap_or(0) >= 1
            && day["avg_hashrate"].as_f64().unwrap_or(0.0) > 0.0,
        "{stats}"
    );
    assert!(day.get("avg_power").is_some());
    assert!(std::fs::read_to_string(&log_path)
        .expect("log")
        .contains("Scheduler stopped"));
    assert!(dir.path().join("bitaxe_history.sqlite").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_stop_beside_a_running_daemon_sticks_until_resume() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(dir.path(), &miners, json!({}));
    let daemon = Daemon::start(dir.path());
    all_at(&miners, (1100, 425.0), "day applied");
    let o = run(dir.path(), &["--emergency-stop"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("stays in force until `bitaxe-scheduler --resume`"),
        "{out}"
    );
    assert!(miners.iter().all(|m| settings(m) == (1100, 400.0)));
    // The running scheduler does not undo it.
    std::thread::sleep(Duration::from_secs(2));
    assert!(miners.iter().all(|m| settings(m) == (1100, 400.0)));
    // --apply is refused while the stop holds.
    let o = run(dir.path(), &["--apply", "night"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("--resume"));
    assert!(run(dir.path(), &["--resume"]).status.success());
    all_at(&miners, (1100, 425.0), "schedule back");
    // --apply beside a running daemon: the daemon carries it out.
    let o = run(dir.path(), &["--apply", "night"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("A scheduler is running"), "{out}");
    assert!(miners.iter().all(|m| settings(m) == (1200, 550.0)));
    assert!(daemon.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_without_miners_keeps_running_and_picks_up_new_ones() {
    let miners = sims(1).await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(dir.path(), &[], json!({}));
    let daemon = Daemon::start(dir.path());
    std::thread::sleep(Duration::from_millis(800));
    let url = miners[0].url();
    assert!(run(dir.path(), &["--add-miner", "late", &url])
        .status
        .success());
    wait_until("new miner scheduled", Duration::from_secs(20), || {
        (settings(&miners[0]) == (1100, 425.0)).then_some(())
    });
    assert!(daemon.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_file_with_comments_is_used_as_it_is() {
    let miners = sims(1).await;
    let dir = tempfile::tempdir().expect("dir");
    let seed = format!(
        "{{\n  // my fleet\n  \"miners\": [{{\"name\": \"bitaxe-1\", \"ip\": \"{}\", \"enabled\": true, \"day_settings\": null, \"night_settings\": null}}],\n  /* profiles */\n  \"global_day_settings\": {{\"start_time\": \"07:30\", \"end_time\": \"20:00\", \"voltage\": 1150, \"frequency\": 450}},\n  \"global_night_settings\": {{\"start_time\": \"20:00\", \"end_time\": \"07:30\", \"voltage\": 1250, \"frequency\": 575}},\n  \"max_voltage\": 1300, \"max_frequency\": 600, \"max_temp\": 70, \"max_power\": 15,\n  \"check_interval\": 60, \"temp_check_interval\": 30, \"log_stats_interval\": 300,\n  \"smooth_transition\": true, \"transition_steps\": 5, \"transition_delay\": 10,\n  \"parallel_operations\": true, \"max_workers\": 5, \"retry_attempts\": 3, \"retry_delay\": 5\n}}\n",
        miners[0].url()
    );
    let path = dir.path().join("multi_scheduler_config.json");
    std::fs::write(&path, &seed).expect("write");
    for args in [
        vec!["--list-miners"],
        vec!["--status"],
        vec!["--plan", "--at", "2026-01-01T23:00"],
    ] {
        let o = run(dir.path(), &args);
        assert!(o.status.success(), "{args:?}: {}", text(&o).1);
    }
    let (out, _) = text(&run(dir.path(), &["--plan", "--at", "2026-01-01T23:00"]));
    assert!(out.contains("bitaxe-1  night  1250 mV  575 MHz"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        seed,
        "read-only commands never rewrite the file"
    );
}

/// The state file's place is taken by a non-empty directory: it can be neither read nor
/// replaced, by root either.
fn block_state_file(dir: &Path) {
    let state = dir.join("multi_scheduler_config.json.state.json");
    std::fs::create_dir(&state).expect("dir");
    std::fs::write(state.join("x"), "x").expect("file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_stop_reaches_every_miner_with_a_bad_config_and_an_unwritable_state_file() {
    let miners = sims(3).await;
    let dir = tempfile::tempdir().expect("dir");
    // A day voltage far out of range: every other command refuses this config.
    write_config(
        dir.path(),
        &miners,
        json!({
            "global_day_settings": {"start_time": "07:00", "end_time": "20:00", "voltage": 9999, "frequency": 425},
            "safe_settings": {"voltage": 1050, "frequency": 350}
        }),
    );
    block_state_file(dir.path());
    let o = run(dir.path(), &["--status"]);
    assert!(!o.status.success(), "the config is invalid");
    let o = run(dir.path(), &["--emergency-stop"]);
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(3),
        "reached but not saved: {out}{err}"
    );
    for m in &miners {
        assert_eq!(
            settings(m),
            (1050, 350.0),
            "{} on the config's safe settings",
            m.name()
        );
    }
    assert!(out.contains("applied to 3 miner(s)"), "{out}");
    assert!(
        err.contains("global_day_settings.voltage"),
        "names the problem: {err}"
    );
    assert!(
        err.contains("ERROR:") && err.contains("could not be saved"),
        "{err}"
    );
    assert!(!out.contains("stays in force"), "{out}");
    // Loudly in the scheduler's log as well.
    let log =
        std::fs::read_to_string(dir.path().join("multi_bitaxe_scheduler.log")).unwrap_or_default();
    assert!(
        log.contains("ERROR") && log.contains("could not be saved"),
        "the log says so: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_stop_moves_a_corrupt_state_file_aside_and_saves_the_stop() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(dir.path(), &miners, json!({}));
    let state = dir.path().join("multi_scheduler_config.json.state.json");
    std::fs::write(&state, "{\"manual\": {\"profile\": \"ni").expect("corrupt");
    let o = run(dir.path(), &["--emergency-stop"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(err.contains("corrupt") && err.contains("moved to"), "{err}");
    assert!(miners.iter().all(|m| settings(m) == (1100, 400.0)));
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
    assert_eq!(saved["emergency"], true);
    let aside = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("multi_scheduler_config.json.state.json.corrupt-")
        });
    assert!(aside, "the corrupt file is kept beside it");
    let (out, _) = text(&run(dir.path(), &["--status"]));
    assert!(out.contains("Emergency stop in force"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_also_clears_a_profile_applied_to_one_miner() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(dir.path(), &miners, json!({}));
    let o = run(dir.path(), &["--apply", "night", "--miner", "sim-2"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("Profile night applied to 1 miner(s)."),
        "{out}"
    );
    assert_eq!(settings(&miners[1]), (1200, 550.0));
    assert!(miners[0].patches().is_empty(), "only the named miner");
    let state = dir.path().join("multi_scheduler_config.json.state.json");
    let read = || -> Value {
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json")
    };
    assert_eq!(read()["per_miner"]["sim-2"]["profile"], "night");
    let (out, _) = text(&run(dir.path(), &["--resume"]));
    assert!(out.contains("Manual profile cleared"), "{out}");
    assert_eq!(read()["per_miner"], json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_finding_a_corrupt_state_file_holds_the_miners_until_resumed() {
    let miners = sims(2).await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(dir.path(), &miners, json!({}));
    let state = dir.path().join("multi_scheduler_config.json.state.json");
    std::fs::write(&state, "{\"emergency\": tr").expect("corrupt");
    let before: Vec<(u32, f64)> = miners.iter().map(settings).collect();
    let daemon = Daemon::start(dir.path());
    let log_path = dir.path().join("multi_bitaxe_scheduler.log");
    let log = wait_until("the pause is logged", Duration::from_secs(10), || {
        let t = std::fs::read_to_string(&log_path).ok()?;
        t.contains("until you resume").then_some(t)
    });
    assert!(log.contains("corrupt") && log.contains("moved to"), "{log}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        miners.iter().all(|m| m.patches().is_empty()),
        "no raises while paused"
    );
    assert_eq!(miners.iter().map(settings).collect::<Vec<_>>(), before);
    let (out, _) = text(&run(dir.path(), &["--status"]));
    assert!(out.contains("Paused: the scheduler state"), "{out}");
    assert!(run(dir.path(), &["--resume"]).status.success());
    all_at(&miners, (1100, 425.0), "the schedule drives again");
    assert!(daemon.stop().success());
}
