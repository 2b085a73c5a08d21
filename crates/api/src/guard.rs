//! The checks every request passes, in order: the Host allow-list (DNS rebinding: 421), a foreign
//! `Origin` (403), the body size (413), the request rate per source (429), then for the API and `/metrics` the bearer token (a
//! locked-out source 429, no or a wrong token 401, the read token on a writing route 403). Every
//! answer, refusals included, carries `X-Content-Type-Options: nosniff` and
//! `Cache-Control: no-store`; no CORS header is ever sent.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::routes::error_body;
use crate::state::Shared;
use crate::tokens::Scope;

/// The hosts a request may name: the listen address, and loopback by name or number, all with
/// the port. Listening on an unspecified address (0.0.0.0 or ::) also allows any IP literal with
/// the port (a rebinding attack needs a DNS name).
#[derive(Debug, Clone)]
pub struct HostAllowList {
    port: u16,
    listen: IpAddr,
}

impl HostAllowList {
    pub fn new(listen: SocketAddr) -> HostAllowList {
        HostAllowList {
            port: listen.port(),
            listen: listen.ip(),
        }
    }

    pub fn allows(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        if port != self.port {
            return false;
        }
        let name = name.to_ascii_lowercase();
        if name == "localhost" {
            return true;
        }
        match name.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback() || ip == self.listen || self.listen.is_unspecified(),
            Err(_) => false,
        }
    }
}

/// `name:port` or `[v6]:port`; a Host without a port is refused (browsers always send it for a
/// port other than 80).
fn split_host(host: &str) -> Option<(&str, u16)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (ip, port) = rest.split_once("]:")?;
        return Some((ip, port.parse().ok()?));
    }
    let (name, port) = host.rsplit_once(':')?;
    Some((name, port.parse().ok()?))
}

/// The scope a route needs: reading for GET and HEAD, control for everything else and for the
/// config (it may hold a price feed's API key). `POST /api/v1/call/{command}` needs any token
/// here: each command's own scope is checked where it is dispatched (the caller's scope rides
/// along as a request extension).
fn needed(method: &Method, path: &str) -> Scope {
    if path.starts_with("/api/v1/call/") {
        Scope::Read
    } else if path.starts_with("/api/v1/config") {
        Scope::Control
    } else if method == Method::GET || method == Method::HEAD {
        Scope::Read
    } else {
        Scope::Control
    }
}

fn protected(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/metrics"
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (status, error_body(code, message)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

pub async fn guard(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let mut r = check(&shared, peer, req, next).await;
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn check(shared: &Shared, peer: SocketAddr, mut req: Request<Body>, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    let host_ok = host.as_deref().is_some_and(|h| shared.hosts.allows(h));
    if !host_ok {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "foreign_host",
            "this server answers only to its own address",
        );
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|o| host.as_deref() == Some(o) && shared.hosts.allows(o));
        if !same {
            return refuse(
                StatusCode::FORBIDDEN,
                "foreign_origin",
                "requests from other sites are refused",
            );
        }
    }
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > shared.options.max_body as u64) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is too large",
        );
    }
    let ip = peer.ip();
    let now = Instant::now();
    if !shared.buckets().take(ip, now) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from this address; slow down",
        );
    }
    if !protected(req.uri().path()) {
        return next.run(req).await;
    }
    if shared.limiter().locked(ip, now) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "locked_out",
            "too many failed attempts from this address; try again later",
        );
    }
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let scope = presented.and_then(|t| shared.tokens().scope_of(t));
    let Some(scope) = scope else {
        // Only a wrong token counts towards a lockout: a page asking before it has one does not.
        if presented.is_some() {
            if shared.limiter().fail(ip, now) {
                tracing::warn!("API: {ip} locked out after repeated failed authentication");
            } else {
                tracing::info!("API: failed authentication from {ip}");
            }
        }
        return refuse(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid token is needed (Authorization: Bearer TOKEN)",
        );
    };
    if scope < needed(req.method(), req.uri().path()) {
        return refuse(
            StatusCode::FORBIDDEN,
            "read_only",
            "this token may only read; use the control token",
        );
    }
    req.extensions_mut().insert(scope);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let l = HostAllowList::new("127.0.0.1:8417".parse().expect("addr"));
        for ok in [
            "127.0.0.1:8417",
            "localhost:8417",
            "LOCALHOST:8417",
            "[::1]:8417",
        ] {
            assert!(l.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:8417",
            "127.0.0.1:80",
            "127.0.0.1",
            "bitaxe-pi.lan:8417",
            "localhost.evil.example:8417",
            "",
        ] {
            assert!(!l.allows(bad), "{bad}");
        }
        // Listening on every address: any address literal with the port, still no names.
        let any = HostAllowList::new("0.0.0.0:8417".parse().expect("addr"));
        assert!(any.allows("127.0.0.6:8417"));
        assert!(!any.allows("127.0.0.6:8418"));
        assert!(!any.allows("bitaxe-pi.lan:8417"));
        assert!(!any.allows("attacker.example:8417"));
    }
}
