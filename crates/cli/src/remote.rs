//! One-shot commands beside a running scheduler: when another process holds the config's lock,
//! `--status`, `--apply`, `--resume` and `--emergency-stop` ask that scheduler through its local
//! control channel (the Unix socket `FILE.api.sock`, else its TCP API from `FILE.api-addr`) with
//! the control token from `FILE.api-token`, instead of writing the state file and waiting for it
//! to be read. When no scheduler answers (none running, or one killed and its socket left behind)
//! the commands act by themselves as before. What they print is the same either way.

use std::path::Path;
use std::time::Duration;

use bitaxe_api::local::Method;
use bitaxe_api::local::{self, Advertised, Channel, ClientError, Reply};
use bitaxe_api::Tokens;
use bitaxe_core::lock::EngineLock;
use bitaxe_core::schedule::Profile;
use bitaxe_core::status::FleetStatus;

/// How long finding a daemon may take (it answers from memory; a wedged one is skipped).
const PROBE: Duration = Duration::from_secs(2);
/// How long one command may take (an apply returns once the decision is made, not carried out).
const CALL: Duration = Duration::from_secs(30);

/// A scheduler that answered on this config's control channel.
pub struct Daemon {
    channel: Channel,
    token: String,
}

/// What a daemon said to a command.
pub enum Answer<T> {
    /// Done; `T` is what it returned.
    Done(T),
    /// Refused, with the operation's own message (the one the command prints when it acts by
    /// itself: an emergency stop in force, an unknown profile).
    Refused(String),
}

impl Daemon {
    /// The scheduler holding `config`'s lock, if one answers with the control token on disk.
    pub async fn find(config: &Path) -> Option<Daemon> {
        if !EngineLock::is_held(config) {
            return None;
        }
        let token = Tokens::load(config).ok()?.control().to_string();
        let mut channels = Vec::new();
        #[cfg(unix)]
        {
            let p = local::socket_path(config);
            if p.exists() {
                channels.push(Channel::Unix(p));
            }
        }
        if let Some(a) = Advertised::read(config) {
            channels.push(Channel::Tcp(a));
        }
        for channel in channels {
            let probe = local::request(
                &channel,
                &token,
                Method::GET,
                "/api/v1/version",
                None,
                PROBE,
            )
            .await;
            if probe.is_ok_and(|r| r.status.is_success()) {
                return Some(Daemon { channel, token });
            }
        }
        None
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Reply, ClientError> {
        local::request(
            &self.channel,
            &self.token,
            method,
            path,
            body.as_ref(),
            CALL,
        )
        .await
    }

    /// The daemon's live status.
    pub async fn status(&self) -> Result<FleetStatus, ClientError> {
        let r = self.call(Method::GET, "/api/v1/overview", None).await?;
        if !r.status.is_success() {
            return Err(self.broken(r.message()));
        }
        serde_json::from_slice(&r.body).map_err(|e| self.broken(e.to_string()))
    }

    /// Apply `profile` (to `miner`); the daemon's workers carry it out.
    pub async fn apply(
        &self,
        profile: &Profile,
        miner: Option<&str>,
    ) -> Result<Answer<()>, ClientError> {
        let body = serde_json::json!({ "profile": profile, "miner": miner });
        let r = self.call(Method::POST, "/api/v1/apply", Some(body)).await?;
        Ok(answer(r, |_| ()))
    }

    /// Clear overrides; returns what was in force: (emergency, manual, paused).
    pub async fn resume(&self) -> Result<Answer<(bool, bool, bool)>, ClientError> {
        let r = self.call(Method::POST, "/api/v1/resume", None).await?;
        Ok(answer(r, |v| {
            let flag = |k: &str| v.get(k).and_then(|b| b.as_bool()).unwrap_or(false);
            (flag("emergency"), flag("manual"), flag("paused"))
        }))
    }

    /// Switch the daemon's plan to the emergency stop at once.
    pub async fn emergency_stop(&self) -> Result<Answer<()>, ClientError> {
        let r = self.call(Method::POST, "/api/v1/emergency", None).await?;
        Ok(answer(r, |_| ()))
    }

    fn broken(&self, why: String) -> ClientError {
        ClientError::Protocol {
            at: self.channel.to_string(),
            why,
        }
    }
}

fn answer<T>(r: Reply, ok: impl FnOnce(&serde_json::Value) -> T) -> Answer<T> {
    if r.status.is_success() {
        Answer::Done(ok(&r.json()))
    } else {
        Answer::Refused(r.message())
    }
}
