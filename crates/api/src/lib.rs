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
pub mod metrics;
pub mod routes;
mod sse;
mod state;
pub mod tokens;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
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
}

/// A running API server.
pub struct ApiServer {
    addr: SocketAddr,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl ApiServer {
    /// Bind `listen` and serve `engine` until [`ApiServer::stop`], with a command service of
    /// its own for `POST /api/v1/call/{command}`.
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
        let cancel = CancellationToken::new();
        let shared = Arc::new(state::Shared::new(
            engine,
            service,
            tokens,
            guard::HostAllowList::new(addr),
            options.clone(),
            sse::EventLog::new(options.replay),
            cancel.clone(),
        ));
        tokio::spawn(sse::pump(shared.clone(), cancel.clone()));
        if let Some(config) = options.token_files.clone() {
            tokio::spawn(reload_tokens(shared.clone(), config, cancel.clone()));
        }
        let app = router(shared);
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
            if let Err(e) = served {
                tracing::error!("API server stopped: {e}");
            }
        });
        tracing::debug!("API listening on http://{addr}");
        Ok(ApiServer { addr, cancel, task })
    }

    /// Where it listens (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, end the event streams, and wait for the server to finish.
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
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
