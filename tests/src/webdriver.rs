//! Just enough of the W3C WebDriver protocol to drive the real app through `tauri-driver`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Session {
    http: reqwest::Client,
    base: String,
}

impl Session {
    /// Start the app at `application` with `args` through the driver at `driver_url`.
    pub async fn start(
        driver_url: &str,
        application: &str,
        args: &[String],
    ) -> Result<Session, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": application, "args": args}}}});
        let r = json_reply(http.post(format!("{driver_url}/session")).json(&caps)).await?;
        let id = r["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {r}"))?;
        Ok(Session {
            http,
            base: format!("{driver_url}/session/{id}"),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v = json_reply(req).await?;
        if let Some(err) = v["value"].get("error") {
            return Err(format!("{err}: {}", v["value"]["message"]));
        }
        Ok(v["value"].clone())
    }

    pub async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        v[ELEMENT]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("no element id for {css}"))
    }

    /// Wait until `css` matches an element (and return it).
    pub async fn wait(&self, css: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.find(css).await {
                Ok(e) => return Ok(e),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("{css} never appeared: {e}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(150)).await,
            }
        }
    }

    /// Click the element `css` finds. Views redraw from live updates, so an element found a
    /// moment ago may have been replaced: a stale reference is found again (a few times).
    pub async fn click(&self, css: &str) -> Result<(), String> {
        let mut tries = 0;
        loop {
            let e = self.wait(css, Duration::from_secs(20)).await?;
            let r = self
                .call(
                    reqwest::Method::POST,
                    &format!("/element/{e}/click"),
                    Some(json!({})),
                )
                .await;
            match r {
                Err(why) if why.contains("stale element") && tries < 5 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other.map(|_| ()),
            }
        }
    }

    /// Clear the field, then type `text` (input events fire as for a person typing).
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), String> {
        let e = self.wait(css, Duration::from_secs(20)).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        )
        .await?;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await
        .map(|_| ())
    }

    pub async fn text(&self, css: &str) -> Result<String, String> {
        let e = self.find(css).await?;
        let v = self
            .call(reqwest::Method::GET, &format!("/element/{e}/text"), None)
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Wait until the text of `css` satisfies `pred`; returns it.
    pub async fn wait_text(
        &self,
        css: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Ok(t) = self.text(css).await {
                if pred(&t) {
                    return Ok(t);
                }
                last = t;
            }
            if Instant::now() > deadline {
                return Err(format!("{css}: text never matched; last {last:?}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn script(&self, js: &str) -> Result<Value, String> {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .await
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        decode_base64(v.as_str().unwrap_or_default())
    }

    pub async fn end(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

async fn json_reply(req: reqwest::RequestBuilder) -> Result<Value, String> {
    req.send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}

fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    let table = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        acc = (acc << 6) | table(c).ok_or("bad base64")?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(
            super::decode_base64("aGVsbG8gd29ybGQ=").ok().as_deref(),
            Some(&b"hello world"[..])
        );
    }
}
