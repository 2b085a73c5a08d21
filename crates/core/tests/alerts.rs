//! Alerts from the engine to real servers on loopback: every channel type delivers (ntfy,
//! Telegram, webhook shapes, e-mail over plain SMTP, STARTTLS and TLS), one alert per episode and
//! a recovery, quiet hours hold alerts back, a failing channel is retried with backoff and
//! reported while the others deliver and the polling goes on, and no secret reaches an event.

mod alert_servers;
mod support;

use std::sync::Arc;
use std::time::Duration;

use alert_servers::{Recorder, SmtpMode, SmtpServer};
use bitaxe_core::alerts::{channels::send_test_with, Delivery};
use bitaxe_core::clock::FakeClock;
use bitaxe_core::config::alerts::{
    AlertQuietHours, AlertsConfig, ChannelConfig, EmailChannel, NtfyChannel, Secret,
    TelegramChannel, WebhookChannel, WebhookTemplate,
};
use bitaxe_core::config::{ClockTime, Config};
use bitaxe_core::engine::RetryPolicy;
use bitaxe_core::events::{Event, MinerState};
use bitaxe_core::{EngineHandle, EngineOptions};
use bitaxe_sim::{Faults, Personality};
use support::{quick_config, sims, utc, DAY};
use tokio::sync::broadcast;

const BOT_TOKEN: &str = "123456:SECRET-bot-token";
const BAD_BOT_TOKEN: &str = "999:OTHER-secret";
const SMTP_PASSWORD: &str = "smtp-SECRET-pw";

fn ntfy(r: &Recorder) -> ChannelConfig {
    ChannelConfig::Ntfy(NtfyChannel {
        name: Some("ntfy".into()),
        kinds: None,
        url: r.url("/bitaxe-topic"),
        token: Some(Secret::new("tk_SECRET")),
        priority: None,
    })
}

fn telegram(r: &Recorder, token: &str, name: &str) -> ChannelConfig {
    ChannelConfig::Telegram(TelegramChannel {
        name: Some(name.into()),
        kinds: None,
        bot_token: Secret::new(token),
        chat_id: "4242".into(),
        api_url: Some(r.url("")),
    })
}

fn webhook(r: &Recorder, path: &str, template: WebhookTemplate) -> ChannelConfig {
    ChannelConfig::Webhook(WebhookChannel {
        name: Some(format!("hook {path}")),
        kinds: None,
        url: r.url(path),
        template: Some(template),
        headers: [("X-Api-Key".to_string(), Secret::new("hdr-SECRET"))].into(),
    })
}

fn email(smtp: &SmtpServer, scheme: &str, login: bool) -> ChannelConfig {
    ChannelConfig::Email(EmailChannel {
        name: Some(format!("mail {scheme}")),
        kinds: None,
        smtp_url: format!("{scheme}://{}", smtp.addr),
        username: login.then(|| "miner-admin".into()),
        password: login.then(|| Secret::new(SMTP_PASSWORD)),
        from: "Bitaxe <bitaxe@example.invalid>".into(),
        to: vec!["me@example.invalid".into(), "you@example.invalid".into()],
    })
}

fn with_channels(channels: Vec<ChannelConfig>) -> Config {
    Config {
        alerts: Some(AlertsConfig {
            channels,
            ..Default::default()
        }),
        ..Config::default()
    }
}

