//! The `alerts` key: where the engine sends alerts so they reach a phone with no desktop running
//! (ntfy, Telegram, a webhook, e-mail), which kinds it sends, and the quiet hours.
//!
//! Secrets (bot tokens, passwords, ntfy tokens, header values, credentials in URLs) are kept in
//! [`Secret`] (the same type the price feeds' tokens use) or shown through [`redact_url`], so no `Debug`, log line, error or event carries
//! them.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::{key, ClockTime, Problem, Seg};
use crate::alerts::AlertKind;

pub use crate::prices::Secret;

/// `{"channels": [...], "kinds": [...], "quiet_hours": {"from": "22:00", "to": "07:00"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlertsConfig {
    /// Where alerts go; every channel gets every alert its `kinds` allow, concurrently.
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// The alert kinds sent at all (absent: [`DEFAULT_KINDS`], every kind but `throttled` and
    /// `drift`, which the engine handles by itself and which can be chatty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<AlertKind>>,
    /// Local hours in which alerts are held back and sent when they end (an episode that starts
    /// and ends inside them is not sent at all); the `except` kinds are sent at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<AlertQuietHours>,
}

/// Every kind but `throttled` and `drift`: the engine steps a hot miner down and re-applies
/// settings the firmware changed by itself, so those are news for the desktop, not for a phone.
pub const DEFAULT_KINDS: [AlertKind; 7] = [
    AlertKind::Offline,
    AlertKind::Overheated,
    AlertKind::Stalled,
    AlertKind::TransitionFailed,
    AlertKind::GaveUp,
    AlertKind::CeilingLowered,
    AlertKind::IdentityChanged,
];

/// What quiet hours let through by default: a miner that is gone or that the firmware stopped
/// for heat.
pub const DEFAULT_URGENT: [AlertKind; 2] = [AlertKind::Offline, AlertKind::Overheated];

impl AlertsConfig {
    /// The kinds sent at all.
    pub fn enabled_kinds(&self) -> Vec<AlertKind> {
        self.kinds.clone().unwrap_or_else(|| DEFAULT_KINDS.to_vec())
    }

    /// Every problem, with its key path under `alerts`.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let at = |rest: &[Seg]| {
            let mut p = vec![key("alerts")];
            p.extend_from_slice(rest);
            p
        };
        if let Some(q) = &self.quiet_hours {
            if q.from == q.to {
                out.push(Problem {
                    path: at(&[key("quiet_hours"), key("to")]),
                    message: "must differ from `from` (the window would be empty)".into(),
                });
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, c) in self.channels.iter().enumerate() {
            let here = |k: &str| at(&[key("channels"), Seg::Index(i), key(k)]);
            if let Some(name) = c.name() {
                if name.trim().is_empty() {
                    out.push(Problem {
                        path: here("name"),
                        message: "must not be empty (leave it out for the default)".into(),
                    });
                } else if !names.insert(name.to_string()) {
                    out.push(Problem {
                        path: here("name"),
                        message: format!("{name:?} is used by another channel"),
                    });
                }
            }
            for (k, message) in c.problems() {
                out.push(Problem {
                    path: here(k),
                    message,
                });
            }
        }
        out
    }
}

/// Local `HH:MM` window (may cross midnight). Alerts inside it wait for its end, except the
/// `except` kinds (default [`DEFAULT_URGENT`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AlertQuietHours {
    pub from: ClockTime,
    pub to: ClockTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<Vec<AlertKind>>,
}

impl AlertQuietHours {
    /// Whether `local` falls inside the window (`from` included, `to` excluded).
    pub fn contains(&self, local: chrono::NaiveTime) -> bool {
        let (s, e) = (self.from.0, self.to.0);
        if s < e {
            s <= local && local < e
        } else if s > e {
            local >= s || local < e
        } else {
            false
        }
    }

    /// The kinds sent even inside the window.
    pub fn urgent(&self) -> Vec<AlertKind> {
        self.except
            .clone()
            .unwrap_or_else(|| DEFAULT_URGENT.to_vec())
    }
}

