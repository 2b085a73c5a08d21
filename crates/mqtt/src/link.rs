//! The connection to the broker: rumqttc's event loop polled in a task of its own, reconnecting
//! with backoff, and reporting what happens to the session as [`LinkEvent`]s over a channel (so
//! the session's own `select!` never cancels a poll half way).

use std::time::Duration;

use rand::Rng;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// First wait after a failed connection; doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub enum LinkEvent {
    /// Connected (or connected again): subscriptions and retained topics must be sent again.
    Up,
    /// The connection failed or dropped; rumqttc's error in words (it never holds credentials).
    Down(String),
    Message {
        topic: String,
        payload: Vec<u8>,
        /// Delivered from the broker's retained store (not published just now).
        retain: bool,
    },
}

/// Doubling waits with ±20 % jitter, so a fleet of bridges does not reconnect in step.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    pub fn new() -> Backoff {
        Backoff {
            next: FIRST_BACKOFF,
        }
    }

    pub fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
    }

    pub fn next_wait(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        base.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// The running connection: the client to publish with, the events, and the task.
pub struct Link {
    pub client: AsyncClient,
    pub events: mpsc::Receiver<LinkEvent>,
    task: JoinHandle<()>,
    hard_stop: CancellationToken,
}

impl Link {
    pub fn start(options: MqttOptions, capacity: usize) -> Link {
        let (client, eventloop) = AsyncClient::new(options, capacity);
        let (tx, events) = mpsc::channel(256);
        let hard_stop = CancellationToken::new();
        let task = tokio::spawn(drive(eventloop, tx, hard_stop.clone()));
        Link {
            client,
            events,
            task,
            hard_stop,
        }
    }

    /// Say goodbye: `last_words` (topic, payload, retained) go out first, then a DISCONNECT, so
    /// the broker does not send the last will. Waits up to `grace` for them to leave, then drops
    /// the connection anyway.
    pub async fn close(self, last_words: Option<(String, &'static str)>, grace: Duration) {
        // Nobody reads events any more; the task must not wait on a full channel.
        drop(self.events);
        if let Some((topic, payload)) = last_words {
            let _ = self
                .client
                .try_publish(topic, rumqttc::QoS::AtLeastOnce, true, payload);
        }
        let _ = self.client.try_disconnect();
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            self.hard_stop.cancel();
            let _ = task.await;
        }
    }
}

async fn drive(mut eventloop: EventLoop, tx: mpsc::Sender<LinkEvent>, stop: CancellationToken) {
    let mut backoff = Backoff::new();
    loop {
        let polled = tokio::select! {
            _ = stop.cancelled() => return,
            p = eventloop.poll() => p,
        };
        let event = match polled {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff.reset();
                LinkEvent::Up
            }
            Ok(Event::Incoming(Packet::Publish(p))) => LinkEvent::Message {
                topic: p.topic,
                payload: p.payload.to_vec(),
                retain: p.retain,
            },
            // Our goodbye went out: nothing more to do.
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => continue,
            Err(e) => {
                if matches!(e, rumqttc::ConnectionError::RequestsDone) {
                    // Every client is gone: the session ended.
                    return;
                }
                if tx.send(LinkEvent::Down(e.to_string())).await.is_err() {
                    return;
                }
                let wait = backoff.next_wait();
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
        };
        if tx.send(event).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_resets() {
        let mut b = Backoff::new();
        let waits: Vec<Duration> = (0..10).map(|_| b.next_wait()).collect();
        assert!(waits[0] >= FIRST_BACKOFF.mul_f64(0.8) && waits[0] <= FIRST_BACKOFF.mul_f64(1.2));
        assert!(waits[1] > waits[0].mul_f64(1.2), "{waits:?}");
        assert!(
            waits.iter().all(|w| *w <= MAX_BACKOFF.mul_f64(1.2)),
            "{waits:?}"
        );
        assert!(waits[9] >= MAX_BACKOFF.mul_f64(0.8), "{waits:?}");
        b.reset();
        assert!(b.next_wait() <= FIRST_BACKOFF.mul_f64(1.2));
    }
}
