//! One simulated miner as a real HTTP server, with its own accept loop so that "offline" and
//! "rebooting" really refuse connections (the listener is closed), not merely answer errors.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::api;
use crate::physics::{Faults, MinerState, Personality};

/// One request as the simulated miner received it.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: String,
    pub origin: Option<String>,
    /// Sim seconds when it arrived.
    pub at: f64,
}

/// How to start one simulated miner.
#[derive(Debug, Clone)]
pub struct MinerSpec {
    pub name: String,
    pub bind: SocketAddr,
    pub personality: Personality,
    pub ambient_c: f64,
    /// Simulated seconds per real second (1.0 = real time). Speeds up ramps, cooling and reboots.
    pub speed: f64,
    /// `macAddr` to report; `None` derives a stable one from the name.
    pub mac: Option<String>,
}

impl MinerSpec {
    pub fn new(name: &str, bind: SocketAddr) -> MinerSpec {
        MinerSpec {
            name: name.to_string(),
            bind,
            personality: Personality::default(),
            ambient_c: 25.0,
            speed: 1.0,
            mac: None,
        }
    }
}

struct Inner {
    name: String,
    speed: f64,
    started: Instant,
    state: Mutex<(MinerState, StdRng)>,
    requests: Mutex<Vec<Recorded>>,
    /// Bumped on every state change; the server loop watches it (a watch never misses a change).
    changed: watch::Sender<u64>,
    /// Whether the listener is open right now, published by the server loop.
    listening: watch::Sender<bool>,
    /// Set by [`SimMiner::stop`]: the server closes for good.
    stopped: std::sync::atomic::AtomicBool,
}

impl Inner {
    fn sim_now(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * self.speed
    }

    fn lock(&self) -> MutexGuard<'_, (MinerState, StdRng)> {
        // A panic while holding the lock cannot leave the physics half-updated in a way that
        // matters to a simulator; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Advance physics to now and run `f` on the state.
    fn with<T>(&self, f: impl FnOnce(&mut MinerState) -> T) -> T {
        let now = self.sim_now();
        let mut guard = self.lock();
        let (state, rng) = &mut *guard;
        state.advance(now, rng);
        f(state)
    }

    fn real_delay(&self, sim_seconds: f64) -> Duration {
        Duration::from_secs_f64((sim_seconds / self.speed).max(0.0))
    }
}

/// A handle on one running simulated miner: cheap to clone.
#[derive(Clone)]
pub struct SimMiner {
    inner: Arc<Inner>,
    addr: SocketAddr,
}

impl SimMiner {
    /// Bind and start serving. With port 0 the OS picks a free port; `addr()` tells which.
    pub async fn start(spec: MinerSpec) -> std::io::Result<SimMiner> {
        let listener = bind(spec.bind)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            name: spec.name.clone(),
            speed: spec.speed.max(0.001),
            started: Instant::now(),
            state: Mutex::new((
                MinerState {
                    mac: spec.mac.clone(),
                    ..MinerState::new(spec.personality, spec.ambient_c)
                },
                StdRng::from_entropy(),
            )),
            requests: Mutex::new(Vec::new()),
            changed: watch::Sender::new(0),
            listening: watch::Sender::new(true),
            stopped: std::sync::atomic::AtomicBool::new(false),
        });
        tokio::spawn(supervise(inner.clone(), addr, listener));
        Ok(SimMiner { inner, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The `macAddr` this miner reports now.
    pub fn mac(&self) -> String {
        self.inner.with(|s| api::mac_address(s, &self.inner.name))
    }

    /// A copy of the current state, physics advanced to now.
    pub fn state(&self) -> MinerState {
        self.inner.with(|s| s.clone())
    }

    /// Change the state (faults, ambient, settings) and wake the server to act on it.
    pub fn update(&self, f: impl FnOnce(&mut MinerState)) {
        self.inner.with(f);
        self.inner.changed.send_modify(|v| *v += 1);
    }

    /// Stop serving for good: the port is released and connections are dropped.
    pub fn stop(&self) {
        self.inner
            .stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.inner.changed.send_modify(|v| *v += 1);
    }

    /// Wait (up to 2 s) until the server has acted on the last change: listening when the miner
    /// is up, closed when it is offline or rebooting.
    pub async fn settle(&self) {
        let want = !self
            .inner
            .with(|s| s.faults.offline || s.booting_until().is_some());
        let mut rx = self.inner.listening.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(2), rx.wait_for(|up| *up == want)).await;
    }

    /// How many brownouts (clock ahead of the voltage) the power loop has seen so far.
    pub fn brownouts(&self) -> u32 {
        self.inner.with(|s| s.brownouts)
    }

    /// The power the miner draws now, W (what `/info` reports as `power`).
    pub fn power(&self) -> f64 {
        self.inner.with(|s| s.power())
    }

    /// Whether mining is paused (`POST /api/system/pause`; a reboot or resume ends it).
    pub fn paused(&self) -> bool {
        self.inner
            .with(|s| s.phase == crate::physics::Phase::Paused)
    }

    pub fn set_faults(&self, faults: Faults) {
        self.update(|s| s.faults = faults);
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The PATCH bodies received so far, parsed.
    pub fn patches(&self) -> Vec<serde_json::Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "PATCH")
            .filter_map(|r| serde_json::from_str(&r.body).ok())
            .collect()
    }
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

