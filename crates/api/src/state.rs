//! What every handler shares: the engine, the command service, the tokens, the allow-list, the
//! limiter, the event log.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use bitaxe_app::Service;

use bitaxe_core::ops::Target;
use bitaxe_core::EngineHandle;
use tokio_util::sync::CancellationToken;

use crate::guard::HostAllowList;
use crate::limiter::{Buckets, Limiter};
use crate::sse::EventLog;
use crate::tokens::Tokens;
use crate::ApiOptions;

pub struct Shared {
    pub engine: EngineHandle,
    /// What `POST /api/v1/call/{command}` dispatches to (shared with the desktop window when
    /// the desktop serves the API).
    pub service: Arc<Service>,
    tokens: RwLock<Tokens>,
    pub hosts: HostAllowList,
    pub options: ApiOptions,
    pub events: EventLog,
    /// Fires when the server stops (ends the event streams).
    pub cancel: CancellationToken,
    limiter: Mutex<Limiter>,
    buckets: Mutex<Buckets>,
}

impl Shared {
    pub fn new(
        engine: EngineHandle,
        service: Arc<Service>,
        tokens: Tokens,
        hosts: HostAllowList,
        options: ApiOptions,
        events: EventLog,
        cancel: CancellationToken,
    ) -> Shared {
        Shared {
            limiter: Mutex::new(Limiter::new(options.lockout)),
            buckets: Mutex::new(Buckets::new(options.rate)),
            engine,
            service,
            tokens: RwLock::new(tokens),
            hosts,
            options,
            events,
            cancel,
        }
    }

    /// The operations layer's view of the engine.
    pub fn target(&self) -> Target {
        Target::Engine(self.engine.clone())
    }

    /// The tokens in force.
    pub fn tokens(&self) -> Tokens {
        self.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replace the tokens (after a rotation).
    pub fn set_tokens(&self, tokens: Tokens) {
        *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = tokens;
    }

    pub fn buckets(&self) -> MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn limiter(&self) -> MutexGuard<'_, Limiter> {
        self.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }
}
