//! TLS, the local control socket, and the metrics against a real engine over simulated miners on
//! loopback: a rustls client that trusts the certificate gets answers, plain HTTP to the TLS port
//! does not, a client pinning another fingerprint is refused; the Unix socket serves the same
//! router with the token; `/metrics` from a real server passes `promtool check metrics` and has
//! the energy counter and the poll-duration histogram.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bitaxe_api::local::{self, Advertised, Channel, Method};
use bitaxe_api::{tls, ApiOptions, ApiServer, Tokens};
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::SimMiner;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;

struct Fleet {
    _dir: tempfile::TempDir,
    _miners: Vec<SimMiner>,
    engine: EngineHandle,
    tokens: Tokens,
    config: PathBuf,
}

async fn fleet(n: usize) -> Fleet {
    let miners = bitaxe_sim::fleet("sim", n, |s| s.speed = 20.0)
        .await
        .expect("sims");
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("multi_scheduler_config.json");
    let cfg = Config {
        miners: miners
            .iter()
            .map(|m| MinerConfig {
                profiles: Default::default(),
                name: m.name().to_string(),
                ip: m.url(),
                enabled: true,
                day_settings: None,
                night_settings: None,
                limits: None,
            })
            .collect(),
        check_interval: 0.2,
        temp_check_interval: 0.2,
        transition_delay: 0.05,
        retry_delay: 0.05,
        timezone: "UTC".into(),
        ..Config::default()
    };
    cfg.save(&config).expect("save");
    let engine = EngineHandle::start(EngineOptions::new(&config)).expect("engine");
    let (tokens, _) = Tokens::load_or_create(&config).expect("tokens");
    Fleet {
        _dir: dir,
        _miners: miners,
        engine,
        tokens,
        config,
    }
}

impl Fleet {
    async fn polled(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.engine.status().totals.online < n {
            assert!(tokio::time::Instant::now() < deadline, "sims not polled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        self.engine.shutdown(Duration::from_secs(10)).await;
    }
}

fn tls_options(config: &std::path::Path) -> (ApiOptions, String) {
    let (id, _) = tls::Identity::load_or_create(config, "127.0.0.1:0".parse().expect("addr"))
        .expect("identity");
    let f = id.fingerprint();
    (
        ApiOptions {
            tls: Some(id),
            ..ApiOptions::default()
        },
        f,
    )
}

/// GET `path` over TLS with a client whose root store holds exactly `cert`, checking the name
/// `localhost` (the usual WebPKI checks, no pinning shortcut).
async fn get_trusting(
    addr: std::net::SocketAddr,
    cert: &rustls::pki_types::CertificateDer<'static>,
    path: &str,
    token: &str,
) -> Result<(u16, String), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header("host", format!("localhost:{}", addr.port()))
        .header("authorization", format!("Bearer {token}"))
        .body(http_body_util::Empty::<axum::body::Bytes>::new())
        .map_err(|e| e.to_string())?;
    let res = send.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_answers_a_client_that_trusts_the_certificate_and_nothing_plain() {
    let f = fleet(1).await;
    let (options, fingerprint) = tls_options(&f.config);
    let cert = options.tls.as_ref().expect("tls").cert_der().clone();
    let server = ApiServer::start(
        f.engine.clone(),
        "127.0.0.1:0".parse().expect("addr"),
        f.tokens.clone(),
        options,
    )
    .await
    .expect("serve");
    let addr = server.local_addr();
    assert_eq!(server.fingerprint(), Some(fingerprint.as_str()));
    assert!(server.url().starts_with("https://127.0.0.1:"));

    let (status, body) = get_trusting(addr, &cert, "/api/v1/version", f.tokens.read())
        .await
        .expect("TLS request");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"api\""), "{body}");
    // The guard still applies behind TLS.
    let (status, _) = get_trusting(addr, &cert, "/api/v1/version", "wrong")
        .await
        .expect("TLS request");
    assert_eq!(status, 401);

    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/version"))
        .bearer_auth(f.tokens.read())
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");

    // The pinned client (one-shots, the desktop) gets answers with the right fingerprint only.
    let pinned = Channel::Tcp(Advertised {
        addr,
        fingerprint: Some(fingerprint.clone()),
    });
    let r = local::request(
        &pinned,
        f.tokens.read(),
        Method::GET,
        "/api/v1/overview",
        None,
        Duration::from_secs(5),
    )
    .await
    .expect("pinned request");
    assert_eq!(r.status, 200);
    let other = tls::fingerprint(b"another certificate");
    let wrong = Channel::Tcp(Advertised {
        addr,
        fingerprint: Some(other),
    });
    let r = local::request(
        &wrong,
        f.tokens.read(),
        Method::GET,
        "/api/v1/version",
        None,
        Duration::from_secs(5),
    )
    .await;
    assert!(r.is_err(), "a client pinning another certificate got {r:?}");
    server.stop().await;

