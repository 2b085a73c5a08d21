//! The engine's HTTP API (axum): JSON under `/api/v1/`, the engine's events as Server-Sent
//! Events, Prometheus `/metrics`, and the web UI's static files at `/`. Every route but the
//! static files needs a bearer token (see [`tokens`]); the checks are in [`guard`]. Handlers call
//! [`bitaxe_core::ops`] with the engine as target.
//!
//! Routes: `GET /api/v1/version`, `GET /api/v1/overview`, `GET /api/v1/miners`,
//! `GET /api/v1/plan`, `GET /api/v1/history`, `GET /api/v1/events` (SSE), `GET /metrics` (read token);
//! `POST /api/v1/apply` `{profile, miner?}`, `POST /api/v1/emergency`, `POST /api/v1/resume`,
//! `POST /api/v1/pause`, `POST /api/v1/miners/{name}/{action}`, `GET` and `PUT /api/v1/config`
//! (control token); `POST /api/v1/call/{command}` (any UI command by name, body = its
//! arguments; the command's own scope, see [`bitaxe_app::scope_of`]).

mod call;
pub mod guard;
pub mod limiter;
pub mod local;
pub mod mdns;
pub mod metrics;
pub mod routes;
mod sse;
mod state;
pub mod tls;
pub mod tokens;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::{Listener, ListenerExt};
use axum::Router;
use bitaxe_app::{Service, ServiceOptions};
use bitaxe_core::EngineHandle;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use limiter::{LockoutPolicy, RateCap};
pub use routes::API_VERSION;
pub use tokens::{Scope, TokenError, Tokens};