#[tokio::test]
async fn a_test_send_reaches_every_channel_type_with_the_right_shape() {
    let r = Recorder::start().await;
    let plain = SmtpServer::start(SmtpMode::Plain).await;
    let starttls = SmtpServer::start(SmtpMode::StartTls).await;
    let tls = SmtpServer::start(SmtpMode::Tls).await;
    let config = with_channels(vec![
        ntfy(&r),
        telegram(&r, BOT_TOKEN, "phone"),
        webhook(&r, "/json", WebhookTemplate::Json),
        webhook(&r, "/discord", WebhookTemplate::Discord),
        webhook(&r, "/slack", WebhookTemplate::Slack),
        email(&plain, "smtp", false),
        email(&starttls, "smtp+starttls", true),
        email(&tls, "smtps", true),
    ]);
    assert!(config.validate().is_empty(), "{:?}", config.validate());
    let delivery = Delivery::new(Duration::from_secs(5))
        .with_smtp_root_pem(starttls.cert_pem.as_bytes())
        .with_smtp_root_pem(tls.cert_pem.as_bytes());
    let reports = send_test_with(&config, &delivery).await;
    assert_eq!(reports.len(), 8);
    for rep in &reports {
        assert!(rep.ok, "{rep:?}");
    }

    let n = r.at("/");
    assert_eq!(n.len(), 1, "ntfy publishes JSON to the server root");
    assert_eq!(n[0].body["topic"], "bitaxe-topic");
    assert_eq!(n[0].body["title"], "Bitaxe Fleet Scheduler: test alert");
    assert_eq!(n[0].body["priority"], 3);
    assert_eq!(n[0].headers["authorization"], "Bearer tk_SECRET");

    let t = r.at(&format!("/bot{BOT_TOKEN}/sendMessage"));
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].body["chat_id"], "4242");
    assert!(t[0].body["text"]
        .as_str()
        .expect("text")
        .starts_with("Bitaxe Fleet Scheduler: test alert\n"));

    let j = r.at("/json");
    assert_eq!(j[0].body["kind"], "test");
    assert_eq!(j[0].body["recovered"], false);
    assert!(j[0].body["at"].as_str().expect("at").contains('T'));
    assert_eq!(j[0].headers["x-api-key"], "hdr-SECRET");
    assert!(r.at("/discord")[0].body["content"]
        .as_str()
        .expect("content")
        .starts_with("**Bitaxe Fleet Scheduler: test alert**"));
    assert!(r.at("/slack")[0].body["text"]
        .as_str()
        .expect("text")
        .starts_with("*Bitaxe Fleet Scheduler: test alert*"));

    for (server, tls_used, login) in [
        (&plain, false, false),
        (&starttls, true, true),
        (&tls, true, true),
    ] {
        let mails = server.mails();
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        assert_eq!(m.from, "bitaxe@example.invalid");
        assert_eq!(m.to, ["me@example.invalid", "you@example.invalid"]);
        assert_eq!(m.tls, tls_used);
        assert_eq!(
            m.auth.as_deref(),
            login
                .then(|| format!("miner-admin\0{SMTP_PASSWORD}"))
                .as_deref()
        );
        assert_eq!(
            m.header("Subject").as_deref(),
            Some("Bitaxe Fleet Scheduler: test alert")
        );
        assert!(m
            .header("From")
            .expect("from")
            .contains("bitaxe@example.invalid"));
        assert!(m.header("To").expect("to").contains("you@example.invalid"));
        assert!(m.body().contains("alerts reach you here"), "{}", m.body());
    }
}

