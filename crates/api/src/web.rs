//! The web UI's static files at `/`, loaded without a token: the `ui/dist` bundle when the
//! server was given one, else a placeholder page. Only plain file names under that folder are
//! served (no `..`, no hidden files).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::state::Shared;

const PLACEHOLDER: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>Bitaxe Fleet Scheduler</title></head>\
<body><h1>Bitaxe Fleet Scheduler</h1><p>The API is at <code>/api/v1/</code> (a token is needed). \
The web UI is not built into this server.</p></body></html>";

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `rel` as a path inside `root`, if it is made of plain, visible names only.
fn inside(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel.trim_start_matches('/'));
    let mut out = root.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(n) if !n.to_string_lossy().starts_with('.') => out.push(n),
            _ => return None,
        }
    }
    Some(out)
}

/// `/` and every path outside the API.
pub async fn page(State(s): State<Arc<Shared>>, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" || path == "/metrics" {
        return crate::routes::not_found().await;
    }
    let Some(root) = &s.options.static_dir else {
        return if path == "/" {
            Html(PLACEHOLDER).into_response()
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
    };
    let rel = if path == "/" { "index.html" } else { path };
    let Some(file) = inside(root, rel) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&file))], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_inside_the_root() {
        let root = Path::new("/srv/ui");
        assert_eq!(inside(root, "/assets/a.js"), Some(root.join("assets/a.js")));
        assert_eq!(inside(root, "/../etc/passwd"), None);
        assert_eq!(inside(root, "/.git/config"), None);
        assert_eq!(inside(root, "/a/../../b"), None);
    }
}
