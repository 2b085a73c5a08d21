//! `GET /api/v1/events`: the engine's events as Server-Sent Events. Each event gets an increasing
//! id; the last `ring` events are kept so a client reconnecting with `Last-Event-ID` gets what it
//! missed (older ones are gone; it then reloads the overview).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::state::Shared;

/// One event as sent: its id and its JSON.
pub type Entry = (u64, Arc<str>);

struct Ring {
    next_id: u64,
    entries: VecDeque<Entry>,
}

/// The numbered events: a ring for replay and a bus for live clients.
pub struct EventLog {
    ring: Mutex<Ring>,
    capacity: usize,
    live: broadcast::Sender<Entry>,
}

impl EventLog {
    pub fn new(capacity: usize) -> EventLog {
        // Ids go on growing across restarts (they start at the clock's microseconds), so a
        // client resuming with the `Last-Event-ID` of the daemon's previous run is not
        // mistaken for one that has seen the new run's events already.
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
            .max(1);
        EventLog {
            ring: Mutex::new(Ring {
                next_id: start,
                entries: VecDeque::with_capacity(capacity),
            }),
            capacity: capacity.max(1),
            live: broadcast::channel(capacity.max(16)).0,
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number and keep one event, and send it to the live clients.
    pub fn push(&self, json: String) -> u64 {
        let mut r = self.ring();
        let id = r.next_id;
        r.next_id += 1;
        let entry: Entry = (id, json.into());
        if r.entries.len() == self.capacity {
            r.entries.pop_front();
        }
        r.entries.push_back(entry.clone());
        // Sent under the lock, so a client subscribing under it sees no gap and no repeat.
        let _ = self.live.send(entry);
        id
    }

    /// The kept events after `after`, and a receiver for the ones to come.
    pub fn follow(&self, after: Option<u64>) -> (Vec<Entry>, broadcast::Receiver<Entry>) {
        let r = self.ring();
        let rx = self.live.subscribe();
        let backlog = match after {
            Some(last) => r
                .entries
                .iter()
                .filter(|(id, _)| *id > last)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        (backlog, rx)
    }
}

/// Copy the engine's events into the log until `cancel`.
pub async fn pump(shared: Arc<Shared>, cancel: CancellationToken) {
    let mut rx = shared.engine.subscribe();
    loop {
        let e = tokio::select! {
            _ = cancel.cancelled() => return,
            e = rx.recv() => e,
        };
        match e {
            Ok(event) => match serde_json::to_string(&event) {
                Ok(json) => {
                    shared.events.push(json);
                }
                Err(e) => tracing::warn!("API: an event could not be encoded: {e}"),
            },
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!("API: the event stream skipped {n} events");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn sse(entry: &Entry) -> SseEvent {
    SseEvent::default()
        .id(entry.0.to_string())
        .data(entry.1.as_ref())
}

pub async fn events(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (backlog, rx) = shared.events.follow(after);
    let last_sent = backlog.last().map(|e| e.0).or(after).unwrap_or(0);
    let replay = stream::iter(backlog.into_iter().map(|e| Ok(sse(&e))));
    let live = stream::unfold((rx, last_sent), |(mut rx, last)| async move {
        loop {
            match rx.recv().await {
                Ok(e) if e.0 > last => {
                    let id = e.0;
                    return Some((Ok(sse(&e)), (rx, id)));
                }
                Ok(_) => continue,
                // A slow client lost some: it goes on with the newest (ids show the gap).
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let until = shared.cancel.clone().cancelled_owned();
    Sse::new(replay.chain(live).take_until(until)).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_after_the_last_id_from_a_bounded_ring() {
        let log = EventLog::new(3);
        let ids: Vec<u64> = (0..5).map(|i| log.push(format!("{{\"n\":{i}}}"))).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1));
        let (backlog, _) = log.follow(Some(ids[2]));
        assert_eq!(
            backlog.iter().map(|e| e.0).collect::<Vec<_>>(),
            ids[3..].to_vec()
        );
        let (backlog, _) = log.follow(Some(0));
        assert_eq!(
            backlog.iter().map(|e| e.0).collect::<Vec<_>>(),
            ids[2..].to_vec()
        );
        let (backlog, mut rx) = log.follow(None);
        assert!(backlog.is_empty());
        log.push("{}".into());
        assert_eq!(rx.try_recv().expect("live").0, ids[4] + 1);
        // A later run of the daemon numbers after this one.
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(EventLog::new(3).push("{}".into()) > ids[4] + 1);
    }
}