#[tokio::test]
async fn failures_are_reported_without_secrets() {
    let r = Recorder::start().await;
    r.fail(&format!("/bot{BAD_BOT_TOKEN}"), 401);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let mut smtp = email(&SmtpServer::start(SmtpMode::Plain).await, "smtp", true);
    if let ChannelConfig::Email(e) = &mut smtp {
        e.smtp_url = format!("smtp://{closed}");
    }
    let untrusted = SmtpServer::start(SmtpMode::Tls).await;
    let config = with_channels(vec![
        telegram(&r, BAD_BOT_TOKEN, "bad bot"),
        smtp,
        email(&untrusted, "smtps", true),
        telegram(&r, BOT_TOKEN, "good bot"),
    ]);
    let reports = send_test_with(&config, &Delivery::new(Duration::from_secs(3))).await;
    let oks: Vec<bool> = reports.iter().map(|r| r.ok).collect();
    assert_eq!(oks, [false, false, false, true], "{reports:?}");
    let text = format!("{reports:?}");
    assert!(text.contains("HTTP 401"), "{text}");
    for secret in [BAD_BOT_TOKEN, BOT_TOKEN, SMTP_PASSWORD, "OTHER-secret"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(
        untrusted.mails().is_empty(),
        "an untrusted certificate is refused"
    );
}

struct Engine {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    engine: EngineHandle,
    events: broadcast::Receiver<Event>,
    seen: Vec<Event>,
}

impl Engine {
    async fn start(config: Config, retry: RetryPolicy) -> Engine {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("multi_scheduler_config.json");
        config.save(&path).expect("save");
        let mut opts = EngineOptions::new(&path);
        opts.clock = Arc::new(FakeClock::new(utc(DAY)));
        opts.http = bitaxe_core::axeos::Http::new(bitaxe_core::axeos::Timeouts {
            connect: Duration::from_millis(300),
            total: Duration::from_millis(500),
        });
        opts.watch_every = Duration::from_millis(50);
        opts.alerts.retry = retry;
        opts.alerts.delivery = Delivery::new(Duration::from_secs(3));
        let engine = EngineHandle::start(opts).expect("engine");
        let events = engine.subscribe();
        Engine {
            _dir: dir,
            path,
            engine,
            events,
            seen: Vec::new(),
        }
    }

    async fn expect(&mut self, what: &str, secs: u64, pred: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(e)) => {
                    self.seen.push(e.clone());
                    if pred(&e) {
                        return e;
                    }
                }
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(e)) => panic!("bus closed: {e}"),
                Err(_) => {
                    let seen: Vec<String> = self
                        .seen
                        .iter()
                        .filter(|e| !matches!(e, Event::Sampled(_)))
                        .map(|e| e.describe())
                        .collect();
                    panic!("timed out waiting for {what}; saw {seen:#?}")
                }
            }
        }
    }

    /// Events for `secs` more seconds.
    async fn drain(&mut self, secs: f64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
        while let Ok(Ok(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            self.seen.push(e);
        }
    }

    fn sent_to(&self, channel: &str) -> Vec<String> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                Event::AlertSent {
                    channel: c, title, ..
                } if c == channel => Some(title.clone()),
                _ => None,
            })
            .collect()
    }
}

fn offline(name: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| matches!(e, Event::StateChanged { miner, to: MinerState::Offline, .. } if miner == name)
}

