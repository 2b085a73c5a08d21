//! The JSON routes under `/api/v1/`: each one calls the operations layer with the engine as
//! target (nothing reimplemented here).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bitaxe_core::config::MinerConfig;
use bitaxe_core::ops::{self, CarriedOut, OpsError, Report};
use bitaxe_core::schedule::Profile;
use bitaxe_core::status::FleetStatus;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::Shared;

/// The API's version: a client refuses another major.
pub const API_VERSION: &str = "1.0";

/// `{"error": code, "message": text}`.
pub fn error_body(code: &str, message: &str) -> Json<Value> {
    Json(json!({ "error": code, "message": message }))
}

/// An operation's failure as an answer.
pub struct ApiError(OpsError);

impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code();
        let status = match code {
            "unknown_miner" => StatusCode::NOT_FOUND,
            "unknown_profile" | "bad_name" | "miner_exists" | "config_invalid"
            | "config_syntax" | "bad_address" => StatusCode::BAD_REQUEST,
            "emergency_in_force" | "nothing_pending" => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, error_body(code, &self.0.to_string())).into_response()
    }
}

type Answer = Result<Json<Value>, ApiError>;

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn report(r: &Report) -> Value {
    json!({
        "by": match r.by {
            CarriedOut::Engine => "engine",
            CarriedOut::Scheduler => "scheduler",
            CarriedOut::Here => "here",
        },
        "saved": r.saved.is_ok(),
        "save_error": r.saved.as_ref().err(),
        "notes": r.notes,
        "miners": r.miners.iter().map(|m| json!({
            "miner": m.miner,
            "ok": m.result.is_ok(),
            "settings": m.result.as_ref().ok().map(to_value),
            "error": m.result.as_ref().err(),
        })).collect::<Vec<_>>(),
    })
}

/// The versions, and the caller's token scope (`read` or `control`: the web UI shows its
/// controls only to the control token).
pub async fn version(scope: Option<axum::Extension<crate::tokens::Scope>>) -> Json<Value> {
    let scope = match scope.map(|s| s.0) {
        Some(crate::tokens::Scope::Control) => "control",
        _ => "read",
    };
    Json(json!({ "api": API_VERSION, "app": env!("CARGO_PKG_VERSION"), "scope": scope }))
}

pub async fn overview(State(s): State<Arc<Shared>>) -> Result<Json<FleetStatus>, ApiError> {
    Ok(Json(ops::status(&s.target()).await?))
}

pub async fn miners(State(s): State<Arc<Shared>>) -> Result<Json<Vec<MinerConfig>>, ApiError> {
    Ok(Json(ops::config(&s.target())?.miners))
}

/// `GET /api/v1/config` (control token: a config may hold a price feed's API key).
pub async fn config(
    State(s): State<Arc<Shared>>,
) -> Result<Json<bitaxe_core::config::Config>, ApiError> {
    Ok(Json(ops::config(&s.target())?))
}

/// `PUT /api/v1/config`: a whole new config, validated, saved (the user's comments kept) and in
/// force at once.
pub async fn save_config(
    State(s): State<Arc<Shared>>,
    Json(config): Json<bitaxe_core::config::Config>,
) -> Answer {
    ops::save_config(&s.target(), config)?;
    Ok(Json(json!({ "saved": true })))
}

pub async fn plan(State(s): State<Arc<Shared>>) -> Json<Vec<ops::PlanRow>> {
    Json(ops::plan_at(&s.engine.config(), s.engine.now(), None))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    pub profile: Profile,
    #[serde(default)]
    pub miner: Option<String>,
}

pub async fn apply(State(s): State<Arc<Shared>>, Json(body): Json<ApplyBody>) -> Answer {
    let r = ops::apply(&s.target(), body.profile, body.miner.as_deref()).await?;
    Ok(Json(report(&r)))
}

pub async fn emergency(State(s): State<Arc<Shared>>) -> Answer {
    let r = ops::emergency_stop(&s.target()).await?;
    Ok(Json(report(&r)))
}

pub async fn resume(State(s): State<Arc<Shared>>) -> Answer {
    let o = ops::resume(&s.target())?;
    Ok(Json(json!({
        "emergency": o.emergency,
        "paused": o.paused,
        "manual": o.manual.is_some() || !o.per_miner.is_empty(),
    })))
}

pub async fn pause(State(s): State<Arc<Shared>>) -> Answer {
    ops::set_paused(&s.target(), true)?;
    Ok(Json(json!({ "paused": true })))
}

/// Unknown paths under the API (after authentication).
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        error_body("not_found", "no such route"),
    )
        .into_response()
}

/// `GET /api/v1/history?miner=NAME&from=RFC3339&to=RFC3339&bucket=SECONDS`: averages per bucket
/// (default: the last hour, a minute per point, the whole fleet).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub miner: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    pub bucket: Option<i64>,
}

pub async fn history(
    State(s): State<Arc<Shared>>,
    axum::extract::Query(q): axum::extract::Query<HistoryQuery>,
) -> Result<Json<Vec<bitaxe_core::history::Point>>, ApiError> {
    let to = q.to.unwrap_or_else(|| s.engine.now());
    let from = q.from.unwrap_or(to - chrono::Duration::hours(1));
    let bucket = q.bucket.unwrap_or(60).clamp(1, 86_400);
    let points = ops::history(&s.target(), q.miner.as_deref(), from, to, bucket).await?;
    Ok(Json(points))
}

/// `POST /api/v1/miners/{name}/{action}`: `restart`, `retry`, `clear-ceiling`,
/// `confirm-identity`, `pause`, `unpause` (hashing, firmware v2.14+), `enable`, `disable`.
pub async fn miner_action(
    State(s): State<Arc<Shared>>,
    axum::extract::Path((name, action)): axum::extract::Path<(String, String)>,
) -> Result<Response, ApiError> {
    let t = s.target();
    match action.as_str() {
        "restart" => ops::restart_miner(&t, &name).await?,
        "retry" => ops::retry_miner(&t, &name).await?,
        "clear-ceiling" => ops::clear_ceiling(&t, &name).await?,
        "confirm-identity" => {
            ops::confirm_identity(&t, &name)?;
        }
        "pause" => ops::pause_miner(&t, &name, true).await?,
        "unpause" => ops::pause_miner(&t, &name, false).await?,
        "enable" => ops::set_enabled(&t, &name, true)?,
        "disable" => ops::set_enabled(&t, &name, false)?,
        _ => return Ok(not_found().await),
    }
    Ok(Json(json!({ "miner": name, "done": action })).into_response())
}