/// One place alerts go, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ChannelConfig {
    Ntfy(NtfyChannel),
    Telegram(TelegramChannel),
    Webhook(WebhookChannel),
    Email(EmailChannel),
}

/// An ntfy topic, on ntfy.sh or a self-hosted server: `url` is the topic's URL.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NtfyChannel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<AlertKind>>,
    /// `https://ntfy.sh/my-topic`
    pub url: String,
    /// An access token (`Authorization: Bearer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// 1 (min) to 5 (max); absent: 4 for offline and overheated, 3 for the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
}

/// A Telegram bot writing to one chat.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TelegramChannel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<AlertKind>>,
    pub bot_token: Secret,
    /// A chat id (`"123456789"`, `"-100..."`) or `"@channelname"`.
    pub chat_id: String,
    /// Default `https://api.telegram.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
}

pub const TELEGRAM_API: &str = "https://api.telegram.org";

/// The shape of a webhook's JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum WebhookTemplate {
    /// `{kind, miner, recovered, title, body, at}`
    #[default]
    Json,
    /// `{content}`
    Discord,
    /// `{text}`
    Slack,
}

/// An HTTP POST of a JSON body to any URL.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WebhookChannel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<AlertKind>>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<WebhookTemplate>,
    /// Extra request headers (their values are treated as secrets).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Secret>,
}

/// E-mail through an SMTP server.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EmailChannel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<AlertKind>>,
    /// `smtp://host:25` (plain, a local relay), `smtp+starttls://host:587`, `smtps://host:465`.
    pub smtp_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// `Bitaxe <bitaxe@example.invalid>` or a bare address.
    pub from: String,
    pub to: Vec<String>,
}

/// How an e-mail channel reaches its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    Plain,
    StartTls,
    Tls,
}

/// The parts of an `smtp_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
}

impl EmailChannel {
    pub fn target(&self) -> Result<SmtpTarget, String> {
        let url = Url::parse(&self.smtp_url).map_err(|e| format!("not a URL: {e}"))?;
        let (security, default_port) = match url.scheme() {
            "smtp" => (SmtpSecurity::Plain, 25),
            "smtp+starttls" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            other => {
                return Err(format!(
                    "scheme {other:?} is not one of smtp:// (plain, a local relay), smtp+starttls://, smtps://"
                ))
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err("put the credentials in `username` and `password`, not in the URL".into());
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("needs a host, e.g. smtp+starttls://mail.example.invalid:587")?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err("takes only a host and a port".into());
        }
        Ok(SmtpTarget {
            security,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: url.port().unwrap_or(default_port),
        })
    }
}

/// `scheme://host[:port]` plus `/…` when there is more: enough to tell servers apart, never a
/// credential (userinfo, a token in the path or query as Discord and Slack webhooks have).
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let more = if matches!(u.path(), "" | "/") && u.query().is_none() {
                ""
            } else {
                "/…"
            };
            format!("{}://{host}{port}{more}", u.scheme())
        }
        Err(_) => "(not a URL)".into(),
    }
}

/// An `http(s)://` URL with a host, else why not.
fn http_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme {:?} is not http:// or https://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("needs a host".into());
    }
    Ok(url)
}

impl ChannelConfig {
    pub fn name(&self) -> Option<&str> {
        match self {
            ChannelConfig::Ntfy(c) => c.name.as_deref(),
            ChannelConfig::Telegram(c) => c.name.as_deref(),
            ChannelConfig::Webhook(c) => c.name.as_deref(),
            ChannelConfig::Email(c) => c.name.as_deref(),
        }
    }

