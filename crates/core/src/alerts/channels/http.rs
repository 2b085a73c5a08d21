//! ntfy, Telegram and webhooks: a JSON POST each.

use reqwest::{Client, Url};
use serde_json::json;

use super::{chain, Outgoing};
use crate::config::alerts::{
    NtfyChannel, TelegramChannel, WebhookChannel, WebhookTemplate, TELEGRAM_API,
};

/// POST `body` and expect a 2xx; the error never holds the URL.
async fn post(req: reqwest::RequestBuilder, body: serde_json::Value) -> Result<String, String> {
    let resp = req
        .json(&body)
        .send()
        .await
        .map_err(|e| chain(&e.without_url()))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(text)
    } else {
        let snippet: String = text.chars().take(200).collect();
        Err(format!("HTTP {}: {}", status.as_u16(), snippet.trim()))
    }
}

/// The URL without its credentials, and the credentials (for basic auth).
fn split_userinfo(mut url: Url) -> (Url, Option<(String, Option<String>)>) {
    if url.username().is_empty() {
        return (url, None);
    }
    let creds = (
        url.username().to_string(),
        url.password().map(str::to_string),
    );
    let _ = url.set_username("");
    let _ = url.set_password(None);
    (url, Some(creds))
}

/// ntfy's JSON publishing: POST to the server's root with the topic in the body, so titles and
/// messages need no header encoding.
pub async fn ntfy(http: &Client, c: &NtfyChannel, m: &Outgoing) -> Result<(), String> {
    let url = Url::parse(&c.url).map_err(|e| format!("url: {e}"))?;
    let topic = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|t| !t.is_empty())
        .ok_or("url: no topic")?
        .to_string();
    let mut base = url.clone();
    base.path_segments_mut()
        .map_err(|_| "url: cannot take the topic off".to_string())?
        .pop();
    base.set_query(None);
    let (base, creds) = split_userinfo(base);
    let priority = c.priority.unwrap_or(if m.urgent { 4 } else { 3 });
    let tag = if m.recovered {
        "white_check_mark"
    } else {
        "warning"
    };
    let mut req = http.post(base);
    if let Some(t) = &c.token {
        req = req.bearer_auth(t.expose());
    } else if let Some((user, pass)) = creds {
        req = req.basic_auth(user, pass);
    }
    post(
        req,
        json!({
            "topic": topic,
            "title": m.title,
            "message": m.body,
            "priority": priority,
            "tags": [tag],
        }),
    )
    .await
    .map(drop)
}

pub async fn telegram(http: &Client, c: &TelegramChannel, m: &Outgoing) -> Result<(), String> {
    let api = c.api_url.as_deref().unwrap_or(TELEGRAM_API);
    let url = format!(
        "{}/bot{}/sendMessage",
        api.trim_end_matches('/'),
        c.bot_token.expose()
    );
    let reply = post(
        http.post(url),
        json!({"chat_id": c.chat_id, "text": m.text(), "disable_web_page_preview": true}),
    )
    .await?;
    // The Bot API answers {"ok": true, ...}; anything else is not a delivery.
    let ok = serde_json::from_str::<serde_json::Value>(&reply)
        .ok()
        .and_then(|v| v.get("ok").and_then(|o| o.as_bool()))
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err("the Bot API did not answer ok".into())
    }
}

pub async fn webhook(http: &Client, c: &WebhookChannel, m: &Outgoing) -> Result<(), String> {
    let body = match c.template.unwrap_or_default() {
        WebhookTemplate::Json => json!({
            "kind": m.kind,
            "miner": m.miner,
            "recovered": m.recovered,
            "title": m.title,
            "body": m.body,
            "at": m.at.to_rfc3339(),
        }),
        WebhookTemplate::Discord => json!({"content": format!("**{}**\n{}", m.title, m.body)}),
        WebhookTemplate::Slack => json!({"text": format!("*{}*\n{}", m.title, m.body)}),
    };
    let url = Url::parse(&c.url).map_err(|e| format!("url: {e}"))?;
    let (url, creds) = split_userinfo(url);
    let mut req = http.post(url);
    if let Some((user, pass)) = creds {
        req = req.basic_auth(user, pass);
    }
    for (name, value) in &c.headers {
        req = req.header(name.as_str(), value.expose());
    }
    post(req, body).await.map(drop)
}
