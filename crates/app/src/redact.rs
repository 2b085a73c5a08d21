//! Secrets out of what a read-only caller sees: every field named like a secret (`password`,
//! `token`, `bot_token`, `secret`, `api_key`, and any key ending in one of these) has its value
//! replaced by [`REDACTED`], and the user-info part of every URL in a string
//! (`smtp://user:pass@host`) too. Applied to JSON, so keys that other parts of the config add
//! later (alert channels, MQTT) are covered without knowing their types.

use serde_json::Value;

/// What a secret reads as after redaction.
pub const REDACTED: &str = "***";

const SECRET_NAMES: &[&str] = &["password", "token", "secret", "api_key", "apikey"];

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_NAMES
        .iter()
        .any(|s| k == *s || k.ends_with(&format!("_{s}")))
}

/// Redact `v` in place.
pub fn value(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map.iter_mut() {
                if is_secret_key(k) && !inner.is_null() {
                    *inner = Value::String(REDACTED.into());
                } else {
                    value(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(value),
        Value::String(s) => {
            if let Some(clean) = url_userinfo(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// `scheme://user:pass@rest` → `scheme://***@rest`; `None` when `s` has no user-info.
fn url_userinfo(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    Some(format!("{scheme}://{REDACTED}@{}", &rest[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_and_url_credentials_are_hidden_the_rest_kept() {
        let mut v = json!({
            "tariff": {"source": {"type": "tibber", "token": "abc123", "url": "https://example.invalid/x?a=b"}},
            "alerts": {"channels": [
                {"type": "telegram", "bot_token": "123:xyz", "chat_id": "42"},
                {"type": "email", "smtp_url": "smtp+starttls://me:hunter2@mail.example.invalid:587", "from": "a@example.invalid", "to": ["b@example.invalid"]},
                {"type": "webhook", "url": "http://127.0.0.1:9/hook", "secret": null}
            ]},
            "mqtt": {"url": "mqtt://127.0.0.1:1883", "username": "ha", "password": "pw"},
            "miners": [{"name": "a", "ip": "http://admin:pw@127.0.0.1:80/"}],
            "Api_Key": "k"
        });
        value(&mut v);
        assert_eq!(v["tariff"]["source"]["token"], REDACTED);
        assert_eq!(
            v["tariff"]["source"]["url"],
            "https://example.invalid/x?a=b"
        );
        assert_eq!(v["alerts"]["channels"][0]["bot_token"], REDACTED);
        assert_eq!(v["alerts"]["channels"][0]["chat_id"], "42");
        assert_eq!(
            v["alerts"]["channels"][1]["smtp_url"],
            "smtp+starttls://***@mail.example.invalid:587"
        );
        assert_eq!(v["alerts"]["channels"][1]["from"], "a@example.invalid");
        assert_eq!(v["alerts"]["channels"][2]["secret"], Value::Null);
        assert_eq!(v["mqtt"]["password"], REDACTED);
        assert_eq!(v["mqtt"]["username"], "ha");
        assert_eq!(v["miners"][0]["ip"], "http://***@127.0.0.1:80/");
        assert_eq!(v["Api_Key"], REDACTED);
        let text = v.to_string();
        for secret in ["abc123", "123:xyz", "hunter2", "\"pw\"", "admin"] {
            assert!(!text.contains(secret), "{secret} left in {text}");
        }
    }

    #[test]
    fn an_at_sign_after_the_host_is_not_user_info() {
        assert_eq!(url_userinfo("https://example.invalid/a@b"), None);
        assert_eq!(url_userinfo("mailto:a@example.invalid"), None);
        assert_eq!(url_userinfo("plain text"), None);
    }
}
