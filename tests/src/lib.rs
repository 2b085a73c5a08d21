//! Helpers for the end-to-end suites: find (or build) our binaries, run them, wait for output.
#![forbid(unsafe_code)]

pub mod desktop;
pub mod process;
pub mod webdriver;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Path to a binary of this workspace, built on demand with the same cargo and target dir.
pub fn binary(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test> -> target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = profile_dir.parent().expect("target").to_path_buf();
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "--offline",
            "-p",
            package,
            "--bin",
            name,
        ])
        .env("CARGO_TARGET_DIR", &target_dir);
    if profile_dir.file_name().and_then(|n| n.to_str()) == Some("release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(status.success(), "building {name} failed");
    path
}

/// Poll `check` every 50 ms until it returns `Some`, or panic with `what` after `timeout`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run `bitaxe-scheduler` in `dir` with `args` and wait for it.
pub fn scheduler(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(binary("bitaxe-scheduler", "bitaxe-scheduler"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bitaxe-scheduler")
}

/// A finished command's stdout and stderr as text.
pub fn output_text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}