    // A restart serves the same certificate (what the desktop pinned still holds).
    let (options, again) = tls_options(&f.config);
    assert_eq!(again, fingerprint);
    let server = ApiServer::start(
        f.engine.clone(),
        "127.0.0.1:0".parse().expect("addr"),
        f.tokens.clone(),
        options,
    )
    .await
    .expect("serve again");
    assert_eq!(server.fingerprint(), Some(fingerprint.as_str()));
    server.stop().await;
    f.stop().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_socket_serves_the_router_with_the_token_and_goes_away() {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let f = fleet(1).await;
    f.polled(1).await;
    let path = local::socket_path(&f.config);
    // A socket left by a scheduler killed earlier is replaced.
    let stale = std::os::unix::net::UnixListener::bind(&path).expect("stale");
    drop(stale);
    assert!(path.exists());
    let server = ApiServer::start_local(
        f.engine.clone(),
        &path,
        f.tokens.clone(),
        ApiOptions::default(),
    )
    .await
    .expect("local");
    let meta = std::fs::symlink_metadata(&path).expect("meta");
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let ch = Channel::Unix(path.clone());
    let t = Duration::from_secs(5);
    let r = local::request(
        &ch,
        f.tokens.control(),
        Method::GET,
        "/api/v1/overview",
        None,
        t,
    )
    .await
    .expect("overview");
    assert_eq!(r.status, 200);
    let status: bitaxe_core::status::FleetStatus =
        serde_json::from_slice(&r.body).expect("a fleet status");
    assert_eq!(status.miners[0].name, "sim-1");
    let r = local::request(&ch, "nope", Method::GET, "/api/v1/overview", None, t)
        .await
        .expect("answer");
    assert_eq!(r.status, 401);
    let r = local::request(&ch, f.tokens.read(), Method::POST, "/api/v1/pause", None, t)
        .await
        .expect("answer");
    assert_eq!(r.status, 403, "the read token cannot write here either");
    let r = local::request(
        &ch,
        f.tokens.control(),
        Method::POST,
        "/api/v1/pause",
        None,
        t,
    )
    .await
    .expect("answer");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(f.engine.status().paused);
    server.stop().await;
    assert!(!path.exists(), "the socket is removed on stop");
    // A regular file there is not clobbered.
    std::fs::write(&path, "mine").expect("write");
    let e = ApiServer::start_local(
        f.engine.clone(),
        &path,
        f.tokens.clone(),
        ApiOptions::default(),
    )
    .await
    .err()
    .expect("refused");
    assert!(e.to_string().contains("api.sock"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), "mine");
    f.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_pass_promtool_with_energy_and_poll_durations() {
    let f = fleet(3).await;
    f.polled(3).await;
    let server = ApiServer::start(
        f.engine.clone(),
        "127.0.0.1:0".parse().expect("addr"),
        f.tokens.clone(),
        ApiOptions::default(),
    )
    .await
    .expect("serve");
    let url = format!("http://{}/metrics", server.local_addr());
    let http = reqwest::Client::new();
    // Energy is integrated between samples and flushed by the recorder: wait for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let text = loop {
        let text = http
            .get(&url)
            .bearer_auth(f.tokens.read())
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text");
        if text
            .lines()
            .filter(|l| l.starts_with("bitaxe_energy_joules_total{"))
            .count()
            == 3
        {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no energy counters for all three:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let value = |l: &str| -> f64 { l.rsplit(' ').next().expect("v").parse().expect("number") };
    let energy: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("bitaxe_energy_joules_total{"))
        .map(value)
        .collect();
    assert!(energy.iter().all(|j| *j > 0.0), "{energy:?}");
    let fleet_line = text
        .lines()
        .find(|l| l.starts_with("bitaxe_fleet_energy_joules_total "))
        .expect("fleet energy");
    assert!((value(fleet_line) - energy.iter().sum::<f64>()).abs() < 1e-6);
    assert!(
        text.contains("# TYPE bitaxe_energy_joules counter"),
        "{text}"
    );
    assert!(
        text.contains("# UNIT bitaxe_energy_joules joules"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE bitaxe_poll_duration_seconds histogram"),
        "{text}"
    );
    let count = text
        .lines()
        .find(|l| l.starts_with("bitaxe_poll_duration_seconds_count "))
        .map(value)
        .expect("count");
    assert!(count >= 3.0, "{count}");
    let inf = text
        .lines()
        .find(|l| l.starts_with("bitaxe_poll_duration_seconds_bucket{le=\"+Inf\"}"))
        .map(value)
        .unwrap_or_else(|| panic!("no +Inf bucket in\n{text}"));
    assert_eq!(inf, count, "buckets are cumulative");
    // Every counter ends in _total, base units in the names.
    for l in text
        .lines()
        .filter(|l| l.starts_with("# TYPE") && l.ends_with("counter"))
    {
        let name = l.split(' ').nth(2).expect("name");
        assert!(text.contains(&format!("{name}_total")), "{l}");
    }
    // promtool reads the Prometheus text format: the same scrape asked for as text/plain.
    let plain = http
        .get(&url)
        .bearer_auth(f.tokens.read())
        .header(reqwest::header::ACCEPT, "text/plain")
        .send()
        .await
        .expect("scrape");
    assert!(plain
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")));
    let plain = plain.text().await.expect("text");
    assert!(
        plain.contains("# TYPE bitaxe_energy_joules_total counter"),
        "{plain}"
    );
    promtool(&plain);
    server.stop().await;
    f.stop().await;
}

/// `promtool check metrics`; the test fails when promtool is missing (Debian: `prometheus`).
fn promtool(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| {
        panic!(
            "promtool cannot run ({e}), so the metrics cannot be validated: install the Debian \
             package `prometheus` (scripts/setup.sh does)"
        )
    });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_tls_files_live_beside_the_config() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("c.json");
    assert_eq!(tls::cert_path(&cfg), dir.path().join("c.json.api-cert.pem"));
    assert_eq!(tls::key_path(&cfg), dir.path().join("c.json.api-key.pem"));
    assert_eq!(local::socket_path(&cfg), dir.path().join("c.json.api.sock"));
}
