//! `"api": {"tls": true}` end to end: the daemon makes its certificate at the first start, prints
//! the fingerprint, writes it to `FILE.api-addr`, `--status` repeats it, and a restart keeps it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bitaxe_api::local::Advertised;
use bitaxe_api::tls;

fn bin(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bitaxe-scheduler"));
    c.arg("--config").arg(config);
    c
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(config: &Path, out: &Path) -> Daemon {
    let file = std::fs::File::create(out).expect("out");
    Daemon(
        bin(config)
            .current_dir(config.parent().expect("dir"))
            .stdout(Stdio::from(file))
            .stderr(Stdio::null())
            .spawn()
            .expect("daemon"),
    )
}

fn wait_for_addr(config: &Path) -> Advertised {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(a) = Advertised::read(config) {
            return a;
        }
        assert!(Instant::now() < deadline, "no FILE.api-addr");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_from_the_config_prints_and_keeps_its_fingerprint() {
    let sims = bitaxe_sim::fleet("rig", 1, |_| {}).await.expect("sim");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("c.json");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let cfg = serde_json::json!({
        "miners": [{"name": "rig-1", "ip": sims[0].url()}],
        "timezone": "UTC",
        "api": {"listen": format!("127.0.0.1:{port}"), "tls": true},
    });
    std::fs::write(&config, cfg.to_string()).expect("config");
    let out = dir.path().join("out.txt");
    let daemon = start(&config, &out);
    let a = wait_for_addr(&config);
    assert_eq!(a.url(), format!("https://127.0.0.1:{port}"));
    let fingerprint = a.fingerprint.clone().expect("a fingerprint");
    let (id, made) = tls::Identity::load_or_create(&config, a.addr).expect("cert files");
    assert!(!made, "the daemon made the files");
    assert_eq!(id.fingerprint(), fingerprint);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tls::key_path(&config))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let printed = std::fs::read_to_string(&out).expect("out");
    assert!(printed.contains("API certificate made: "), "{printed}");
    assert!(
        printed.contains(&format!(
            "API listening on https://127.0.0.1:{port} (certificate {fingerprint})"
        )),
        "{printed}"
    );
    let o = bin(&config).arg("--status").output().expect("status");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!(
            "API: listening on https://127.0.0.1:{port} (certificate {fingerprint}; tokens beside the config)"
        )),
        "{text}"
    );
    drop(daemon);

    // A restart serves the same certificate.
    std::fs::remove_file(bitaxe_api::local::addr_path(&config)).ok();
    let _daemon = start(&config, &out);
    let again = wait_for_addr(&config);
    assert_eq!(again.fingerprint.as_deref(), Some(fingerprint.as_str()));
    let printed = std::fs::read_to_string(&out).expect("out");
    assert!(!printed.contains("API certificate made"), "{printed}");
}
