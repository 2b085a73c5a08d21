//! `POST /api/v1/call/{command}`: any command the UI calls, by its Tauri name, with the object
//! the UI passes to `invoke` as the JSON body (empty: no arguments). The answer is the
//! command's JSON (200), or its [`CmdError`] `{code, message}` with a status that fits the code:
//! 404 `unknown_command`, 403 `forbidden` (a read token on a control command), 400 for bad
//! arguments or input, 409 when the state forbids it, 502 when a miner or a price source
//! failed. The guard lets every token through to this route; the command's own scope
//! ([`bitaxe_app::scope_of`]) is checked by the dispatcher.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bitaxe_app::CmdError;
use serde_json::Value;

use crate::state::Shared;
use crate::tokens::Scope;

pub async fn call(
    State(s): State<Arc<Shared>>,
    Extension(scope): Extension<Scope>,
    Path(command): Path<String>,
    body: Bytes,
) -> Response {
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v,
            Err(e) => {
                return answer_error(CmdError::new(
                    "bad_args",
                    format!("{command}: the body is not JSON: {e}"),
                ))
            }
        }
    };
    let scope = match scope {
        Scope::Read => bitaxe_app::Scope::Read,
        Scope::Control => bitaxe_app::Scope::Control,
    };
    match bitaxe_app::dispatch_as(&s.service, scope, &command, args).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => answer_error(e),
    }
}

fn answer_error(e: CmdError) -> Response {
    (status_of(&e.code), Json(e)).into_response()
}

/// The HTTP status for a command error's code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        "unknown_command" | "unknown_miner" => StatusCode::NOT_FOUND,
        "forbidden" => StatusCode::FORBIDDEN,
        "bad_args" | "bad_range" | "bad_time" | "bad_kind" | "bad_name" | "bad_address"
        | "unknown_profile" | "miner_exists" | "config_invalid" | "config_syntax" | "no_tariff"
        | "missing" | "unsupported" => StatusCode::BAD_REQUEST,
        "read_only" | "needs_engine" | "emergency_in_force" | "nothing_pending"
        | "engine_locked" => StatusCode::CONFLICT,
        "refused" | "timeout" | "unreachable" | "http_status" | "rejected" | "invalid_json"
        | "redirected" | "too_large" | "fetch_failed" | "prices" | "not_applied" => {
            StatusCode::BAD_GATEWAY
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_statuses() {
        assert_eq!(status_of("unknown_command"), StatusCode::NOT_FOUND);
        assert_eq!(status_of("forbidden"), StatusCode::FORBIDDEN);
        assert_eq!(status_of("bad_args"), StatusCode::BAD_REQUEST);
        assert_eq!(status_of("read_only"), StatusCode::CONFLICT);
        assert_eq!(status_of("timeout"), StatusCode::BAD_GATEWAY);
        assert_eq!(status_of("history"), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
