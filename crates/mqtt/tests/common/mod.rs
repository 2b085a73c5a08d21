//! A private Mosquitto broker and a subscriber standing in for Home Assistant, shared by the MQTT
//! test files.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bitaxe_core::config::{Config, MqttConfig};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use tokio::sync::mpsc;

/// A private Mosquitto on loopback. Killed (and reaped) on drop, even when a test fails.
pub struct Mosquitto {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// `allow_anonymous false` with this one user, when set.
    auth: Option<(String, String)>,
}

pub fn mosquitto_binary() -> PathBuf {
    let mut places: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    // Debian installs it in /usr/sbin, which is not on every user's PATH.
    places.extend(["/usr/sbin".into(), "/usr/local/sbin".into()]);
    places
        .into_iter()
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "mosquitto is not installed, and the MQTT tests need a real broker: run scripts/setup.sh \
                 (it installs the Debian package mosquitto)"
            )
        })
}

impl Mosquitto {
    pub fn start() -> Mosquitto {
        Mosquitto::start_with(None)
    }

    /// A broker that lets in only `user` with `password`.
    pub fn start_with(auth: Option<(&str, &str)>) -> Mosquitto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut m = Mosquitto {
            child: None,
            port,
            dir: tempfile::tempdir().expect("dir"),
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
        };
        m.launch();
        m
    }

    pub fn launch(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        let mut text = format!(
            "listener {} 127.0.0.1\npersistence false\nlog_dest stderr\nlog_type all\n",
            self.port
        );
        match &self.auth {
            None => text.push_str("allow_anonymous true\n"),
            Some((user, password)) => {
                // Mosquitto started as root reads this after dropping to its own user.
                let file = self.dir.path().join("passwd");
                let made = Command::new("mosquitto_passwd")
                    .args(["-b", "-c"])
                    .arg(&file)
                    .args([user, password])
                    .stdout(Stdio::null())
                    .status()
                    .expect("mosquitto_passwd (Debian package mosquitto; run scripts/setup.sh)");
                assert!(made.success(), "mosquitto_passwd failed");
                use std::os::unix::fs::PermissionsExt;
                let open = std::fs::Permissions::from_mode(0o755);
                std::fs::set_permissions(self.dir.path(), open).expect("chmod dir");
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
                    .expect("chmod passwd");
                text.push_str(&format!(
                    "allow_anonymous false\npassword_file {}\n",
                    file.display()
                ));
            }
        }
        std::fs::write(&conf, text).expect("conf");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("mosquitto.log"))
            .expect("log");
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("mosquitto exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug, Clone)]
pub struct Msg {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

impl Msg {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.payload)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", self.topic, self.text()))
    }
}

/// What Home Assistant sees: every message on the broker, and a client to send commands with.
pub struct Watcher {
    pub client: AsyncClient,
    rx: mpsc::UnboundedReceiver<Msg>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    pub async fn start(port: u16) -> Watcher {
        Watcher::start_as(port, None).await
    }

    pub async fn start_as(port: u16, login: Option<(&str, &str)>) -> Watcher {
        let mut o = MqttOptions::new(format!("watcher-{}", rand_id()), "127.0.0.1", port);
        if let Some((u, p)) = login {
            o.set_credentials(u, p);
        }
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(o, 100);
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        client
            .subscribe("#", QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        let task = tokio::spawn(async move {
            let mut ready = Some(ready_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(r) = ready.take() {
                            let _ = r.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(Msg {
                            topic: p.topic,
                            payload: p.payload.to_vec(),
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(5), ready_rx)
            .await
            .expect("suback in time")
            .expect("suback");
        Watcher { client, rx, task }
    }

    /// The next message matching `pred`, failing with the topics seen meanwhile.
    pub async fn expect(
        &mut self,
        what: &str,
        secs: u64,
        mut pred: impl FnMut(&Msg) -> bool,
    ) -> Msg {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    if pred(&m) {
                        return m;
                    }
                    seen.push(format!(
                        "{} = {}",
                        m.topic,
                        m.text().chars().take(80).collect::<String>()
                    ));
                }
                Ok(None) => panic!("watcher stopped"),
                Err(_) => panic!("timed out waiting for {what}; saw: {seen:#?}"),
            }
        }
    }

    pub async fn on(&mut self, topic: &str, secs: u64) -> Msg {
        self.expect(topic, secs, |m| m.topic == topic).await
    }

    /// One message on each of `topics`, in whatever order they come.
    pub async fn each(&mut self, topics: &[String], secs: u64) -> HashMap<String, Msg> {
        let mut got = HashMap::new();
        while got.len() < topics.len() {
            let want: Vec<&String> = topics.iter().filter(|t| !got.contains_key(*t)).collect();
            let m = self
                .expect(&format!("{want:?}"), secs, |m| want.contains(&&m.topic))
                .await;
            got.insert(m.topic.clone(), m);
        }
        got
    }

    /// Forget what arrived so far.
    pub fn drain(&mut self) {
        while self.rx.try_recv().is_ok() {}
    }

    pub async fn send(&self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
            .await
            .expect("publish");
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn rand_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}

pub fn with_mqtt(url: String) -> impl FnOnce(&mut Config) {
    move |c| {
        c.mqtt = Some(MqttConfig {
            url,
            ..MqttConfig::default()
        })
    }
}

pub fn node_of(mac: &str) -> String {
    format!(
        "bitaxe_{}",
        mac.chars()
            .filter(char::is_ascii_hexdigit)
            .collect::<String>()
            .to_ascii_lowercase()
    )
}

pub const STATUS: &str = "bitaxe-scheduler/status";
pub const FLEET: &str = "bitaxe-scheduler_fleet";

pub fn discovery_topic(node: &str) -> String {
    format!("homeassistant/device/{node}/config")
}

pub fn state_topic(node: &str) -> String {
    format!("bitaxe-scheduler/{node}/state")
}

pub fn command_topic(node: &str, entity: &str) -> String {
    format!("bitaxe-scheduler/{node}/{entity}/set")
}

pub fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("{k} is not a number in {v}"))
}

/// A state message for `node` whose JSON passes `pred`.
pub async fn state_where(
    w: &mut Watcher,
    node: &str,
    secs: u64,
    mut pred: impl FnMut(&Value) -> bool,
) -> Value {
    let topic = state_topic(node);
    w.expect(&format!("a state on {topic}"), secs, |m| {
        m.topic == topic && pred(&m.json())
    })
    .await
    .json()
}
