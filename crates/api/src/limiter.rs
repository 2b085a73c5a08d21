//! Failed-authentication accounting per source IP: `max_failures` within `window` locks that
//! source out (429) for `lockout`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many failures lock a source out, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 10,
            window: Duration::from_secs(300),
            lockout: Duration::from_secs(900),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    since: Instant,
    locked_until: Option<Instant>,
}

/// Sources remembered at most (the oldest forgotten first when full).
const MAX_SOURCES: usize = 4096;

#[derive(Debug, Default)]
pub struct Limiter {
    policy: LockoutPolicy,
    sources: HashMap<IpAddr, Entry>,
}

impl Limiter {
    pub fn new(policy: LockoutPolicy) -> Limiter {
        Limiter {
            policy,
            sources: HashMap::new(),
        }
    }

    /// Whether `ip` is locked out at `now`.
    pub fn locked(&mut self, ip: IpAddr, now: Instant) -> bool {
        match self.sources.get(&ip) {
            Some(Entry {
                locked_until: Some(until),
                ..
            }) if *until > now => true,
            Some(Entry {
                locked_until: Some(_),
                ..
            }) => {
                self.sources.remove(&ip);
                false
            }
            _ => false,
        }
    }

    /// Count a failed attempt from `ip`; true when it now locks the source out.
    pub fn fail(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            self.forget_stale(now);
        }
        let p = self.policy;
        let e = self.sources.entry(ip).or_insert(Entry {
            failures: 0,
            since: now,
            locked_until: None,
        });
        if now.duration_since(e.since) > p.window {
            *e = Entry {
                failures: 0,
                since: now,
                locked_until: None,
            };
        }
        e.failures += 1;
        if e.failures >= p.max_failures {
            e.locked_until = Some(now + p.lockout);
            true
        } else {
            false
        }
    }

    fn forget_stale(&mut self, now: Instant) {
        let p = self.policy;
        self.sources.retain(|_, e| match e.locked_until {
            Some(until) => until > now,
            None => now.duration_since(e.since) <= p.window,
        });
        if self.sources.len() >= MAX_SOURCES {
            // Still full of live entries: drop the oldest.
            if let Some(oldest) = self
                .sources
                .iter()
                .min_by_key(|(_, e)| e.since)
                .map(|(ip, _)| *ip)
            {
                self.sources.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_max_failures_then_forgives() {
        let mut l = Limiter::new(LockoutPolicy {
            max_failures: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(10),
        });
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let other: IpAddr = "127.0.0.2".parse().expect("ip");
        let t0 = Instant::now();
        assert!(!l.fail(ip, t0));
        assert!(!l.fail(ip, t0));
        assert!(!l.locked(ip, t0));
        assert!(l.fail(ip, t0));
        assert!(l.locked(ip, t0 + Duration::from_secs(9)));
        assert!(!l.locked(other, t0));
        assert!(!l.locked(ip, t0 + Duration::from_secs(11)));
        // Failures spread wider than the window never lock.
        assert!(!l.fail(other, t0));
        assert!(!l.fail(other, t0 + Duration::from_secs(61)));
        assert!(!l.fail(other, t0 + Duration::from_secs(62)));
    }
}

/// Requests per source: a bucket of `burst` requests refilled at `per_second`.
#[derive(Debug, Clone, Copy)]
pub struct RateCap {
    pub per_second: f64,
    pub burst: f64,
}

impl Default for RateCap {
    fn default() -> Self {
        RateCap {
            per_second: 50.0,
            burst: 200.0,
        }
    }
}

/// The request buckets, per source IP.
#[derive(Debug, Default)]
pub struct Buckets {
    cap: RateCap,
    sources: HashMap<IpAddr, (f64, Instant)>,
}

impl Buckets {
    pub fn new(cap: RateCap) -> Buckets {
        Buckets {
            cap,
            sources: HashMap::new(),
        }
    }

    /// Take one request from `ip`'s bucket; false when it is empty (429).
    pub fn take(&mut self, ip: IpAddr, now: Instant) -> bool {
        let cap = self.cap;
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            // Full buckets carry no information: forget them.
            self.sources.retain(|_, (level, at)| {
                *level + now.duration_since(*at).as_secs_f64() * cap.per_second < cap.burst
            });
            if self.sources.len() >= MAX_SOURCES {
                return false;
            }
        }
        let (level, at) = self.sources.entry(ip).or_insert((cap.burst, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * cap.per_second).min(cap.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let mut b = Buckets::new(RateCap {
            per_second: 2.0,
            burst: 3.0,
        });
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let t0 = Instant::now();
        assert!((0..3).all(|_| b.take(ip, t0)));
        assert!(!b.take(ip, t0));
        assert!(b.take(ip, t0 + Duration::from_millis(500)));
        assert!(!b.take(ip, t0 + Duration::from_millis(500)));
    }
}
