//! Each worker's mailbox: what a person asks of one miner (restart, pause, retry, clear a
//! ceiling) is carried out by that miner's own worker, between polls, so only one request is
//! ever in flight per miner.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

/// Something a person asks of one miner; carried out by that miner's worker, between polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinerCommand {
    /// `POST /api/system/restart`.
    Restart,
    /// `POST /api/system/pause` (v2.14+).
    Pause,
    /// `POST /api/system/resume` (v2.14+).
    Resume,
    /// Try a given-up target again now, with a fresh budget.
    Retry,
    /// Forget the per-profile ceilings set by repeated firmware overheats.
    ClearCeiling,
}

/// A command and where its answer goes.
pub(crate) struct Request {
    pub command: MinerCommand,
    pub reply: oneshot::Sender<Result<(), String>>,
}

/// Every running worker's mailbox, by miner name.
#[derive(Default)]
pub(crate) struct Mailboxes(Mutex<HashMap<String, mpsc::Sender<Request>>>);

impl Mailboxes {
    /// A new mailbox for `miner` (replacing any old one); the worker gets the receiving end.
    pub fn open(&self, miner: &str) -> mpsc::Receiver<Request> {
        let (tx, rx) = mpsc::channel(8);
        if let Ok(mut map) = self.0.lock() {
            map.insert(miner.to_string(), tx);
        }
        rx
    }

    pub fn close(&self, miner: &str) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(miner);
        }
    }

    /// Send `command` to `miner`'s worker and wait for its answer.
    pub async fn send(&self, miner: &str, command: MinerCommand) -> Result<(), String> {
        let tx = self
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(miner).cloned())
            .ok_or_else(|| {
                format!("no running worker for miner {miner:?} (unknown or disabled)")
            })?;
        let (reply, answer) = oneshot::channel();
        tx.send(Request { command, reply })
            .await
            .map_err(|_| format!("miner {miner:?} is stopping"))?;
        answer
            .await
            .map_err(|_| format!("miner {miner:?} stopped before answering"))?
    }
}

impl super::Worker {
    /// Carry out one command between polls and answer it.
    pub(super) async fn handle(&mut self, request: Request) {
        let client = self.client.clone();
        let io = |r: Result<(), axeos::Error>| r.map_err(|e| e.to_string());
        let result = match request.command {
            MinerCommand::Restart => self.cancellable(async { io(client.restart().await) }).await,
            MinerCommand::Pause => {
                let r = self.cancellable(async { io(client.pause().await) }).await;
                self.off.paused_by_user |= r.is_ok();
                r
            }
            MinerCommand::Resume => {
                let r = self.cancellable(async { io(client.resume().await) }).await;
                if r.is_ok() {
                    self.off.paused_by_user = false;
                }
                r
            }
            MinerCommand::Retry => {
                self.effort.clear();
                self.publish_status();
                Ok(())
            }
            MinerCommand::ClearCeiling => {
                self.mem.clear_ceilings();
                Ok(())
            }
        };
        let _ = request.reply.send(result);
    }

    pub(super) async fn cancellable(
        &self,
        fut: impl std::future::Future<Output = Result<(), String>>,
    ) -> Result<(), String> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err("shutting down".into()),
            r = fut => r,
        }
    }
}
