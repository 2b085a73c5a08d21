//! One bridge session for one `mqtt` config: connect, announce, publish states after each poll,
//! carry out commands, say goodbye.
//!
//! On every (re)connection and on Home Assistant's birth message the session sends everything
//! again: its `online` status, the discovery payloads, every availability and every state. In
//! between, it looks at the engine's status board once per poll interval and publishes only what
//! changed (a new discovery payload when a miner appears, is renamed or updates its firmware; an
//! empty one when it leaves the config; a state whenever a value moved).
//!
//! The engine is only read (its status board and, every [`ENERGY_EVERY`], today's energy from the
//! history database on a blocking thread) and commanded through `ops`: a slow or absent broker
//! never delays it. Publishing never waits either: when rumqttc's queue is full the message is
//! dropped and sent again at the next change or reconnection.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bitaxe_core::config::mqtt::Broker;
use bitaxe_core::config::MqttConfig;
use bitaxe_core::ops::Target;
use bitaxe_core::EngineHandle;
use rand::Rng;
use rumqttc::{LastWill, MqttOptions, QoS, Transport};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::command::{self, Scope};
use crate::link::{Link, LinkEvent};
use crate::state::EnergyToday;
use crate::topics::{miner_node, Topics};
use crate::{discovery, state};

/// How often today's energy is read from the history database.
pub const ENERGY_EVERY: Duration = Duration::from_secs(30);
/// Discovery payloads with a dozen components and long option lists pass this easily; rumqttc's
/// default (10 KiB) would not.
const MAX_PACKET: usize = 256 * 1024;
/// How long a goodbye may take before the connection is dropped.
const GOODBYE: Duration = Duration::from_secs(2);

/// A running session; [`Session::stop`] ends it.
pub struct Session {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl Session {
    /// Start a session for `config` (already validated with the rest of the config). Must be
    /// called inside a Tokio runtime.
    pub fn start(engine: EngineHandle, config: MqttConfig) -> Result<Session, String> {
        let broker = config.broker()?;
        let topics = Topics::new(&config);
        let options = options(&config, &broker, &topics);
        let cancel = CancellationToken::new();
        let runner = Runner {
            target: Target::Engine(engine.clone()),
            engine,
            topics,
            broker,
            connected: false,
            down_logged: false,
            devices: BTreeMap::new(),
            sent: HashMap::new(),
            energy: EnergyToday::default(),
            energy_at: None,
            birth_at: None,
            commands: TaskTracker::new(),
        };
        let task = tokio::spawn(runner.run(options, cancel.clone()));
        Ok(Session { cancel, task })
    }

