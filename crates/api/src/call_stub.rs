//! TEMPORARY (helper "web"'s branch only; dropped at merge in favour of helper "app"'s
//! `call.rs`): a minimal `POST /api/v1/call/{command}` with the contract's shape, covering the
//! commands the web UI's end-to-end test drives. Unknown commands: 404 `unknown_command`; a
//! writing command with the read token: 403 `forbidden`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bitaxe_core::chart;
use bitaxe_core::ops;
use bitaxe_core::schedule::Profile;
use serde_json::{json, Value};

use crate::state::Shared;
use crate::tokens::Scope;

fn err(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

fn ops_err(e: ops::OpsError) -> Response {
    err(StatusCode::BAD_REQUEST, e.code(), e.to_string())
}

const READ: &[&str] = &["overview", "get_config", "events", "sparklines", "plan"];
const CONTROL: &[&str] = &[
    "apply_profile",
    "set_paused",
    "resume",
    "emergency_stop",
    "pause_miner",
    "restart_miner",
];

pub async fn call(
    State(s): State<Arc<Shared>>,
    Path(command): Path<String>,
    scope: Option<Extension<Scope>>,
    Json(args): Json<Value>,
) -> Response {
    let scope = scope.map(|e| e.0).unwrap_or(Scope::Read);
    if CONTROL.contains(&command.as_str()) {
        if scope < Scope::Control {
            return err(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token may only read; use the control token".into(),
            );
        }
    } else if !READ.contains(&command.as_str()) {
        return err(
            StatusCode::NOT_FOUND,
            "unknown_command",
            format!("no command {command:?}"),
        );
    }
    let t = s.target();
    let s_arg = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_string);
    let r: Result<Value, ops::OpsError> = match command.as_str() {
        "overview" => match (ops::status(&t).await, ops::config(&t)) {
            (Ok(status), Ok(config)) => Ok(json!({
                "status": status,
                "read_only": null,
                "config_path": "",
                "demo": false,
                "limits": config.envelope(),
                "colours": config.miners.iter().map(|m| (m.name.clone(), chart::colour_hex(chart::miner_colour(&m.name)))).collect::<Vec<_>>(),
            })),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        "get_config" => ops::config(&t).map(|c| serde_json::to_value(c).unwrap_or(Value::Null)),
        "events" | "sparklines" => Ok(json!([])),
        "plan" => Ok(json!(ops::plan_at(&s.engine.config(), s.engine.now(), None))),
        "apply_profile" => {
            let Some(profile) = args
                .get("profile")
                .cloned()
                .and_then(|p| serde_json::from_value::<Profile>(p).ok())
            else {
                return err(StatusCode::BAD_REQUEST, "bad_args", "profile".into());
            };
            ops::apply(&t, profile, s_arg("miner").as_deref())
                .await
                .map(|_| Value::Null)
        }
        "set_paused" => ops::set_paused(
            &t,
            args.get("paused").and_then(Value::as_bool).unwrap_or(true),
        )
        .map(|_| Value::Null),
        "resume" => ops::resume(&t).map(|_| Value::Null),
        "emergency_stop" => ops::emergency_stop(&t).await.map(|_| Value::Null),
        "pause_miner" => {
            ops::pause_miner(
                &t,
                &s_arg("name").unwrap_or_default(),
                args.get("paused").and_then(Value::as_bool).unwrap_or(true),
            )
            .await
        }
        .map(|_| Value::Null),
        "restart_miner" => ops::restart_miner(&t, &s_arg("name").unwrap_or_default())
            .await
            .map(|_| Value::Null),
        _ => Ok(Value::Null),
    };
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => ops_err(e),
    }
}