    pub fn kinds(&self) -> Option<&[AlertKind]> {
        match self {
            ChannelConfig::Ntfy(c) => c.kinds.as_deref(),
            ChannelConfig::Telegram(c) => c.kinds.as_deref(),
            ChannelConfig::Webhook(c) => c.kinds.as_deref(),
            ChannelConfig::Email(c) => c.kinds.as_deref(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            ChannelConfig::Ntfy(_) => "ntfy",
            ChannelConfig::Telegram(_) => "telegram",
            ChannelConfig::Webhook(_) => "webhook",
            ChannelConfig::Email(_) => "email",
        }
    }

    /// What reports and events call this channel: its `name`, else its type and server (never a
    /// secret).
    pub fn label(&self) -> String {
        if let Some(n) = self.name() {
            return n.to_string();
        }
        let server = match self {
            ChannelConfig::Ntfy(c) => redact_url(&c.url),
            ChannelConfig::Telegram(c) => format!("chat {}", c.chat_id),
            ChannelConfig::Webhook(c) => redact_url(&c.url),
            ChannelConfig::Email(c) => c.to.join(", "),
        };
        format!("{} ({server})", self.type_name())
    }

    /// `(field, message)` for each bad value.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match self {
            ChannelConfig::Ntfy(c) => match http_url(&c.url) {
                Err(e) => out.push(("url", e)),
                Ok(u) => {
                    if u.path_segments()
                        .and_then(|mut s| s.next_back())
                        .is_none_or(str::is_empty)
                    {
                        out.push((
                            "url",
                            "needs the topic, e.g. https://ntfy.sh/my-bitaxe-alerts".into(),
                        ));
                    }
                    if c.priority.is_some_and(|p| !(1..=5).contains(&p)) {
                        out.push(("priority", "must be 1 (min) to 5 (max)".into()));
                    }
                    if c.token
                        .as_ref()
                        .is_some_and(|t| t.expose().trim().is_empty())
                    {
                        out.push(("token", "must not be empty (leave it out for none)".into()));
                    }
                }
            },
            ChannelConfig::Telegram(c) => {
                let t = c.bot_token.expose();
                if t.trim().is_empty() {
                    out.push(("bot_token", "is needed (from @BotFather)".into()));
                } else if t.contains(|ch: char| ch == '/' || ch.is_whitespace()) {
                    out.push((
                        "bot_token",
                        "is not a bot token (no spaces or slashes)".into(),
                    ));
                }
                if c.chat_id.trim().is_empty() {
                    out.push(("chat_id", "is needed (a chat id or @channel)".into()));
                }
                if let Some(api) = &c.api_url {
                    if let Err(e) = http_url(api) {
                        out.push(("api_url", e));
                    }
                }
            }
            ChannelConfig::Webhook(c) => {
                if let Err(e) = http_url(&c.url) {
                    out.push(("url", e));
                }
                for (name, value) in &c.headers {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        out.push(("headers", format!("{name:?} is not a header name")));
                    } else if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
                        out.push((
                            "headers",
                            format!("the value of {name:?} is not a valid header value"),
                        ));
                    }
                }
            }
            ChannelConfig::Email(c) => {
                if let Err(e) = c.target() {
                    out.push(("smtp_url", e));
                }
                if c.from.parse::<lettre::message::Mailbox>().is_err() {
                    out.push(("from", format!("{:?} is not an e-mail address", c.from)));
                }
                if c.to.is_empty() {
                    out.push(("to", "needs at least one address".into()));
                }
                for t in &c.to {
                    if t.parse::<lettre::message::Mailbox>().is_err() {
                        out.push(("to", format!("{t:?} is not an e-mail address")));
                    }
                }
                if c.password.is_some() && c.username.as_deref().is_none_or(str::is_empty) {
                    out.push(("username", "is needed with a password".into()));
                }
            }
        }
        out
    }
}

impl fmt::Debug for NtfyChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtfyChannel")
            .field("name", &self.name)
            .field("kinds", &self.kinds)
            .field("url", &redact_url(&self.url))
            .field("token", &self.token)
            .field("priority", &self.priority)
            .finish()
    }
}

