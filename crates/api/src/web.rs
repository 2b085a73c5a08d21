//! The web UI's static files at `/`, loaded without a token: the `ui/dist` bundle when the
//! server was given one, else a placeholder page. Only plain file names under that folder are
//! served (no `..`, no hidden files), to GET and HEAD only.
//!
//! Caching: Vite names every file under `assets/` after a hash of its content, so those may be
//! kept for a year (`immutable`); everything else (index.html above all, which names the
//! current assets) is `no-store`, so a new build is picked up on the next load. Every page
//! carries a Content-Security-Policy allowing only the server itself (plus `data:` images, which
//! the chart's PNG export draws from): no inline script, no other origin to fetch from.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::state::Shared;

const PLACEHOLDER: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width\"><title>Bitaxe Fleet Scheduler</title></head>\
<body><h1>Bitaxe Fleet Scheduler</h1><p>The API is at <code>/api/v1/</code> (a token is needed). \
The web UI is not built into this server.</p></body></html>";

/// The policy every static answer carries: only this server, no framing, no plugins.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Hashed build output: safe to cache for good.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

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
        "webmanifest" => "application/manifest+json",
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

/// `Cache-Control` for a served path: hashed assets for good, the rest never.
fn cache_control(rel: &str) -> &'static str {
    if rel.trim_start_matches('/').starts_with("assets/") {
        IMMUTABLE
    } else {
        "no-store"
    }
}

/// The headers every static answer carries (the guard adds `nosniff`).
fn with_headers(mut r: Response, cache: &'static str) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// `/` and every path outside the API.
pub async fn page(State(s): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" || path == "/metrics" {
        return crate::routes::not_found().await;
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let Some(root) = &s.options.static_dir else {
        return if path == "/" {
            with_headers(Html(PLACEHOLDER).into_response(), "no-store")
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
    };
    let rel = if path == "/" { "index.html" } else { path };
    let Some(file) = inside(root, rel) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => with_headers(
            ([(header::CONTENT_TYPE, content_type(&file))], bytes).into_response(),
            cache_control(rel),
        ),
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

    #[test]
    fn hashed_assets_are_cached_for_good_and_the_page_never() {
        assert_eq!(cache_control("/assets/index-3f2a9c1b.js"), IMMUTABLE);
        assert_eq!(cache_control("index.html"), "no-store");
        assert_eq!(cache_control("/favicon.svg"), "no-store");
        assert_eq!(
            content_type(Path::new("a/index-3f2a.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("a.css")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
