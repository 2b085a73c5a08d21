//! kill -9 during config saves, 100 times: a child process (this test binary, run again in
//! "save loop" mode) saves the config as fast as it can, flipping a miner on and off; the parent
//! SIGKILLs it at a random moment and checks that the file is always exactly the old or the new
//! text (never half), its backup loads, and temp files do not pile up.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bitaxe_core::config::{backup_path, Config};
use rand::Rng;

const CHILD_ENV: &str = "BITAXE_SAVE_LOOP_CONFIG";
const SEED: &str = r#"{
  // two miners; the child flips the first one on and off
  "miners": [
    {"name": "a", "ip": "http://127.0.0.1:8081", "enabled": true, "day_settings": null, "night_settings": null},
    {"name": "b", "ip": "http://127.0.0.1:8082", "enabled": true, "day_settings": null, "night_settings": null}
  ],
  "check_interval": 60 // seconds
}
"#;

/// The child: runs only when the parent starts this binary with `CHILD_ENV` set.
#[test]
fn save_loop_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = PathBuf::from(path);
    loop {
        let mut c = Config::load(&path).expect("child load");
        c.miners[0].enabled = !c.miners[0].enabled;
        c.check_interval = if c.miners[0].enabled { 60.0 } else { 30.0 };
        c.save(&path).expect("child save");
    }
}

/// Every file in `dir` but the config and its backup (temp files of whatever name).
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "multi_scheduler_config.json" && n != "multi_scheduler_config.json.bak")
        .collect()
}

#[cfg(unix)]
#[test]
fn kill_9_during_saves_never_leaves_a_broken_config() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    std::fs::write(&path, SEED).expect("seed");
    // The two texts a save can leave: the seed with miner "a" on, and with it off.
    let mut off = Config::load(&path).expect("load");
    off.miners[0].enabled = false;
    off.check_interval = 30.0;
    off.save(&path).expect("save off");
    let off_text = std::fs::read_to_string(&path).expect("off");
    std::fs::write(&path, SEED).expect("seed");
    assert_ne!(off_text, SEED);
    assert!(
        off_text.contains("// seconds"),
        "edited in place: {off_text}"
    );

    let exe = std::env::current_exe().expect("test binary");
    let mut rng = rand::thread_rng();
    let started = Instant::now();
    let mut saw_both = (false, false);
    let mut most_temps = 0;
    for round in 0..100 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "save_loop_child",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("child");
        std::thread::sleep(Duration::from_micros(rng.gen_range(2_000..30_000)));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(
            !status.success(),
            "round {round}: the child was killed, not finished"
        );

        let text = std::fs::read_to_string(&path).expect("config after kill");
        assert!(
            text == SEED || text == off_text,
            "round {round}: the config is neither the old nor the new text:\n{text}"
        );
        if text == SEED {
            saw_both.0 = true;
        } else {
            saw_both.1 = true;
        }
        Config::load(&path).expect("config loads");
        if let Ok(bak) = std::fs::read_to_string(backup_path(&path)) {
            assert!(
                bak == SEED || bak == off_text,
                "round {round}: backup:\n{bak}"
            );
        }
        let temps = temp_files(dir.path());
        most_temps = most_temps.max(temps.len());
        // At most the config's and the backup's temp file of the one killed save.
        assert!(
            temps.len() <= 2,
            "round {round}: temp files pile up: {temps:?}"
        );
    }
    assert!(saw_both.0 && saw_both.1, "both states seen: {saw_both:?}");
    // The next save sweeps whatever the last kill left.
    let c = Config::load(&path).expect("load");
    c.save(&path).expect("save");
    let mut c = c;
    c.max_temp = 60.0;
    c.save(&path).expect("save");
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    eprintln!(
        "100 kills in {:.1} s; at most {most_temps} temp file(s) left by a kill, swept by the next save",
        started.elapsed().as_secs_f64()
    );
}
