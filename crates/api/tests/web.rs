//! The web UI's side of the API: the static files (without a token, with a CSP that allows only
//! the server, hashed assets cached for good and the page never, GET and HEAD only, nothing
//! outside the folder), and the version route saying which scope the caller's token has (the
//! page shows its controls only to the control token).

use std::time::Duration;

use bitaxe_api::{ApiOptions, ApiServer, Tokens};
use bitaxe_core::config::Config;
use bitaxe_core::{EngineHandle, EngineOptions};
use reqwest::{header, StatusCode};

struct Served {
    _dir: tempfile::TempDir,
    engine: EngineHandle,
    server: ApiServer,
    tokens: Tokens,
}

impl Served {
    async fn start() -> Served {
        let dir = tempfile::tempdir().expect("dir");
        let ui = dir.path().join("ui");
        std::fs::create_dir_all(ui.join("assets")).expect("ui dir");
        std::fs::write(
            ui.join("index.html"),
            "<!doctype html><script type=module src=/assets/index-3f2a9c1b.js></script>",
        )
        .expect("index");
        std::fs::write(ui.join("assets/index-3f2a9c1b.js"), "console.log(1)").expect("js");
        std::fs::write(ui.join("assets/index-77aa01.css"), "body{}").expect("css");
        std::fs::write(dir.path().join("secret.txt"), "outside").expect("outside");
        let config = dir.path().join("multi_scheduler_config.json");
        Config {
            timezone: "UTC".into(),
            ..Config::default()
        }
        .save(&config)
        .expect("save");
        let engine = EngineHandle::start(EngineOptions::new(&config)).expect("engine");
        let (tokens, _) = Tokens::load_or_create(&config).expect("tokens");
        let server = ApiServer::start(
            engine.clone(),
            "127.0.0.1:0".parse().expect("addr"),
            tokens.clone(),
            ApiOptions {
                static_dir: Some(ui),
                ..ApiOptions::default()
            },
        )
        .await
        .expect("serve");
        Served {
            _dir: dir,
            engine,
            server,
            tokens,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.local_addr())
    }

    async fn stop(self) {
        self.server.stop().await;
        self.engine.shutdown(Duration::from_secs(5)).await;
    }
}

fn header(r: &reqwest::Response, name: header::HeaderName) -> &str {
    r.headers()
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn the_page_and_its_assets_load_without_a_token_with_a_strict_csp_and_right_caching() {
    let s = Served::start().await;
    let http = reqwest::Client::new();

    let page = http.get(s.url("/")).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        header(&page, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_eq!(header(&page, header::CACHE_CONTROL), "no-store");
    assert_eq!(header(&page, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let csp = header(&page, header::CONTENT_SECURITY_POLICY).to_string();
    for want in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(want), "CSP {csp:?} lacks {want:?}");
    }
    assert!(
        !csp.contains("unsafe") && !csp.contains('*') && !csp.contains("http"),
        "CSP allows more than the server itself: {csp}"
    );

    let js = http
        .get(s.url("/assets/index-3f2a9c1b.js"))
        .send()
        .await
        .expect("js");
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(
        header(&js, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&js, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&js, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let css = http
        .get(s.url("/assets/index-77aa01.css"))
        .send()
        .await
        .expect("css");
    assert_eq!(
        header(&css, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );

    // HEAD answers like GET; other methods are refused; nothing outside the folder is served.
    let head = http.head(s.url("/")).send().await.expect("head");
    assert_eq!(head.status(), StatusCode::OK);
    let post = http.post(s.url("/index.html")).send().await.expect("post");
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/../../secret.txt",
        "/nope.js",
    ] {
        let r = http.get(s.url(path)).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The API itself still needs a token, and says no-store.
    let api = http
        .get(s.url("/api/v1/version"))
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&api, header::CACHE_CONTROL), "no-store");
    s.stop().await;
}

#[tokio::test]
async fn the_version_route_says_which_scope_the_token_has() {
    let s = Served::start().await;
    let http = reqwest::Client::new();
    for (token, scope) in [(s.tokens.control(), "control"), (s.tokens.read(), "read")] {
        let v: serde_json::Value = http
            .get(s.url("/api/v1/version"))
            .bearer_auth(token)
            .send()
            .await
            .expect("version")
            .json()
            .await
            .expect("json");
        assert_eq!(v["scope"], scope);
        assert_eq!(v["api"].as_str().map(|a| a.starts_with("1.")), Some(true));
    }
    s.stop().await;
}
