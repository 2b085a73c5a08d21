//! `bitaxe-scheduler --test-alert` against an HTTP server on loopback: one line per channel, exit
//! 0 when all delivered, 2 naming the failed ones, 1 without channels; no secret printed.

use std::sync::{Arc, Mutex};

use bitaxe_e2e::{output_text, scheduler};
use serde_json::json;

/// Records request paths; answers 500 on paths starting with `/down`, else `{"ok": true}`.
async fn recorder() -> (String, Arc<Mutex<Vec<(String, serde_json::Value)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let s = s.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then the body by Content-Length.
                let (head_end, len) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let body = serde_json::from_slice(&buf[head_end..]).unwrap_or_default();
                s.lock().expect("lock").push((path.clone(), body));
                let (status, text) = if path.starts_with("/down") {
                    ("500 Internal Server Error", format!("broken at {path}"))
                } else {
                    ("200 OK", "{\"ok\":true}".to_string())
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn write_config(dir: &std::path::Path, alerts: serde_json::Value) {
    std::fs::write(
        dir.join("multi_scheduler_config.json"),
        serde_json::to_string_pretty(&json!({"alerts": alerts})).expect("json"),
    )
    .expect("write");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_alert_prints_a_line_per_channel_and_exits_by_the_result() {
    let (base, seen) = recorder().await;
    let dir = tempfile::tempdir().expect("dir");
    write_config(
        dir.path(),
        json!({"channels": [
            {"type": "ntfy", "name": "phone", "url": format!("{base}/bitaxe")},
            {"type": "webhook", "url": format!("{base}/hook"), "template": "discord"},
        ]}),
    );
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || scheduler(&d, &["--test-alert"]))
        .await
        .expect("join");
    let (stdout, stderr) = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0], "phone: ok");
    assert!(
        lines[1].starts_with("webhook (http://127.0.0.1:") && lines[1].ends_with("/…): ok"),
        "{stdout}"
    );
    {
        let seen = seen.lock().expect("lock");
        assert!(
            seen.iter().any(|(p, b)| p == "/" && b["topic"] == "bitaxe"),
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .any(|(p, b)| p == "/hook" && b["content"].as_str().is_some()),
            "{seen:?}"
        );
    }

    // A failing channel and a Telegram bot whose token must never be printed.
    write_config(
        dir.path(),
        json!({"channels": [
            {"type": "webhook", "name": "good", "url": format!("{base}/hook")},
            {"type": "telegram", "name": "bot", "bot_token": "777:TOKEN-SECRET", "chat_id": "1", "api_url": format!("{base}/down")},
            {"type": "webhook", "name": "dead", "url": format!("{base}/down/hook")},
        ]}),
    );
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || scheduler(&d, &["--test-alert"]))
        .await
        .expect("join");
    let (stdout, stderr) = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stdout.contains("good: ok"), "{stdout}");
    assert!(stdout.contains("bot: failed: HTTP 500"), "{stdout}");
    assert!(stdout.contains("dead: failed: HTTP 500"), "{stdout}");
    assert!(stderr.contains("bot, dead"), "{stderr}");
    assert!(
        !stdout.contains("TOKEN-SECRET") && !stderr.contains("TOKEN-SECRET"),
        "{stdout}{stderr}"
    );

    // No channels: a clear error and exit 1.
    write_config(dir.path(), json!({}));
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || scheduler(&d, &["--test-alert"]))
        .await
        .expect("join");
    let (_, stderr) = output_text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("no alert channels configured"), "{stderr}");
}
