//! The real desktop app under test: a private X display (Xvfb), a private session bus with a
//! monitor logging every notification, tauri-driver in front of WebKitWebDriver, and a WebDriver
//! session on the app. Shared by the desktop suite and the attach suite.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::Group;
use crate::wait_until;
use crate::webdriver::Session;

/// A free loopback port (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A tool `./scripts/test.sh` installs (cargo's bin folder first, then the system's).
pub fn tool(name: &str) -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_default();
    [
        PathBuf::from(format!("{home}/.cargo/bin/{name}")),
        PathBuf::from(format!("/usr/bin/{name}")),
        PathBuf::from(format!("/usr/local/bin/{name}")),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("{name} is missing: run ./scripts/test.sh, which installs it"))
}

/// Where screenshots go: `E2E_ARTIFACTS`, else `artifacts/screenshots` in the project.
pub fn artifacts() -> PathBuf {
    let dir = std::env::var("E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../artifacts/screenshots"
            ))
        });
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// Save a screenshot as `NAME.png` in [`artifacts`]; a failed one is only a missing picture.
pub async fn shot(s: &Session, name: &str) {
    if let Ok(png) = s.screenshot().await {
        let _ = std::fs::write(artifacts().join(format!("{name}.png")), png);
    }
}

/// The app running under its own display and session bus, driven by `session`.
pub struct Desktop {
    pub x: Group,
    pub driver: Group,
    /// `dbus-monitor`'s log of the session bus's notification calls.
    pub monitor_log: PathBuf,
    pub session: Session,
}

impl Desktop {
    /// Start Xvfb, the session bus and tauri-driver (HOME and XDG folders under `dir`), then
    /// the `app` binary on `config`.
    pub async fn launch(dir: &Path, app: &Path, config: &Path) -> Desktop {
        let display = format!(":{}", 90 + free_port() % 100);
        let mut xvfb = Command::new(tool("Xvfb"));
        xvfb.args([
            display.as_str(),
            "-screen",
            "0",
            "1280x860x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let x = Group::spawn(xvfb).expect("Xvfb");
        std::thread::sleep(Duration::from_millis(800));
        let monitor_log = dir.join("notifications.log");
        let port = free_port();
        let native = free_port();
        let script = format!(
            "dbus-monitor --session \"interface='org.freedesktop.Notifications'\" > '{}' 2>&1 & exec '{}' --port {port} --native-port {native} --native-driver '{}'",
            monitor_log.display(),
            tool("tauri-driver").display(),
            tool("WebKitWebDriver").display()
        );
        let home = dir.join("home");
        std::fs::create_dir_all(&home).expect("home");
        let mut driver = Command::new(tool("dbus-run-session"));
        driver
            .args(["--", "bash", "-c", &script])
            .env("DISPLAY", &display)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = Group::spawn(driver).expect("tauri-driver");
        let driver_url = format!("http://127.0.0.1:{port}");
        wait_until("tauri-driver", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        // tauri-driver answers before WebKitWebDriver behind it is ready: retry the first session.
        let args = ["--config".to_string(), config.display().to_string()];
        let mut session = Err(String::new());
        for _ in 0..20 {
            session = Session::start(&driver_url, &app.display().to_string(), &args).await;
            if session.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Desktop {
            x,
            driver,
            monitor_log,
            session: session.expect("session"),
        }
    }
}