/// Serve while the miner is up; close the listener and drop every connection while it is down.
async fn supervise(inner: Arc<Inner>, addr: SocketAddr, first: TcpListener) {
    let router = routes(inner.clone());
    let mut listener = Some(first);
    let mut changes = inner.changed.subscribe();
    loop {
        if inner.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            inner.listening.send_replace(false);
            return;
        }
        let down_until = inner.with(|s| {
            if s.faults.offline {
                Some(None)
            } else {
                s.booting_until().map(Some)
            }
        });
        match down_until {
            Some(until) => {
                listener = None;
                inner.listening.send_replace(false);
                match until {
                    Some(t) => {
                        let wait = inner.real_delay(t - inner.sim_now()) + Duration::from_millis(5);
                        tokio::select! { _ = changes.changed() => {}, _ = tokio::time::sleep(wait) => {} }
                    }
                    None => {
                        let _ = changes.changed().await;
                    }
                }
            }
            None => {
                let l = match listener.take() {
                    Some(l) => l,
                    None => match bind(addr) {
                        Ok(l) => l,
                        Err(_) => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                inner.listening.send_replace(true);
                serve_until_changed(&inner, &router, &l, &mut changes).await;
                listener = Some(l);
            }
        }
    }
}

async fn serve_until_changed(
    inner: &Arc<Inner>,
    router: &Router,
    listener: &TcpListener,
    changes: &mut watch::Receiver<u64>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = changes.changed() => {
                let down = inner.stopped.load(std::sync::atomic::Ordering::SeqCst)
                    || inner.with(|s| s.faults.offline || s.booting_until().is_some());
                if down {
                    connections.abort_all();
                    return;
                }
            }
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let service = TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

type Shared = Arc<Inner>;

fn routes(inner: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/api/system/info", get(info))
        .route("/api/system/asic", get(asic))
        .route("/api/system", patch(patch_settings))
        .route("/api/system/restart", post(restart))
        .route("/api/system/pause", post(pause))
        .route("/api/system/resume", post(resume))
        .fallback(|State(inner): State<Shared>| async move {
            unknown_route(inner.with(|s| s.personality))
        })
        .layer(axum::middleware::from_fn_with_state(inner.clone(), gate))
        .with_state(inner)
}

/// v2.9+: JSON 404. Before: a 302 to the captive portal at `/`.
fn unknown_route(p: Personality) -> Response {
    if p.since(2, 9) {
        (
            StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            r#"{"error":"unknown route"}"#,
        )
            .into_response()
    } else {
        (
            StatusCode::FOUND,
            [("location", "/"), ("content-type", "text/html")],
            "Redirect to the captive portal",
        )
            .into_response()
    }
}

async fn index() -> Response {
    (
        [("content-type", "text/html; charset=utf-8")],
        api::index_html(),
    )
        .into_response()
}

async fn asic(State(inner): State<Shared>) -> Response {
    let p = inner.with(|s| s.personality);
    if p.since(2, 7) {
        json_reply(p, &api::asic())
    } else {
        unknown_route(p)
    }
}

/// Every request: record it, then apply faults and the firmware's Origin check before the handler.
async fn gate(
    State(inner): State<Shared>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let origin = parts
        .headers
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (faults, now) = inner.with(|s| (s.faults.clone(), s.now));
    if let Ok(mut log) = inner.requests.lock() {
        log.push(Recorded {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            origin: origin.clone(),
            at: now,
        });
    }
    if faults.black_hole {
        std::future::pending::<()>().await;
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if parts.method != Method::OPTIONS && !origin_allowed(origin.as_deref()) {
        return (
            StatusCode::UNAUTHORIZED,
            [("content-type", "text/html")],
            "Unauthorized",
        )
            .into_response();
    }
    if faults.redirect && parts.uri.path().starts_with("/api/") {
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", "/"), ("content-type", "text/html")],
            "Temporary Redirect",
        )
            .into_response();
    }
    if faults.http500 && parts.uri.path().starts_with("/api/") {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    response.headers_mut().insert(
        "access-control-allow-origin",
        axum::http::HeaderValue::from_static("*"),
    );
    response
}

/// v2.5.1–v2.14: an Origin, when sent, must be `http://<private IPv4 literal>`.
fn origin_allowed(origin: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    origin
        .strip_prefix("http://")
        .and_then(|host| host.parse::<Ipv4Addr>().ok())
        .is_some_and(|ip| ip.is_private())
}

fn json_reply(p: Personality, v: &serde_json::Value) -> Response {
    ([("content-type", "application/json")], api::render(p, v)).into_response()
}

async fn info(State(inner): State<Shared>) -> Response {
    let (value, p, faults) =
        inner.with(|s| (api::info(s, &inner.name), s.personality, s.faults.clone()));
    let text = api::render(p, &value);
    if faults.malformed {
        return (
            [("content-type", "application/json")],
            "<html>ESP-IDF: out of memory</html>",
        )
            .into_response();
    }
    if faults.truncated {
        let cut: String = text.chars().take(text.chars().count() / 2).collect();
        return ([("content-type", "application/json")], cut).into_response();
    }
    ([("content-type", "application/json")], text).into_response()
}

async fn patch_settings(State(inner): State<Shared>, _headers: HeaderMap, body: Bytes) -> Response {
    match inner.with(|s| api::patch(s, &body)) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            let (status, text) = e.reply();
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            (code, [("content-type", "text/html")], text).into_response()
        }
    }
}

async fn restart(State(inner): State<Shared>) -> Response {
    let p = inner.with(|s| s.personality);
    let delay = inner.real_delay(1.0);
    let later = inner.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let now = later.sim_now();
        later.with(|s| s.reboot(now));
        later.changed.send_modify(|v| *v += 1);
    });
    if p.since(2, 13) {
        json_reply(
            p,
            &serde_json::json!({"message": "System will restart shortly."}),
        )
    } else {
        "System will restart shortly.".into_response()
    }
}

async fn pause(State(inner): State<Shared>) -> Response {
    pause_or_resume(inner, true)
}

async fn resume(State(inner): State<Shared>) -> Response {
    pause_or_resume(inner, false)
}

fn pause_or_resume(inner: Shared, pause: bool) -> Response {
    let p = inner.with(|s| s.personality);
    if !p.can_pause() {
        return unknown_route(p);
    }
    inner.with(|s| if pause { s.pause() } else { s.resume() });
    let message = if pause {
        "Mining paused"
    } else {
        "Mining resumed"
    };
    json_reply(p, &serde_json::json!({ "message": message }))
}