    /// Publish `offline`, disconnect and end; gives up waiting after `timeout`.
    pub async fn stop(self, timeout: Duration) -> bool {
        self.cancel.cancel();
        let mut task = self.task;
        match tokio::time::timeout(timeout, &mut task).await {
            Ok(_) => true,
            Err(_) => {
                task.abort();
                false
            }
        }
    }
}

fn options(config: &MqttConfig, broker: &Broker, topics: &Topics) -> MqttOptions {
    let id = format!(
        "{}-{:08x}",
        crate::topics::slug(config.base_topic())
            .chars()
            .take(14)
            .collect::<String>(),
        rand::thread_rng().gen::<u32>()
    );
    let mut o = MqttOptions::new(id, broker.host.clone(), broker.port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_clean_session(true);
    o.set_max_packet_size(MAX_PACKET, MAX_PACKET);
    o.set_last_will(LastWill::new(
        topics.status(),
        "offline",
        QoS::AtLeastOnce,
        true,
    ));
    if let Some(user) = &config.username {
        o.set_credentials(user.clone(), config.password.clone().unwrap_or_default());
    }
    if broker.tls {
        o.set_transport(Transport::tls_with_default_config());
    }
    o
}

/// A device announced in this session.
struct Device {
    /// The miner's configured name (`None`: the fleet).
    miner: Option<String>,
    discovery: String,
}

struct Runner {
    engine: EngineHandle,
    target: Target,
    topics: Topics,
    broker: Broker,
    connected: bool,
    /// A connection failure was logged at warning level; later ones wait for a success.
    down_logged: bool,
    /// Announced devices by node id.
    devices: BTreeMap<String, Device>,
    /// The last payload sent on each state and availability topic.
    sent: HashMap<String, String>,
    energy: EnergyToday,
    energy_at: Option<Instant>,
    /// Home Assistant said it started: send everything again at this instant.
    birth_at: Option<Instant>,
    commands: TaskTracker,
}

impl Runner {
    async fn run(mut self, options: MqttOptions, cancel: CancellationToken) {
        let mut link = Link::start(options, 1024);
        let (done_tx, mut done_rx) = mpsc::channel::<()>(16);
        let mut tick = tokio::time::interval(poll_every(&self.engine));
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            let birth = self.birth_at;
            tokio::select! {
                _ = cancel.cancelled() => break,
                event = link.events.recv() => match event {
                    Some(e) => self.on_event(e, &link, &done_tx).await,
                    None => break,
                },
                _ = tick.tick() => {
                    if self.connected {
                        self.refresh(&link).await;
                    }
                }
                Some(()) = done_rx.recv() => {
                    if self.connected {
                        self.refresh(&link).await;
                    }
                }
                _ = sleep_until(birth), if birth.is_some() => {
                    self.birth_at = None;
                    if self.connected {
                        self.resend_all(&link).await;
                    }
                }
            }
        }
        link.close(Some((self.topics.status(), "offline")), GOODBYE)
            .await;
        self.commands.close();
        let _ = tokio::time::timeout(Duration::from_secs(1), self.commands.wait()).await;
        tracing::info!("MQTT: disconnected from {}", self.broker);
    }

    async fn on_event(&mut self, e: LinkEvent, link: &Link, done: &mpsc::Sender<()>) {
        match e {
            LinkEvent::Up => {
                tracing::info!("MQTT: connected to {}", self.broker);
                self.connected = true;
                self.down_logged = false;
                for filter in [self.topics.command_filter(), self.topics.birth()] {
                    if let Err(e) = link.client.try_subscribe(filter, QoS::AtLeastOnce) {
                        tracing::warn!("MQTT: could not subscribe: {e}");
                    }
                }
                self.resend_all(link).await;
            }
            LinkEvent::Down(why) => {
                if self.down_logged {
                    tracing::debug!("MQTT: {}: {why}", self.broker);
                } else {
                    tracing::warn!(
                        "MQTT: {}: {why}; trying again with backoff (up to {} s apart)",
                        self.broker,
                        crate::link::MAX_BACKOFF.as_secs()
                    );
                    self.down_logged = true;
                }
                self.connected = false;
            }
            LinkEvent::Message {
                topic,
                payload,
                retain,
            } => self.on_message(&topic, &payload, retain, done),
        }
    }

    fn on_message(&mut self, topic: &str, payload: &[u8], retain: bool, done: &mpsc::Sender<()>) {
        if topic == self.topics.birth() {
            if payload == b"online" {
                // A random delay, as Home Assistant asks, so many publishers do not answer at once.
                let delay = Duration::from_millis(rand::thread_rng().gen_range(100..1500));
                self.birth_at = Some(Instant::now() + delay);
            }
            return;
        }
        let Some((node, entity)) = self.topics.parse_command(topic) else {
            return;
        };
        if retain {
            // A command kept by the broker would run again at every reconnection.
            tracing::warn!("MQTT: ignored a retained command on {topic}; publish commands without the retain flag");
            return;
        }
        let scope = if node == self.topics.fleet_node() {
            Scope::Fleet
        } else {
            match self.devices.get(node).and_then(|d| d.miner.clone()) {
                Some(m) => Scope::Miner(m),
                None => {
                    tracing::warn!("MQTT: refused a command on {topic}: no miner has that id here");
                    return;
                }
            }
        };
        let command = match command::parse(scope, entity, payload) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("MQTT: refused a command on {topic}: {e}");
                return;
            }
        };
        let target = self.target.clone();
        let done = done.clone();
        let topic = topic.to_string();
        self.commands.spawn(async move {
            match command::run(&target, &command).await {
                Ok(what) => tracing::info!("MQTT: {what}"),
                Err(e) => tracing::warn!("MQTT: refused a command on {topic}: {e}"),
            }
            let _ = done.try_send(());
        });
    }

    fn publish(&mut self, link: &Link, topic: String, retain: bool, payload: String) -> bool {
        let qos = if retain {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        };
        match link.client.try_publish(topic, qos, retain, payload) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!("MQTT: publish dropped ({e}); sent again later");
                false
            }
        }
    }

    /// Publish `payload` on `topic` unless it is what was sent there last.
    fn publish_changed(&mut self, link: &Link, topic: String, retain: bool, payload: String) {
        if self.sent.get(&topic) == Some(&payload) {
            return;
        }
        if self.publish(link, topic.clone(), retain, payload.clone()) {
            self.sent.insert(topic, payload);
        } else {
            self.sent.remove(&topic);
        }
    }

    async fn resend_all(&mut self, link: &Link) {
        self.devices.clear();
        self.sent.clear();
        let status = self.topics.status();
        self.publish(link, status, true, "online".into());
        self.refresh(link).await;
    }

    /// Bring the broker up to date with the engine: discovery, availability and states.
    async fn refresh(&mut self, link: &Link) {
        self.refresh_energy().await;
        let status = self.engine.status();
        let config = self.engine.config();
        let mut wanted: BTreeMap<String, Device> = BTreeMap::new();
        let mut miners = Vec::new();
        for m in status.miners.iter().filter(|m| m.info.is_some()) {
            let mac = m.info.as_ref().and_then(|i| i.mac_addr.as_deref());
            let node = miner_node(mac, &m.name);
            if wanted.contains_key(&node) {
                // Two configured miners answer with one MAC: one device, the first one.
                continue;
            }
            let payload = discovery::miner(&self.topics, &node, m, &config).to_string();
            wanted.insert(
                node.clone(),
                Device {
                    miner: Some(m.name.clone()),
                    discovery: payload,
                },
            );
            miners.push((node, m));
        }
        let fleet = self.topics.fleet_node();
        wanted.insert(
            fleet.clone(),
            Device {
                miner: None,
                discovery: discovery::fleet(&self.topics, &config).to_string(),
            },
        );
        // Gone from the config (or renamed onto another MAC): remove the device from Home
        // Assistant and forget its retained topics.
        let gone: Vec<String> = self
            .devices
            .keys()
            .filter(|n| !wanted.contains_key(*n))
            .cloned()
            .collect();
        for node in gone {
            self.devices.remove(&node);
            let (d, a) = (
                self.topics.discovery(&node),
                self.topics.availability(&node),
            );
            self.publish(link, d, true, String::new());
            self.publish(link, a.clone(), true, String::new());
            self.sent.remove(&a);
            self.sent.remove(&self.topics.state(&node));
        }
        for (node, device) in wanted {
            if self.devices.get(&node).map(|d| &d.discovery) != Some(&device.discovery) {
                let topic = self.topics.discovery(&node);
                if !self.publish(link, topic, true, device.discovery.clone()) {
                    continue;
                }
            }
            self.devices.insert(node, device);
        }
        for (node, m) in miners {
            if !self.devices.contains_key(&node) {
                continue;
            }
            let a = self.topics.availability(&node);
            self.publish_changed(link, a, true, state::availability(m).into());
            let s = self.topics.state(&node);
            self.publish_changed(link, s, false, state::miner(m, &self.energy).to_string());
        }
        if self.devices.contains_key(&fleet) {
            let s = self.topics.state(&fleet);
            self.publish_changed(
                link,
                s,
                false,
                state::fleet(&status, &self.energy).to_string(),
            );
        }
    }

    /// Today's energy per miner and for the fleet, from the history (at most every
    /// [`ENERGY_EVERY`]; a failed read keeps the last figures).
    async fn refresh_energy(&mut self) {
        if self.energy_at.is_some_and(|at| at.elapsed() < ENERGY_EVERY) {
            return;
        }
        self.energy_at = Some(Instant::now());
        let engine = self.engine.clone();
        let read = tokio::task::spawn_blocking(move || {
            let now = engine.now();
            let tz = engine.zone();
            let day = now.with_timezone(&tz).date_naive();
            engine.cost(bitaxe_core::cost::local_day_start(tz, day), now)
        })
        .await;
        match read {
            Ok(Ok(report)) => {
                self.energy = EnergyToday {
                    miners: report
                        .miners
                        .iter()
                        .map(|(name, b)| (name.clone(), b.total.kwh))
                        .collect(),
                    fleet: Some(report.fleet.total.kwh),
                }
            }
            Ok(Err(e)) => tracing::debug!("MQTT: today's energy: {e}"),
            Err(e) => tracing::debug!("MQTT: today's energy: {e}"),
        }
    }
}

/// The engine's poll interval: states follow each poll, never faster.
fn poll_every(engine: &EngineHandle) -> Duration {
    let c = engine.config();
    c.temp_check_every()
        .min(c.check_every())
        .max(Duration::from_millis(100))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