/// Limits and where the web UI is.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Bytes a request body may have (larger: 413).
    pub max_body: usize,
    /// Failed authentications per source before a lockout (429).
    pub lockout: LockoutPolicy,
    /// Requests per source IP (more: 429).
    pub rate: RateCap,
    /// Events kept for `Last-Event-ID` replay.
    pub replay: usize,
    /// The config path whose token files are watched: a rotation (`--rotate-token`) takes
    /// effect within `reload_every` without a restart. None: the tokens given stay.
    pub token_files: Option<PathBuf>,
    pub reload_every: std::time::Duration,
    /// The built web UI (`ui/dist`); none: a placeholder page at `/`.
    pub static_dir: Option<PathBuf>,
    /// Serve HTTPS with this certificate (see [`tls`]); none: plain HTTP.
    pub tls: Option<tls::Identity>,
    /// Advertise the API over mDNS when it listens on a non-loopback address (see [`mdns`]).
    pub advertise: bool,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            max_body: 64 * 1024,
            lockout: LockoutPolicy::default(),
            rate: RateCap::default(),
            replay: 512,
            token_files: None,
            reload_every: std::time::Duration::from_secs(2),
            static_dir: None,
            tls: None,
            advertise: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the API cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the API needs the engine, and this process has none ({why})")]
    NoEngine { why: String },
    #[error("the API's local socket {path}: {source}")]
    Socket {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// A running API server.
pub struct ApiServer {
    addr: SocketAddr,
    cancel: CancellationToken,
    task: JoinHandle<()>,
    fingerprint: Option<String>,
    advertiser: Option<mdns::Advertiser>,
    socket: Option<PathBuf>,
}

impl ApiServer {
    /// Bind `listen` and serve `engine` until [`ApiServer::stop`] (HTTPS with `options.tls`),
    /// with a command service of its own for `POST /api/v1/call/{command}`.
    pub async fn start(
        engine: EngineHandle,
        listen: SocketAddr,
        tokens: Tokens,
        options: ApiOptions,
    ) -> Result<ApiServer, ServeError> {
        let service = Service::new(ServiceOptions::for_engine(engine));
        ApiServer::start_with(Arc::new(service), listen, tokens, options).await
    }

    /// Bind `listen` and serve `service`'s engine until [`ApiServer::stop`]; the calls share
    /// `service` (its events log) with whoever else holds it. Refused without an engine: the
    /// API runs only inside the process that holds the config's lock.
    pub async fn start_with(
        service: Arc<Service>,
        listen: SocketAddr,
        tokens: Tokens,
        options: ApiOptions,
    ) -> Result<ApiServer, ServeError> {
        let engine = service.engine.clone().ok_or_else(|| ServeError::NoEngine {
            why: service
                .read_only
                .clone()
                .unwrap_or_else(|| "no engine".into()),
        })?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: listen,
            source,
        })?;
        let tls = match &options.tls {
            Some(id) => Some((id.server_config()?, id.fingerprint())),
            None => None,
        };
        let (shared, cancel) = shared(
            engine,
            service,
            tokens,
            guard::HostAllowList::new(addr),
            &options,
        );
        let app = router(shared);
        let (task, fingerprint) = match tls {
            None => (spawn_serve(listener, app, cancel.clone()), None),
            Some((config, fingerprint)) => {
                let listener =
                    tls::TlsListener::new(listener, config).map_err(|source| ServeError::Bind {
                        addr: listen,
                        source,
                    })?;
                (
                    spawn_serve(listener, app, cancel.clone()),
                    Some(fingerprint),
                )
            }
        };
        let advertiser = if options.advertise {
            mdns::Advertiser::start(addr, fingerprint.is_some()).unwrap_or_else(|e| {
                tracing::warn!("{e}; the scheduler is not announced on the LAN");
                None
            })
        } else {
            None
        };
        tracing::debug!(
            "API listening on {}://{addr}",
            if fingerprint.is_some() {
                "https"
            } else {
                "http"
            }
        );
        Ok(ApiServer {
            addr,
            cancel,
            task,
            fingerprint,
            advertiser,
            socket: None,
        })
    }

    /// Serve the same router on the Unix socket `path` (see [`local`]): the channel one-shot
    /// commands beside a running scheduler use. Each request is logged (method and path).
    #[cfg(unix)]
    pub async fn start_local(
        engine: EngineHandle,
        path: &std::path::Path,
        tokens: Tokens,
        options: ApiOptions,
    ) -> Result<ApiServer, ServeError> {
        let service = Arc::new(Service::new(ServiceOptions::for_engine(engine.clone())));
        let listener = local::LocalListener::bind(path).map_err(|source| ServeError::Socket {
            path: path.display().to_string(),
            source,
        })?;
        let (shared, cancel) = shared(
            engine,
            service,
            tokens,
            guard::HostAllowList::new(local::LOCAL_HOST),
            &options,
        );
        let app = router(shared).layer(axum::middleware::from_fn(local::log_request));
        let task = spawn_serve(listener, app, cancel.clone());
        Ok(ApiServer {
            addr: local::LOCAL_HOST,
            cancel,
            task,
            fingerprint: None,
            advertiser: None,
            socket: Some(path.to_path_buf()),
        })
    }

    /// Where it listens (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// With TLS: the certificate's fingerprint (`SHA256:AB:..`).
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        local::Advertised {
            addr: self.addr,
            fingerprint: self.fingerprint.clone(),
        }
        .url()
    }

    /// The mDNS instance advertised, if any.
    pub fn advertised_as(&self) -> Option<&str> {
        self.advertiser.as_ref().map(|a| a.fullname())
    }

    /// Stop accepting, end the event streams, and wait for the server to finish; the mDNS
    /// advertisement is withdrawn and the local socket removed.
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
        if let Some(a) = self.advertiser {
            let _ = tokio::task::spawn_blocking(move || a.stop()).await;
        }
        if let Some(p) = self.socket {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The state every handler shares, with its background tasks (event pump, token reload).
fn shared(
    engine: EngineHandle,
    service: Arc<Service>,
    tokens: Tokens,
    hosts: guard::HostAllowList,
    options: &ApiOptions,
) -> (Arc<state::Shared>, CancellationToken) {
    let cancel = CancellationToken::new();
    let shared = Arc::new(state::Shared::new(
        engine,
        service,
        tokens,
        hosts,
        options.clone(),
        sse::EventLog::new(options.replay),
        cancel.clone(),
    ));
    tokio::spawn(sse::pump(shared.clone(), cancel.clone()));
    if let Some(config) = options.token_files.clone() {
        tokio::spawn(reload_tokens(shared.clone(), config, cancel.clone()));
    }
    (shared, cancel)
}

/// Serve `app` on `listener` until `stop`; peers' addresses reach the guard as `ConnectInfo`.
fn spawn_serve<L>(listener: L, app: Router, stop: CancellationToken) -> JoinHandle<()>
where
    L: Listener<Addr = SocketAddr>,
{
    tokio::spawn(async move {
        let served = axum::serve(
            listener.tap_io(|_| {}),
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop.cancelled_owned())
        .await;
        if let Err(e) = served {
            tracing::error!("API server stopped: {e}");
        }
    })
}

/// Pick up rotated tokens from disk; a file missing or broken keeps the tokens in force.
async fn reload_tokens(shared: Arc<state::Shared>, config: PathBuf, cancel: CancellationToken) {
    let mut every = tokio::time::interval(shared.options.reload_every);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        let path = config.clone();
        let loaded = tokio::task::spawn_blocking(move || Tokens::load(&path)).await;
        match loaded {
            Ok(Ok(t)) => {
                let now = shared.tokens();
                if t.control() != now.control() || t.read() != now.read() {
                    tracing::info!("API: new tokens from disk in force");
                    shared.set_tokens(t);
                }
            }
            Ok(Err(e)) => tracing::warn!("API: tokens not reloaded: {e}"),
            Err(_) => return,
        }
    }
}

fn router(shared: Arc<state::Shared>) -> Router {
    let max_body = shared.options.max_body;
    Router::new()
        .route("/api/v1/version", get(routes::version))
        .route("/api/v1/overview", get(routes::overview))
        .route("/api/v1/miners", get(routes::miners))
        .route("/api/v1/plan", get(routes::plan))
        .route("/api/v1/history", get(routes::history))
        .route(
            "/api/v1/config",
            get(routes::config).put(routes::save_config),
        )
        .route("/api/v1/events", get(sse::events))
        .route("/api/v1/apply", post(routes::apply))
        .route("/api/v1/emergency", post(routes::emergency))
        .route("/api/v1/resume", post(routes::resume))
        .route("/api/v1/pause", post(routes::pause))
        .route("/api/v1/miners/{name}/{action}", post(routes::miner_action))
        .route("/api/v1/call/{command}", post(call::call))
        .route("/metrics", get(metrics::metrics))
        .fallback(web::page)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            guard::guard,
        ))
        .with_state(shared)
}
