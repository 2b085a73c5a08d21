//! The guard the end-to-end suites put around every process they start (tauri-driver,
//! WebKitWebDriver, Xvfb, D-Bus, schedulers): nothing it started survives it, whether the test
//! ends normally or panics, including a child that left the process group with `setsid`.

use std::process::{Command, Stdio};
use std::time::Duration;

use bitaxe_e2e::process::Group;
use bitaxe_e2e::wait_until;

/// A shell that starts two children in its group and one that escapes it with `setsid`.
fn family() -> Group {
    let mut c = Command::new("bash");
    c.args(["-c", "sleep 300 & sleep 301 & setsid sleep 302 & wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let g = Group::spawn(c).expect("bash");
    // The leader, its two children and the escapee.
    wait_until("the family to start", Duration::from_secs(10), || {
        (g.alive().len() >= 4).then_some(())
    });
    g
}

fn running(pids: &[u32]) -> Vec<u32> {
    pids.iter()
        .copied()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .map(|s| !s.contains(") Z "))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn dropping_the_guard_kills_the_group_and_the_escapee() {
    let g = family();
    let pids = g.alive();
    drop(g);
    assert_eq!(running(&pids), Vec::<u32>::new(), "left running: {pids:?}");
}

#[test]
fn a_panicking_test_leaves_nothing_running_either() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::panic::catch_unwind(move || {
        let g = family();
        tx.send(g.alive()).expect("send");
        panic!("the test failed half-way");
    });
    assert!(outcome.is_err());
    let pids = rx.recv().expect("pids");
    assert!(pids.len() >= 4, "{pids:?}");
    assert_eq!(running(&pids), Vec::<u32>::new(), "left running: {pids:?}");
}

#[test]
fn kill_reports_an_empty_group() {
    let mut g = family();
    assert_eq!(g.kill(), Vec::<u32>::new());
    assert!(g.try_wait().is_some(), "the leader was reaped");
}
