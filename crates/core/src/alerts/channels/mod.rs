//! The channels that carry an alert out of the engine: ntfy, Telegram and webhooks over HTTP
//! ([`http`]), e-mail over SMTP ([`email`]). One try per call: retries and backoff belong to the
//! engine's alerts task, which knows about cancellation.
//!
//! Every error is scrubbed of the channel's secrets before it leaves this module, and HTTP errors
//! are taken without their URL (a Telegram URL holds the bot token, a Discord one its key).

mod email;
mod http;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Alert, AlertKind};
use crate::config::alerts::ChannelConfig;
use crate::config::Config;

/// How long one delivery may take before it counts as failed.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// One message as every channel renders it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The alert kind's name, or `test`.
    pub kind: String,
    pub miner: String,
    pub recovered: bool,
    pub title: String,
    pub body: String,
    pub at: DateTime<Utc>,
    /// Offline or overheated, not a recovery: ntfy sends it at high priority.
    pub urgent: bool,
}

impl Outgoing {
    pub fn from_alert(alert: &Alert, at: DateTime<Utc>) -> Outgoing {
        Outgoing {
            kind: alert.kind.name().into(),
            miner: alert.miner.clone(),
            recovered: alert.recovered,
            title: alert.title.clone(),
            body: alert.body.clone(),
            at,
            urgent: !alert.recovered
                && matches!(alert.kind, AlertKind::Offline | AlertKind::Overheated),
        }
    }

    /// The message `--test-alert` and the Settings' "Send test" send.
    pub fn test(at: DateTime<Utc>) -> Outgoing {
        Outgoing {
            kind: "test".into(),
            miner: String::new(),
            recovered: false,
            title: "Bitaxe Fleet Scheduler: test alert".into(),
            body: "If you can read this, alerts reach you here.".into(),
            at,
            urgent: false,
        }
    }

    /// Title and body on two lines (Telegram, chat webhooks).
    pub fn text(&self) -> String {
        format!("{}\n{}", self.title, self.body)
    }
}

/// Why a delivery failed, scrubbed of secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

impl SendError {
    /// An error with every secret of `channel` replaced by `***`.
    fn scrubbed(channel: &ChannelConfig, message: String) -> SendError {
        SendError(scrub(channel, message))
    }
}

/// `message` with every secret `channel` holds replaced by `***`.
pub fn scrub(channel: &ChannelConfig, mut message: String) -> String {
    for secret in secrets(channel) {
        if secret.len() >= 3 {
            message = message.replace(&secret, "***");
        }
    }
    message
}

/// The channel's secrets, and the parts of its URLs that may be one (credentials, the query,
/// path segments long enough to be a key: a Discord webhook's, an ntfy topic's name).
fn secrets(channel: &ChannelConfig) -> Vec<String> {
    let url_parts = |u: &str| -> Vec<String> {
        match reqwest::Url::parse(u) {
            Ok(u) => {
                let mut v = vec![u.username().to_string()];
                v.extend(u.password().map(str::to_string));
                v.extend(
                    u.path_segments()
                        .into_iter()
                        .flatten()
                        .filter(|s| s.len() >= 8)
                        .map(str::to_string),
                );
                v.extend(u.query().map(str::to_string));
                v
            }
            Err(_) => vec![u.to_string()],
        }
    };
    match channel {
        ChannelConfig::Ntfy(c) => {
            let mut v = url_parts(&c.url);
            v.extend(c.token.iter().map(|t| t.expose().to_string()));
            v
        }
        ChannelConfig::Telegram(c) => vec![c.bot_token.expose().to_string()],
        ChannelConfig::Webhook(c) => {
            let mut v = url_parts(&c.url);
            v.extend(c.headers.values().map(|s| s.expose().to_string()));
            v
        }
        ChannelConfig::Email(c) => c.password.iter().map(|p| p.expose().to_string()).collect(),
    }
}