impl fmt::Debug for TelegramChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramChannel")
            .field("name", &self.name)
            .field("kinds", &self.kinds)
            .field("bot_token", &self.bot_token)
            .field("chat_id", &self.chat_id)
            .field("api_url", &self.api_url.as_deref().map(redact_url))
            .finish()
    }
}

impl fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookChannel")
            .field("name", &self.name)
            .field("kinds", &self.kinds)
            .field("url", &redact_url(&self.url))
            .field("template", &self.template)
            .field("headers", &self.headers)
            .finish()
    }
}

impl fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailChannel")
            .field("name", &self.name)
            .field("kinds", &self.kinds)
            .field("smtp_url", &redact_url(&self.smtp_url))
            .field("username", &self.username)
            .field("password", &self.password)
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{path_string, Config};

    fn parse(alerts: &str) -> Result<Config, String> {
        Config::parse(
            &format!("{{\"alerts\": {alerts}}}"),
            std::path::Path::new("c.json"),
        )
        .map_err(|e| e.to_string())
    }

    const ALL: &str = r#"{
        "kinds": ["offline", "overheated"],
        "quiet_hours": {"from": "22:00", "to": "07:00"},
        "channels": [
          {"type": "ntfy", "url": "https://ntfy.example.invalid/bitaxe", "token": "tk_ntfy_SECRET", "priority": 5},
          {"type": "telegram", "name": "phone", "bot_token": "123:TG_SECRET", "chat_id": "42"},
          {"type": "webhook", "url": "https://hooks.example.invalid/api/webhooks/1/HOOK_SECRET", "template": "discord", "headers": {"X-Key": "HDR_SECRET"}},
          {"type": "email", "smtp_url": "smtp+starttls://mail.example.invalid", "username": "me", "password": "PW_SECRET", "from": "Bitaxe <bitaxe@example.invalid>", "to": ["me@example.invalid"]}
        ]}"#;

    #[test]
    fn every_channel_type_parses_and_round_trips() {
        let c = parse(ALL).expect("parse");
        let a = c.alerts.clone().expect("alerts");
        assert_eq!(a.channels.len(), 4);
        assert_eq!(
            a.enabled_kinds(),
            vec![AlertKind::Offline, AlertKind::Overheated]
        );
        let back: AlertsConfig =
            serde_json::from_value(serde_json::to_value(&a).expect("to")).expect("from");
        assert_eq!(back, a);
        let ChannelConfig::Email(e) = &a.channels[3] else {
            panic!("email")
        };
        assert_eq!(
            e.target().expect("target"),
            SmtpTarget {
                security: SmtpSecurity::StartTls,
                host: "mail.example.invalid".into(),
                port: 587
            }
        );
        assert_eq!(a.channels[1].label(), "phone");
        assert_eq!(
            a.channels[0].label(),
            "ntfy (https://ntfy.example.invalid/…)"
        );
    }

    #[test]
    fn no_secret_in_debug_or_labels() {
        let c = parse(ALL).expect("parse");
        let text = format!("{c:?} {:#?}", c.alerts);
        let labels: Vec<String> = c
            .alerts
            .iter()
            .flat_map(|a| a.channels.iter().map(|c| c.label()))
            .collect();
        for secret in [
            "tk_ntfy_SECRET",
            "TG_SECRET",
            "HOOK_SECRET",
            "HDR_SECRET",
            "PW_SECRET",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
            assert!(!labels.join(" ").contains(secret));
        }
        assert!(text.contains("***"));
        assert_eq!(
            redact_url("https://user:pw@example.invalid:8443/x?token=1"),
            "https://example.invalid:8443/…"
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (
                r#"{"channels": [{"type": "ntfy", "url": "ftp://example.invalid/t"}]}"#,
                "alerts.channels[0].url",
                "scheme",
            ),
            (
                r#"{"channels": [{"type": "ntfy", "url": "https://example.invalid/"}]}"#,
                "alerts.channels[0].url",
                "topic",
            ),
            (
                r#"{"channels": [{"type": "ntfy", "url": "https://example.invalid/t", "priority": 9}]}"#,
                "alerts.channels[0].priority",
                "1",
            ),
            (
                r#"{"channels": [{"type": "telegram", "bot_token": "1:x"}]}"#,
                "alerts.channels[0]",
                "chat_id",
            ),
            (
                r#"{"channels": [{"type": "telegram", "bot_token": "", "chat_id": "1"}]}"#,
                "alerts.channels[0].bot_token",
                "needed",
            ),
            (
                r#"{"channels": [{"type": "email", "smtp_url": "http://example.invalid", "from": "a@example.invalid", "to": ["b@example.invalid"]}]}"#,
                "alerts.channels[0].smtp_url",
                "scheme",
            ),
            (
                r#"{"channels": [{"type": "email", "smtp_url": "smtp://u:p@example.invalid", "from": "a@example.invalid", "to": ["b@example.invalid"]}]}"#,
                "alerts.channels[0].smtp_url",
                "credentials",
            ),
            (
                r#"{"channels": [{"type": "email", "smtp_url": "smtps://example.invalid", "from": "a@example.invalid", "to": []}]}"#,
                "alerts.channels[0].to",
                "at least one",
            ),
            (
                r#"{"channels": [{"type": "email", "smtp_url": "smtps://example.invalid", "from": "not an address", "to": ["b@example.invalid"]}]}"#,
                "alerts.channels[0].from",
                "e-mail",
            ),
            (
                r#"{"channels": [{"type": "webhook", "url": "https://example.invalid", "tmplate": "slack"}]}"#,
                "alerts.channels[0]",
                "tmplate",
            ),
            (
                r#"{"channels": [{"type": "pager", "url": "https://example.invalid"}]}"#,
                "alerts.channels[0]",
                "pager",
            ),
            (
                r#"{"kinds": ["offline", "on_fire"]}"#,
                "alerts.kinds[1]",
                "on_fire",
            ),
            (
                r#"{"quiet_hours": {"from": "22:00", "to": "22:00"}}"#,
                "alerts.quiet_hours.to",
                "empty",
            ),
            (
                r#"{"channels": [{"type": "webhook", "name": "a", "url": "https://example.invalid"}, {"type": "webhook", "name": "a", "url": "https://example.invalid"}]}"#,
                "alerts.channels[1].name",
                "another",
            ),
        ];
        for (text, path, words) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.contains(path), "{text}: {err} lacks {path}");
            assert!(err.contains(words), "{text}: {err} lacks {words}");
        }
        let problems = AlertsConfig {
            channels: vec![ChannelConfig::Telegram(TelegramChannel {
                name: None,
                kinds: None,
                bot_token: Secret::new("1:abc"),
                chat_id: " ".into(),
                api_url: Some("telegram".into()),
            })],
            ..Default::default()
        }
        .problems();
        let paths: Vec<String> = problems.iter().map(|p| path_string(&p.path)).collect();
        assert_eq!(
            paths,
            ["alerts.channels[0].chat_id", "alerts.channels[0].api_url"]
        );
    }

    #[test]
    fn quiet_hours_cross_midnight() {
        let q = AlertQuietHours {
            from: ClockTime::hm(22, 0),
            to: ClockTime::hm(7, 0),
            except: None,
        };
        let t = |h, m| chrono::NaiveTime::from_hms_opt(h, m, 0).expect("time");
        assert!(q.contains(t(23, 0)) && q.contains(t(22, 0)) && q.contains(t(6, 59)));
        assert!(!q.contains(t(7, 0)) && !q.contains(t(12, 0)));
        let day = AlertQuietHours {
            from: ClockTime::hm(12, 0),
            to: ClockTime::hm(13, 0),
            except: Some(vec![]),
        };
        assert!(day.contains(t(12, 30)) && !day.contains(t(13, 30)));
        assert!(day.urgent().is_empty());
        assert_eq!(q.urgent(), DEFAULT_URGENT.to_vec());
    }
}
