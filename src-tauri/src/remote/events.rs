//! The remote engine's events, read from its Server-Sent Events stream and handed to the same
//! bridge the local engine's events take. A dropped stream is reopened with `Last-Event-ID`
//! (the daemon replays what was missed) after a growing pause; every change of the link is told
//! to the window as a [`Connection`].

use std::time::Duration;

use bitaxe_core::events::Event;
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::remote::client::{Client, StreamError};

/// The state of the link to a remote scheduler, as the window's `connection` event carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    /// Not attached: the app runs its own engine.
    Local,
    Connecting {
        host: String,
    },
    Connected {
        host: String,
        tls: bool,
        /// The pinned certificate's fingerprint (TLS only).
        fingerprint: Option<String>,
    },
    /// The link dropped; it is tried again in `retry_in` seconds. The window keeps its data.
    Lost {
        host: String,
        retry_in: u32,
        reason: String,
    },
    /// The scheduler refused the link (token, certificate, version): the user has to act.
    Refused {
        host: String,
        reason: String,
    },
}

/// One dispatched SSE message: its id (if a number) and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: Option<u64>,
    pub data: String,
}

/// The SSE wire format, fed in chunks as they arrive (a chunk may end mid-line, even
/// mid-character).
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
    id: Option<u64>,
    data: Vec<String>,
}

impl Parser {
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Message> {
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.pending.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    out.push(Message {
                        id: self.id,
                        data: self.data.join("\n"),
                    });
                    self.data.clear();
                }
                continue;
            }
            if line.starts_with(':') {
                continue; // a keep-alive comment
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "data" => self.data.push(value.to_string()),
                "id" => self.id = value.trim().parse().ok().or(self.id),
                _ => {}
            }
        }
        out
    }
}

/// Pauses between attempts: 1, 2, 5, 5, ... s while the link was lost, 30 s once refused.
#[derive(Debug, Default)]
pub struct Backoff {
    tries: usize,
}

impl Backoff {
    pub const REFUSED: Duration = Duration::from_secs(30);

    pub fn next_wait(&mut self) -> Duration {
        const STEPS: [u64; 3] = [1, 2, 5];
        let s = STEPS[self.tries.min(STEPS.len() - 1)];
        self.tries += 1;
        Duration::from_secs(s)
    }

    pub fn reset(&mut self) {
        self.tries = 0;
    }
}

/// Follow the scheduler's events into `tx` for as long as the task runs (it is aborted on
/// Disconnect), reconnecting with `Last-Event-ID`. `on_state` hears every change of the link;
/// `on_connected` runs after each (re)connection, before any event of it is read (the window
/// reloads what it shows then).
pub async fn follow(
    client: Client,
    tx: mpsc::Sender<Event>,
    mut on_state: impl FnMut(Connection) + Send,
) {
    let host = client.address().host();
    let mut last_id: Option<u64> = None;
    let mut backoff = Backoff::default();
    on_state(Connection::Connecting { host: host.clone() });
    loop {
        let failure = match read(&client, &mut last_id, &tx, &mut on_state, &mut backoff).await {
            Ok(()) => return, // the bridge is gone: nobody listens any more
            Err(f) => f,
        };
        let wait = match failure {
            StreamError::Lost(reason) => {
                let wait = backoff.next_wait();
                on_state(Connection::Lost {
                    host: host.clone(),
                    retry_in: u32::try_from(wait.as_secs()).unwrap_or(u32::MAX),
                    reason,
                });
                wait
            }
            StreamError::Refused(why) => {
                on_state(Connection::Refused {
                    host: host.clone(),
                    reason: why.to_string(),
                });
                Backoff::REFUSED
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// One connection: check the version (token, certificate, major), open the stream, pass its
/// events on until it ends.
async fn read(
    client: &Client,
    last_id: &mut Option<u64>,
    tx: &mpsc::Sender<Event>,
    on_state: &mut (impl FnMut(Connection) + Send),
    backoff: &mut Backoff,
) -> Result<(), StreamError> {
    client.version().await.map_err(StreamError::from)?;
    let response = client.events(*last_id).await?;
    backoff.reset();
    on_state(Connection::Connected {
        host: client.address().host(),
        tls: client.address().tls(),
        fingerprint: client.fingerprint().map(str::to_string),
    });
    let mut body = response.bytes_stream();
    let mut parser = Parser::default();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| client.stream_failure(&e))?;
        for m in parser.feed(&chunk) {
            if m.id.is_some() {
                *last_id = m.id;
            }
            match serde_json::from_str::<Event>(&m.data) {
                Ok(event) => {
                    if tx.send(event).await.is_err() {
                        return Ok(());
                    }
                }
                // A newer daemon's event kind this app does not know: skipped, the rest go on.
                Err(_) => continue,
            }
        }
    }
    Err(StreamError::Lost(
        "the scheduler closed the event stream".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_anywhere_still_parse() {
        let wire = "id: 7\ndata: {\"a\":1}\n\n: keep-alive\n\nid:8\r\ndata: x\r\ndata: y\r\n\r\nevent: e\ndata: \u{e9}\n\n";
        let whole = Parser::default().feed(wire.as_bytes());
        assert_eq!(
            whole,
            vec![
                Message {
                    id: Some(7),
                    data: "{\"a\":1}".into()
                },
                Message {
                    id: Some(8),
                    data: "x\ny".into()
                },
                Message {
                    id: Some(8),
                    data: "\u{e9}".into()
                },
            ]
        );
        // Byte by byte (the é split across chunks) gives the same.
        let mut p = Parser::default();
        let bytes: Vec<Message> = wire.as_bytes().iter().flat_map(|b| p.feed(&[*b])).collect();
        assert_eq!(bytes, whole);
    }

    #[test]
    fn the_pause_grows_then_holds_and_resets() {
        let mut b = Backoff::default();
        let secs: Vec<u64> = (0..5).map(|_| b.next_wait().as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 5, 5, 5]);
        b.reset();
        assert_eq!(b.next_wait().as_secs(), 1);
    }

    #[test]
    fn connection_states_serialise_with_a_state_tag() {
        let v = serde_json::to_value(Connection::Lost {
            host: "127.0.0.1:8417".into(),
            retry_in: 5,
            reason: "r".into(),
        })
        .expect("json");
        assert_eq!(
            v,
            serde_json::json!({"state": "lost", "host": "127.0.0.1:8417", "retry_in": 5, "reason": "r"})
        );
    }
}
