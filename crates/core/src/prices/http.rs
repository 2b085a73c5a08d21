//! The HTTP side of fetching: one client with a timeout, a User-Agent and a careful redirect
//! policy, and answers turned into text or a [`PriceError`] (never showing the request URL).

use std::time::Duration;

use super::error::PriceError;

pub const USER_AGENT: &str = concat!(
    "bitaxe-fleet-scheduler/",
    env!("CARGO_PKG_VERSION"),
    " (prices)"
);

/// A client for price feeds: `timeout` for each whole request; at most three redirects, and
/// only to https or back to the same host.
pub fn client(timeout: Duration) -> Result<reqwest::Client, PriceError> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt
            .previous()
            .first()
            .is_some_and(|first| first.host_str() == attempt.url().host_str());
        if attempt.previous().len() > 3 {
            attempt.stop()
        } else if attempt.url().scheme() == "https" || same_host {
            attempt.follow()
        } else {
            attempt.stop()
        }
    });
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(policy)
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| PriceError::Setup(format!("cannot set up HTTP: {}", e.without_url())))
}

/// Send `req` and return the body of a 2xx answer.
pub(crate) async fn text(
    feed: &str,
    req: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<String, PriceError> {
    let (status, body) = send(feed, req, timeout).await?;
    if !(200..300).contains(&status) {
        return Err(status_error(feed, status, &body));
    }
    Ok(body)
}

/// Send `req` and return the status and body of any answer.
pub(crate) async fn send(
    feed: &str,
    req: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<(u16, String), PriceError> {
    let err = |e: reqwest::Error| {
        if e.is_timeout() {
            PriceError::Timeout {
                feed: feed.to_string(),
                seconds: timeout.as_secs_f64(),
            }
        } else {
            PriceError::Network {
                feed: feed.to_string(),
                message: chain(&e.without_url()),
            }
        }
    };
    let resp = req.send().await.map_err(err)?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(err)?;
    Ok((status, body))
}

/// An error for an answer that is not 2xx, with the start of its body.
pub(crate) fn status_error(feed: &str, status: u16, body: &str) -> PriceError {
    let mut body: String = body.trim().chars().take(300).collect();
    if body.is_empty() {
        body = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("no reason given")
            .into();
    }
    PriceError::Status {
        feed: feed.to_string(),
        status,
        body,
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
