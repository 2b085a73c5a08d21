//! Child processes that cannot outlive their test. A [`Group`] starts its command as the leader
//! of a new process group and tags it (and so everything it starts) with an environment variable
//! of its own. Killing the group (on drop too, so a panicking test cleans up as well) sends
//! SIGKILL to the whole process group, then to any tagged process that left the group (a daemon
//! that called `setsid`), and waits until none of them is alive.

use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The environment variable every process of a [`Group`] carries.
pub const TAG_VAR: &str = "BITAXE_PROCESS_TAG";

pub struct Group {
    child: Child,
    tag: String,
}

impl Group {
    /// Start `command` as the leader of a new process group.
    pub fn spawn(mut command: Command) -> std::io::Result<Group> {
        use std::os::unix::process::CommandExt as _;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let tag = format!(
            "{}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let child = command.env(TAG_VAR, &tag).process_group(0).spawn()?;
        Ok(Group { child, tag })
    }

    /// The leader's process id (also the group's id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The leader's exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Every live process of the group: its members and tagged processes that left it.
    pub fn alive(&self) -> Vec<u32> {
        live_processes()
            .filter(|p| p.pgrp == self.id() || has_env(p.pid, TAG_VAR, &self.tag))
            .map(|p| p.pid)
            .collect()
    }

    /// Send `signal` (e.g. "TERM") to the whole group and its tagged escapees.
    pub fn signal(&self, signal: &str) {
        let mut targets = vec![format!("-{}", self.id())];
        targets.extend(
            live_processes()
                .filter(|p| p.pgrp != self.id() && has_env(p.pid, TAG_VAR, &self.tag))
                .map(|p| p.pid.to_string()),
        );
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg("--")
            .args(&targets)
            .stderr(std::process::Stdio::null())
            .status();
    }

    /// SIGKILL everything in the group and wait (up to 10 s) until none of it is alive.
    /// Returns what is still alive after that (empty when all went).
    pub fn kill(&mut self) -> Vec<u32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.signal("KILL");
            let _ = self.child.try_wait();
            let left = self.alive();
            if left.is_empty() || Instant::now() > deadline {
                let _ = self.child.try_wait();
                return left;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = self.kill();
        let _ = self.child.wait();
    }
}

/// Live processes whose executable name is `name` (as `pgrep -x` sees it), zombies excluded.
pub fn named(name: &str) -> Vec<u32> {
    live_processes()
        .filter(|p| p.comm == name)
        .map(|p| p.pid)
        .collect()
}

struct Proc {
    pid: u32,
    pgrp: u32,
    comm: String,
}

/// Every process on the machine that is not a zombie, read from /proc.
fn live_processes() -> impl Iterator<Item = Proc> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(pid, &stat)
        })
}

/// `pid (comm) state ppid pgrp ...`; the name may hold spaces and parentheses.
fn parse_stat(pid: u32, stat: &str) -> Option<Proc> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?;
    let _ppid = rest.next()?;
    let pgrp = rest.next()?.parse().ok()?;
    (state != "Z" && state != "X").then_some(Proc { pid, pgrp, comm })
}

fn has_env(pid: u32, var: &str, value: &str) -> bool {
    let wanted = format!("{var}={value}");
    std::fs::read(Path::new("/proc").join(pid.to_string()).join("environ"))
        .map(|env| env.split(|b| *b == 0).any(|e| e == wanted.as_bytes()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let p = parse_stat(7, "7 (Web Content (x)) S 1 42 42 0 -1").expect("stat");
        assert_eq!((p.pid, p.pgrp, p.comm.as_str()), (7, 42, "Web Content (x)"));
        assert!(parse_stat(8, "8 (sleep) Z 1 8 8").is_none());
    }
}