#[tokio::test]
async fn an_offline_miner_alerts_each_channel_once_and_a_failing_one_is_retried() {
    let miners = sims(2, Personality::V2_14).await;
    let r = Recorder::start().await;
    let smtp = SmtpServer::start(SmtpMode::Plain).await;
    r.fail("/broken", 500);
    let mut config = quick_config(&miners);
    config.smooth_transition = false;
    config.alerts = Some(AlertsConfig {
        channels: vec![
            ntfy(&r),
            telegram(&r, BOT_TOKEN, "phone"),
            webhook(&r, "/json", WebhookTemplate::Json),
            webhook(&r, "/broken", WebhookTemplate::Slack),
            email(&smtp, "smtp", false),
        ],
        ..Default::default()
    });
    let retry = RetryPolicy {
        tries: 3,
        first: Duration::from_millis(300),
        factor: 2.0,
        jitter: 0.1,
    };
    let mut h = Engine::start(config, retry).await;
    // Let the day's settings land first, so the only news is the outage.
    h.expect(
        "settled",
        10,
        |e| matches!(e, Event::TransitionDone { miner, .. } if miner == "sim-2"),
    )
    .await;
    miners[1].set_faults(Faults {
        offline: true,
        ..Faults::default()
    });
    h.expect("sim-2 offline", 10, offline("sim-2")).await;
    // Every good channel delivers, while the broken one fails its tries and says so.
    for name in ["ntfy", "phone", "hook /json", "mail smtp"] {
        if !h.sent_to(name).iter().any(|t| t == "sim-2 is offline") {
            h.expect(name, 10, |e| matches!(e, Event::AlertSent { channel, title, .. } if channel == name && title == "sim-2 is offline")).await;
        }
    }
    let polled_before = miners[0].requests().len();
    h.expect("gave up on broken", 10, |e| {
        matches!(e, Event::AlertFailed { channel, message } if channel == "hook /broken" && message.contains("gave up after 3 tries"))
    })
    .await;
    let tries = r.at("/broken");
    assert_eq!(tries.len(), 3, "three tries");
    let gaps: Vec<Duration> = tries.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[0] >= Duration::from_millis(260), "{gaps:?}");
    assert!(
        gaps[1] >= Duration::from_millis(530),
        "backoff grows: {gaps:?}"
    );
    let failures: Vec<String> = h
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::AlertFailed { channel, message } if channel == "hook /broken" => {
                Some(message.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert!(
        failures[0].contains("HTTP 500") && failures[0].contains("try 1 of 3"),
        "{failures:?}"
    );
    assert!(
        miners[0].requests().len() >= polled_before + 2,
        "the engine kept polling while a channel failed"
    );
    // The same episode goes on: nothing new. Then the miner comes back: one recovery each.
    h.drain(0.8).await;
    miners[1].set_faults(Faults::default());
    h.expect("back online", 15, |e| matches!(e, Event::StateChanged { miner, from: MinerState::Offline, .. } if miner == "sim-2")).await;
    for name in ["ntfy", "phone", "hook /json", "mail smtp"] {
        if !h.sent_to(name).iter().any(|t| t == "sim-2 is back online") {
            h.expect(name, 10, |e| matches!(e, Event::AlertSent { channel, title, .. } if channel == name && title == "sim-2 is back online")).await;
        }
    }
    h.drain(0.5).await;
    for name in ["ntfy", "phone", "hook /json", "mail smtp"] {
        assert_eq!(
            h.sent_to(name),
            ["sim-2 is offline", "sim-2 is back online"],
            "{name}"
        );
    }
    let ntfy_titles: Vec<String> = r
        .at("/")
        .iter()
        .map(|q| q.body["title"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(ntfy_titles, ["sim-2 is offline", "sim-2 is back online"]);
    assert_eq!(
        r.at("/")[0].body["priority"],
        4,
        "offline goes out at high priority"
    );
    let hooks = r.at("/json");
    assert_eq!(hooks[0].body["kind"], "offline");
    assert_eq!(hooks[0].body["miner"], "sim-2");
    assert_eq!(hooks[1].body["recovered"], true);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2);
    assert_eq!(
        mails[0].header("Subject").as_deref(),
        Some("sim-2 is offline")
    );
    assert!(mails[0].body().contains("Miner: sim-2"));
    // No event carried a secret.
    let all = serde_json::to_string(&h.seen).expect("json");
    for secret in [BOT_TOKEN, "tk_SECRET", "hdr-SECRET"] {
        assert!(!all.contains(secret), "{secret} in an event");
    }
    h.engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn quiet_hours_hold_alerts_until_a_saved_config_lifts_them() {
    let miners = sims(1, Personality::V2_14).await;
    let r = Recorder::start().await;
    let mut config = quick_config(&miners);
    config.smooth_transition = false;
    config.alerts = Some(AlertsConfig {
        channels: vec![webhook(&r, "/json", WebhookTemplate::Json)],
        kinds: None,
        // The fake clock says 12:00 UTC; nothing is urgent enough.
        quiet_hours: Some(AlertQuietHours {
            from: ClockTime::hm(11, 0),
            to: ClockTime::hm(13, 0),
            except: Some(vec![]),
        }),
    });
    let mut h = Engine::start(config, RetryPolicy::default()).await;
    h.expect(
        "settled",
        10,
        |e| matches!(e, Event::TransitionDone { miner, .. } if miner == "sim-1"),
    )
    .await;
    miners[0].set_faults(Faults {
        offline: true,
        ..Faults::default()
    });
    h.expect("offline", 10, offline("sim-1")).await;
    h.drain(1.0).await;
    assert!(r.requests().is_empty(), "nothing during quiet hours");
    assert!(h.sent_to("hook /json").is_empty());
    // The user lifts the quiet hours and adds a channel; the engine reloads the file.
    let mut c = Config::load(&h.path).expect("load");
    let alerts = c.alerts.as_mut().expect("alerts");
    alerts.quiet_hours = None;
    alerts.channels.push(ntfy(&r));
    c.save(&h.path).expect("save");
    h.expect("held alert sent", 10, |e| matches!(e, Event::AlertSent { channel, title, .. } if channel == "ntfy" && title == "sim-1 is offline")).await;
    if h.sent_to("hook /json").is_empty() {
        h.expect(
            "held alert on the hook",
            10,
            |e| matches!(e, Event::AlertSent { channel, .. } if channel == "hook /json"),
        )
        .await;
    }
    assert_eq!(r.at("/json").len(), 1);
    assert_eq!(r.at("/").len(), 1);
    h.engine.shutdown(Duration::from_secs(5)).await;
}
