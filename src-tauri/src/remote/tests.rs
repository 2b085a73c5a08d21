//! The remote client against real servers on loopback: the daemon's own API server over a real
//! engine and simulated miners (token, events, a restart of the daemon), stubs for what the
//! daemon cannot be made to do on demand (another major version, a stream dropped mid-way, the
//! call route's answers), and a TLS server with a self-signed certificate for the pin.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use bitaxe_api::{ApiOptions, ApiServer, Tokens};
use bitaxe_core::config::{Config, MinerConfig};
use bitaxe_core::events::Event;
use bitaxe_core::{EngineHandle, EngineOptions};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::client::{probe_certificate, Address, Client, ConnectError};
use super::events::{follow, Connection};
use super::tls::fingerprint;

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

fn address(addr: SocketAddr) -> Address {
    Address::parse(&addr.to_string()).expect("address")
}

/// Follow `client` into a channel; the link's states are collected too.
fn follow_into(
    client: Client,
) -> (
    mpsc::Receiver<Event>,
    Arc<Mutex<Vec<Connection>>>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel(64);
    let states: Arc<Mutex<Vec<Connection>>> = Arc::default();
    let s2 = states.clone();
    let task = tokio::spawn(follow(client, tx, move |c| {
        if let Ok(mut s) = s2.lock() {
            s.push(c);
        }
    }));
    (rx, states, task)
}

async fn next_event(rx: &mut mpsc::Receiver<Event>, within: Duration) -> Event {
    tokio::time::timeout(within, rx.recv())
        .await
        .expect("an event in time")
        .expect("the stream goes on")
}

struct Daemon {
    _dir: tempfile::TempDir,
    _miners: Vec<bitaxe_sim::SimMiner>,
    engine: EngineHandle,
    tokens: Tokens,
}