/// What a delivery needs besides the channel: one HTTP client, and for tests the certificate of
/// a self-signed SMTP server to trust.
#[derive(Clone)]
pub struct Delivery {
    http: reqwest::Client,
    smtp_roots: Vec<Vec<u8>>,
    timeout: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery::new(SEND_TIMEOUT)
    }
}

impl Delivery {
    pub fn new(timeout: Duration) -> Delivery {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("bitaxe-scheduler/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Delivery {
            http,
            smtp_roots: Vec::new(),
            timeout,
        }
    }

    /// Trust this PEM certificate (besides the usual roots) for SMTP over TLS: a self-hosted
    /// relay with its own certificate, or a test server.
    pub fn with_smtp_root_pem(mut self, pem: &[u8]) -> Delivery {
        self.smtp_roots.push(pem.to_vec());
        self
    }

    /// One try of `message` on `channel`.
    pub async fn send(&self, channel: &ChannelConfig, message: &Outgoing) -> Result<(), SendError> {
        let r = match channel {
            ChannelConfig::Ntfy(c) => http::ntfy(&self.http, c, message).await,
            ChannelConfig::Telegram(c) => http::telegram(&self.http, c, message).await,
            ChannelConfig::Webhook(c) => http::webhook(&self.http, c, message).await,
            ChannelConfig::Email(c) => {
                email::send(c, message, &self.smtp_roots, self.timeout).await
            }
        };
        r.map_err(|e| SendError::scrubbed(channel, e))
    }
}

/// One line of a test send: the channel, and whether it worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChannelReport {
    /// The channel's `name`, else its type and server.
    pub channel: String,
    /// `ntfy`, `telegram`, `webhook` or `email`.
    pub kind: String,
    pub ok: bool,
    /// Why it failed (no secrets).
    pub error: Option<String>,
}

/// Send a test message to every channel of `config.alerts`, concurrently, one try each.
pub async fn send_test(config: &Config) -> Vec<ChannelReport> {
    send_test_with(config, &Delivery::default()).await
}

/// [`send_test`] with a given delivery (tests trust their own SMTP certificate).
pub async fn send_test_with(config: &Config, delivery: &Delivery) -> Vec<ChannelReport> {
    let channels = config
        .alerts
        .as_ref()
        .map(|a| a.channels.clone())
        .unwrap_or_default();
    let message = Outgoing::test(Utc::now());
    let sends = channels.iter().map(|c| async {
        let r = delivery.send(c, &message).await;
        ChannelReport {
            channel: c.label(),
            kind: c.type_name().into(),
            ok: r.is_ok(),
            error: r.err().map(|e| e.0),
        }
    });
    futures::future::join_all(sends).await
}

/// An error and its causes on one line (reqwest and lettre keep the useful part in the source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        next = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::alerts::{Secret, TelegramChannel, WebhookChannel};

    #[test]
    fn errors_lose_every_secret_of_their_channel() {
        let bot = ChannelConfig::Telegram(TelegramChannel {
            name: None,
            kinds: None,
            bot_token: Secret::new("123:abcdef"),
            chat_id: "1".into(),
            api_url: None,
        });
        assert_eq!(
            scrub(&bot, "HTTP 404: no /bot123:abcdef/sendMessage".into()),
            "HTTP 404: no /bot***/sendMessage"
        );
        let hook = ChannelConfig::Webhook(WebhookChannel {
            name: None,
            kinds: None,
            url: "https://u:pw-secret@example.invalid/api/webhooks/1/KEY-0123456789?token=q1w2e3"
                .into(),
            template: None,
            headers: [("X-Key".to_string(), Secret::new("hdr-value"))].into(),
        });
        let out = scrub(
            &hook,
            "pw-secret KEY-0123456789 token=q1w2e3 hdr-value at /api/webhooks".into(),
        );
        // Every path segment of 8 characters or more may be a key: "webhooks" goes too.
        assert_eq!(out, "*** *** *** *** at /api/***");
    }
}
