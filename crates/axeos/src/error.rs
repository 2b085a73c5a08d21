//! What can go wrong talking to one miner, worded so a log line explains it.

use std::time::Duration;

/// An error from one request to one miner.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("connection refused by {url}")]
    Refused { url: String },
    #[error("no answer from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("could not reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("{url} answered HTTP {status}: {excerpt}")]
    Status {
        url: String,
        status: u16,
        excerpt: String,
    },
    #[error("{url} rejected the settings (HTTP 400): {message}")]
    Rejected { url: String, message: String },
    #[error("{url} sent invalid JSON ({detail}): {excerpt}")]
    InvalidJson {
        url: String,
        detail: String,
        excerpt: String,
    },
    #[error(
        "{url} answered HTTP {status}, a redirect to {}; redirects are not followed \
         (is this really an AxeOS miner, and is the address right?)",
        location.as_deref().unwrap_or("nowhere (no Location header)")
    )]
    Redirected {
        url: String,
        status: u16,
        location: Option<String>,
    },
    /// The firmware has no such route (HTTP 404, or before v2.9 a 302 to the captive portal):
    /// for pause and resume, a release before v2.14.
    #[error("{url}: this firmware cannot {what} (the route is unknown to it; {what} needs AxeOS v2.14 or later)")]
    Unsupported { url: String, what: &'static str },
    #[error("{url} sent more than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("invalid miner address {0:?}: expected IP, IP:PORT or http://HOST[:PORT]")]
    BadAddress(String),
}

impl Error {
    /// A short stable code for front ends to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Refused { .. } => "refused",
            Error::Timeout { .. } => "timeout",
            Error::Unreachable { .. } => "unreachable",
            Error::Status { .. } => "http_status",
            Error::Rejected { .. } => "rejected",
            Error::InvalidJson { .. } => "invalid_json",
            Error::Redirected { .. } => "redirected",
            Error::Unsupported { .. } => "unsupported",
            Error::TooLarge { .. } => "too_large",
            Error::BadAddress(_) => "bad_address",
        }
    }

    /// True when the firmware does not know the route (see [`Error::Unsupported`]).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. })
    }

    /// True when the miner did not answer at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Error::Refused { .. } | Error::Timeout { .. } | Error::Unreachable { .. }
        )
    }
}

/// At most `max` characters of `text`, on one line, for error messages.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.chars().count() <= max {
        trimmed.to_string()
    } else {
        let cut: String = trimmed.chars().take(max).collect();
        format!("{cut}…")
    }
}