impl Daemon {
    /// A real engine polling one simulated miner, with the API's token files.
    async fn start() -> Daemon {
        let miners = bitaxe_sim::fleet("sim", 1, |s| s.speed = 20.0)
            .await
            .expect("sims");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("multi_scheduler_config.json");
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
            log_stats_interval: 0.5,
            transition_delay: 0.05,
            retry_delay: 0.05,
            timezone: "UTC".into(),
            ..Config::default()
        };
        cfg.save(&path).expect("save");
        let mut opts = EngineOptions::new(&path);
        opts.data_dir = dir.path().to_path_buf();
        let engine = EngineHandle::start(opts).expect("engine");
        let (tokens, _) = Tokens::load_or_create(&path).expect("tokens");
        Daemon {
            _dir: dir,
            _miners: miners,
            engine,
            tokens,
        }
    }

    async fn serve(&self, listen: SocketAddr) -> ApiServer {
        ApiServer::start(
            self.engine.clone(),
            listen,
            self.tokens.clone(),
            ApiOptions::default(),
        )
        .await
        .expect("serve")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_daemon_takes_its_token_refuses_another_and_streams_across_its_restart() {
    let daemon = Daemon::start().await;
    let server = daemon.serve("127.0.0.1:0".parse().expect("addr")).await;
    let addr = server.local_addr();
    let a = address(addr);

    let e = Client::connect(&a, "not-the-token", None)
        .await
        .expect_err("a wrong token is refused");
    assert_eq!(e, ConnectError::BadToken { host: a.host() });
    assert!(!e.to_string().contains("not-the-token"));

    let (client, version) = Client::connect(&a, daemon.tokens.control(), None)
        .await
        .expect("the control token is taken");
    assert!(version.api.starts_with("1."), "{version:?}");
    // The read token is a token too (it reads, the daemon refuses its writes).
    Client::connect(&a, daemon.tokens.read(), None)
        .await
        .expect("the read token is taken");

    let (mut rx, states, task) = follow_into(client);
    next_event(&mut rx, Duration::from_secs(10)).await;
    assert!(matches!(
        states.lock().expect("states").last(),
        Some(Connection::Connected { tls: false, .. })
    ));

    // The daemon restarts on the same port: the link is lost, retried, and the events go on.
    server.stop().await;
    let server = daemon.serve(addr).await;
    // Drain what was in flight, then wait for the link to come back and an event after it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let lost = states
            .lock()
            .expect("states")
            .iter()
            .any(|s| matches!(s, Connection::Lost { .. }));
        let back = matches!(
            states.lock().expect("states").last(),
            Some(Connection::Connected { .. })
        );
        if lost && back {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            states.lock()
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await;
    }
    next_event(&mut rx, Duration::from_secs(10)).await;
    let lost = states.lock().expect("states").iter().find_map(|s| match s {
        Connection::Lost { retry_in, .. } => Some(*retry_in),
        _ => None,
    });
    assert_eq!(lost, Some(1), "the first retry comes after a second");
    task.abort();
    server.stop().await;
    daemon.engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn another_major_version_is_refused_by_name() {
    let router = Router::new().route(
        "/api/v1/version",
        get(|| async { Json(json!({"version": "2.0", "app": "9.9.9"})) }),
    );
    let a = address(serve(router).await);
    let e = Client::connect(&a, "t", None)
        .await
        .expect_err("version 2 is refused");
    assert_eq!(e.code(), "incompatible_version");
    let text = e.to_string();
    assert!(
        text.contains("API version 2.0") && text.contains("version 1.x"),
        "{text}"
    );
}

/// What the stub's event stream saw: the `Last-Event-ID` of each request.
#[derive(Default)]
struct StreamStub {
    asked: Mutex<Vec<Option<String>>>,
}

fn sse_frame(id: u64, event: &Event) -> String {
    format!(
        "id: {id}\ndata: {}\n\n",
        serde_json::to_string(event).expect("json")
    )
}

#[tokio::test]
async fn a_dropped_stream_is_resumed_after_the_last_event_it_delivered() {
    let stub = Arc::new(StreamStub::default());
    async fn events(State(s): State<Arc<StreamStub>>, headers: HeaderMap) -> impl IntoResponse {
        let last = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let first = last.is_none();
        s.asked.lock().expect("asked").push(last);
        let warn = |m: &str| Event::Warning {
            message: m.to_string(),
        };
        // First: two events, then the connection ends. Again: what came after id 2.
        let body = if first {
            format!(
                "{}{}",
                sse_frame(1, &warn("one")),
                sse_frame(2, &warn("two"))
            )
        } else {
            format!(": keep-alive\n\n{}", sse_frame(3, &warn("three")))
        };
        ([("content-type", "text/event-stream")], body)
    }
    let router = Router::new()
        .route(
            "/api/v1/version",
            get(|| async { Json(json!({"api": "1.0"})) }),
        )
        .route("/api/v1/events", get(events))
        .with_state(stub.clone());
    let a = address(serve(router).await);
    let client = Client::new(&a, "t", None).expect("client");
    let (mut rx, states, task) = follow_into(client);
    let mut got = Vec::new();
    for _ in 0..3 {
        match next_event(&mut rx, Duration::from_secs(10)).await {
            Event::Warning { message } => got.push(message),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, vec!["one", "two", "three"]);
    let asked = stub.asked.lock().expect("asked").clone();
    assert_eq!(asked[..2], [None, Some("2".to_string())]);
    let states = states.lock().expect("states").clone();
    assert!(
        states.iter().any(|s| matches!(
            s,
            Connection::Lost { retry_in: 1, reason, .. } if reason.contains("closed the event stream")
        )),
        "{states:?}"
    );
    task.abort();
}

/// The call route as the contract has it; records what it was sent.
#[derive(Default)]
struct CallStub {
    calls: Mutex<VecDeque<(String, Value, Option<String>)>>,
}

#[tokio::test]
async fn calls_carry_the_invoke_arguments_and_bring_back_results_and_errors() {
    let stub = Arc::new(CallStub::default());
    async fn call(
        State(s): State<Arc<CallStub>>,
        Path(command): Path<String>,
        headers: HeaderMap,
        Json(args): Json<Value>,
    ) -> axum::response::Response {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        s.calls
            .lock()
            .expect("calls")
            .push_back((command.clone(), args.clone(), auth.clone()));
        if auth.as_deref() == Some("Bearer reader") && command == "apply_profile" {
            return (
                StatusCode::FORBIDDEN,
                Json(json!({"code": "forbidden", "message": "a read token cannot apply_profile"})),
            )
                .into_response();
        }
        match command.as_str() {
            "overview" => Json(json!({"status": {"paused": false}})).into_response(),
            "apply_profile" => Json(Value::Null).into_response(),
            _ => (
                StatusCode::NOT_FOUND,
                Json(
                    json!({"code": "unknown_command", "message": format!("no command {command}")}),
                ),
            )
                .into_response(),
        }
    }
    let router = Router::new()
        .route("/api/v1/call/{command}", post(call))
        .with_state(stub.clone());
    let a = address(serve(router).await);
    let control = Client::new(&a, "controller", None).expect("client");
    let v = control
        .call("overview", Value::Null)
        .await
        .expect("overview");
    assert_eq!(v["status"]["paused"], false);
    let v = control
        .call("apply_profile", json!({"profile": "night", "miner": null}))
        .await
        .expect("apply");
    assert_eq!(v, Value::Null);
    let e = control
        .call("start_rocket", json!({}))
        .await
        .expect_err("unknown");
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("unknown_command", "no command start_rocket")
    );
    let reader = Client::new(&a, "reader", None).expect("client");
    let e = reader
        .call("apply_profile", json!({"profile": "night", "miner": null}))
        .await
        .expect_err("forbidden");
    assert_eq!(e.code, "forbidden");
    assert!(e.message.contains("control token"), "{}", e.message);
    let calls: Vec<_> = stub.calls.lock().expect("calls").drain(..).collect();
    assert_eq!(
        calls[0],
        (
            "overview".into(),
            json!({}),
            Some("Bearer controller".into())
        )
    );
    assert_eq!(calls[1].1, json!({"profile": "night", "miner": null}));
    // A scheduler that is gone: the command fails as `disconnected`, naming the host.
    drop(calls);
    let gone =
        Client::new(&address("127.0.0.1:9".parse().expect("addr")), "t", None).expect("client");
    let e = gone.call("overview", Value::Null).await.expect_err("gone");
    assert_eq!(e.code, "disconnected");
    assert!(e.message.contains("127.0.0.1:9"), "{}", e.message);
}

/// A TLS server with a fresh self-signed certificate that answers every request with API
/// version 1.0; counts the requests that reached it.
async fn tls_server() -> (SocketAddr, String, Arc<Mutex<usize>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let der = cert.cert.der().clone();
    let fp = fingerprint(der.as_ref());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let requests: Arc<Mutex<usize>> = Arc::default();
    let r2 = requests.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let requests = r2.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                if let Ok(mut r) = requests.lock() {
                    *r += 1;
                }
                let body = r#"{"api":"1.0"}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(reply.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, fp, requests)
}

#[tokio::test]
async fn a_certificate_is_shown_before_trust_pinned_and_a_changed_one_refused() {
    let (addr, fp, requests) = tls_server().await;
    let a = Address::parse(&format!("https://{addr}")).expect("address");

    // First attach: the fingerprint is read from the handshake alone; no request is sent.
    let shown = probe_certificate(&a).await.expect("probe");
    assert_eq!(shown.as_deref(), Some(fp.as_str()));
    assert_eq!(
        *requests.lock().expect("count"),
        0,
        "nothing sent before trust"
    );
    assert_eq!(
        Client::connect(&a, "t", None)
            .await
            .expect_err("unpinned")
            .code(),
        "unpinned"
    );

    // Pinned (as the user confirmed it, in lower case even): connected.
    let (client, _) = Client::connect(&a, "t", Some(&fp.to_lowercase()))
        .await
        .expect("the pinned certificate is taken");
    assert_eq!(client.fingerprint(), Some(fp.as_str()));
    assert_eq!(*requests.lock().expect("count"), 1);

    // Another certificate at that address: refused, both fingerprints named, no request sent.
    let other = fingerprint(b"another certificate");
    let e = Client::connect(&a, "t", Some(&other))
        .await
        .expect_err("changed");
    assert_eq!(
        e,
        ConnectError::FingerprintChanged {
            host: a.host(),
            pinned: other.clone(),
            found: fp.clone()
        }
    );
    assert!(e.to_string().contains("--status"), "{e}");
    assert_eq!(*requests.lock().expect("count"), 1, "the token never went");
}
