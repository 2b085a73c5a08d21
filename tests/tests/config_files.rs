//! The config file as a user keeps it, through `bitaxe-scheduler`: comments, key order, a
//! symlinked file and its mode survive the CLI's edits; a typo is named with a suggestion; and a
//! kill -9 in the middle of `--disable-miner`/`--enable-miner` never leaves a broken file.
//! No miner is contacted (these commands only edit the file).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bitaxe_e2e::binary;

fn exe() -> PathBuf {
    static EXE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    EXE.get_or_init(|| binary("bitaxe-scheduler", "bitaxe-scheduler"))
        .clone()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(exe())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bitaxe-scheduler")
}

const SEED: &str = r#"{
  // my fleet
  "miners": [
    {
      "name": "bitaxe-1",
      "ip": "http://127.0.0.1:18081",
      "enabled": true,
      "day_settings": null,
      "night_settings": null
    }
  ],
  // quiet days
  "global_day_settings": {"start_time": "07:30", "end_time": "20:00", "voltage": 1150, "frequency": 450},
  "global_night_settings": {"start_time": "20:00", "end_time": "07:30", "voltage": 1250, "frequency": 575},
  "max_temp": 70, // °C
  "check_interval": 60
}
"#;

#[cfg(unix)]
#[test]
fn cli_edits_keep_comments_order_the_symlink_and_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("dir");
    let real_dir = root.path().join("real");
    let work = root.path().join("work");
    std::fs::create_dir_all(&real_dir).expect("mkdir");
    std::fs::create_dir_all(&work).expect("mkdir");
    let real = real_dir.join("fleet.json");
    std::fs::write(&real, SEED).expect("seed");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = work.join("multi_scheduler_config.json");
    std::os::unix::fs::symlink("../real/fleet.json", &link).expect("symlink");

    for args in [
        vec!["--add-miner", "bitaxe-2", "127.0.0.1:18082"],
        vec!["--disable-miner", "bitaxe-1"],
    ] {
        let o = run(&work, &args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    let text = std::fs::read_to_string(&real).expect("real file");
    for comment in ["// my fleet", "// quiet days", "\"max_temp\": 70, // °C"] {
        assert!(text.contains(comment), "{comment} lost:\n{text}");
    }
    assert!(text.contains("\"enabled\": false"), "{text}");
    let first = text.find("bitaxe-1").expect("first miner");
    let second = text.find("bitaxe-2").expect("new miner");
    let day = text.find("global_day_settings").expect("day");
    assert!(
        first < second && second < day,
        "new miner at the end of miners:\n{text}"
    );
    assert!(
        !text.contains("history_retention_days"),
        "defaults are not written out:\n{text}"
    );
    let mode = std::fs::metadata(&real).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let o = run(&work, &["--list-miners"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("bitaxe-1: http://127.0.0.1:18081 [Disabled]")
            && out.contains("bitaxe-2: http://127.0.0.1:18082 [Enabled]"),
        "{out}"
    );
}

#[test]
fn a_misspelt_key_is_named_with_a_suggestion_and_the_file_left_alone() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    let text = SEED.replace("\"max_temp\"", "\"max_temprature\"");
    std::fs::write(&path, &text).expect("write");
    let o = run(dir.path(), &["--list-miners"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("line 15")
            && err.contains("max_temprature: unknown key, did you mean max_temp?"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
}

#[test]
fn max_temp_at_the_firmwares_limit_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("multi_scheduler_config.json"),
        SEED.replace("\"max_temp\": 70", "\"max_temp\": 80"),
    )
    .expect("write");
    let o = run(dir.path(), &["--plan"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("max_temp") && err.contains("75"), "{err}");
}

/// kill -9 at a random moment of `--disable-miner`/`--enable-miner`, 100 times: the file is always
/// the old or the new text, and no temp file is left once a save has run again.
#[test]
fn kill_9_during_cli_saves_leaves_the_old_or_the_new_file() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    std::fs::write(&path, SEED).expect("seed");
    let exe = exe();
    assert!(run(dir.path(), &["--disable-miner", "bitaxe-1"])
        .status
        .success());
    let disabled = std::fs::read_to_string(&path).expect("disabled");
    assert!(run(dir.path(), &["--enable-miner", "bitaxe-1"])
        .status
        .success());
    assert_eq!(std::fs::read_to_string(&path).expect("enabled"), SEED);

    let started = Instant::now();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    for round in 0..100 {
        // xorshift: a different moment every round, 0..6 ms after the start.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let flag = if round % 2 == 0 {
            "--disable-miner"
        } else {
            "--enable-miner"
        };
        let mut child = Command::new(&exe)
            .current_dir(dir.path())
            .args([flag, "bitaxe-1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_micros(seed % 6_000));
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(&path).expect("config");
        assert!(
            text == SEED || text == disabled,
            "round {round}: neither old nor new:\n{text}"
        );
    }
    assert!(run(dir.path(), &["--enable-miner", "bitaxe-1"])
        .status
        .success());
    assert!(run(dir.path(), &["--disable-miner", "bitaxe-1"])
        .status
        .success());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}
