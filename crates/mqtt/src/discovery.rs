//! Home Assistant device discovery payloads: one retained message per device
//! (`<prefix>/device/<node>/config`) listing its components, built from what the engine knows.
//!
//! Device and state classes follow Home Assistant's sensor constants: power in W (`measurement`),
//! energy in kWh (`total_increasing`: today's measured energy, which starts again at local
//! midnight, read by Home Assistant as a new meter cycle), temperatures in °C, core voltage in V,
//! frequency in MHz; hashrate (GH/s) and efficiency (J/TH) have no device class. Every value
//! comes from the device's JSON state topic through a `value_template`, so one publish per poll
//! updates every entity.

use bitaxe_core::config::Config;
use bitaxe_core::events::MinerState;
use bitaxe_core::status::MinerStatus;
use serde_json::{json, Map, Value};

use crate::topics::Topics;

/// One sensor read from the state JSON.
struct Sensor {
    key: &'static str,
    name: &'static str,
    unit: Option<&'static str>,
    device_class: Option<&'static str>,
    state_class: &'static str,
    precision: Option<u8>,
    icon: Option<&'static str>,
}

const fn sensor(
    key: &'static str,
    name: &'static str,
    unit: Option<&'static str>,
    device_class: Option<&'static str>,
    state_class: &'static str,
    precision: Option<u8>,
    icon: Option<&'static str>,
) -> Sensor {
    Sensor {
        key,
        name,
        unit,
        device_class,
        state_class,
        precision,
        icon,
    }
}

const M: &str = "measurement";
const HASHRATE: Sensor = sensor(
    "hashrate",
    "Hashrate",
    Some("GH/s"),
    None,
    M,
    Some(1),
    Some("mdi:pickaxe"),
);
const POWER: Sensor = sensor("power", "Power", Some("W"), Some("power"), M, Some(1), None);
const ENERGY: Sensor = sensor(
    "energy",
    "Energy today",
    Some("kWh"),
    Some("energy"),
    "total_increasing",
    Some(3),
    None,
);
const EFFICIENCY: Sensor = sensor(
    "efficiency",
    "Efficiency",
    Some("J/TH"),
    None,
    M,
    Some(1),
    Some("mdi:leaf"),
);

/// A miner's sensors, in the order Home Assistant lists them.
const MINER_SENSORS: &[Sensor] = &[
    HASHRATE,
    POWER,
    ENERGY,
    sensor(
        "temp",
        "ASIC temperature",
        Some("°C"),
        Some("temperature"),
        M,
        Some(1),
        None,
    ),
    sensor(
        "vr_temp",
        "VR temperature",
        Some("°C"),
        Some("temperature"),
        M,
        Some(1),
        None,
    ),
    sensor(
        "voltage",
        "Core voltage",
        Some("V"),
        Some("voltage"),
        M,
        Some(3),
        None,
    ),
    sensor(
        "frequency",
        "Frequency",
        Some("MHz"),
        Some("frequency"),
        M,
        Some(0),
        None,
    ),
    EFFICIENCY,
    sensor("fan", "Fan", Some("%"), None, M, Some(0), Some("mdi:fan")),
    sensor(
        "fan_rpm",
        "Fan speed",
        Some("rpm"),
        None,
        M,
        Some(0),
        Some("mdi:fan"),
    ),
];

const FLEET_SENSORS: &[Sensor] = &[
    HASHRATE,
    POWER,
    ENERGY,
    EFFICIENCY,
    sensor(
        "online",
        "Miners online",
        None,
        None,
        M,
        Some(0),
        Some("mdi:server-network"),
    ),
];

/// Every state the engine gives a miner, as the `State` enum sensor's options.
pub const STATES: &[MinerState] = &[
    MinerState::Unknown,
    MinerState::Online,
    MinerState::Offline,
    MinerState::Transitioning,
    MinerState::Throttled,
    MinerState::Stalled,
    MinerState::Overheated,
    MinerState::Disabled,
];

/// The profiles a `select` offers: every profile the config knows, then `safe` (so a miner on
/// its safe settings shows a valid option).
pub fn profile_options(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = bitaxe_core::profiles::names(config)
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    out.push(bitaxe_core::profiles::SAFE.to_string());
    out
}

/// The model as people know it: "Bitaxe Gamma 601" from `deviceModel` and the board version,
/// else whatever the firmware says.
pub fn model_name(m: &MinerStatus) -> String {
    let info = m.info.as_ref();
    let device = info.and_then(|i| i.device_model.as_deref());
    let board = info.and_then(|i| i.board_version.as_deref());
    let asic = info.and_then(|i| i.asic_model.as_deref());
    match (device, board, asic) {
        (Some(d), Some(b), _) => format!("Bitaxe {d} {b}"),
        (Some(d), None, _) => format!("Bitaxe {d}"),
        (None, Some(b), _) => format!("Bitaxe {b}"),
        (None, None, Some(a)) => format!("Bitaxe ({a})"),
        (None, None, None) => "Bitaxe".into(),
    }
}

fn origin() -> Value {
    json!({
        "name": "bitaxe-scheduler",
        "sw": env!("CARGO_PKG_VERSION"),
    })
}

/// The entity id Home Assistant should give (`default_entity_id` since 2025.10, `object_id`
/// before; both are sent).
fn ids(component: &mut Map<String, Value>, platform: &str, unique_id: &str) {
    component.insert("unique_id".into(), unique_id.into());
    component.insert("object_id".into(), unique_id.into());
    component.insert(
        "default_entity_id".into(),
        format!("{platform}.{unique_id}").into(),
    );
}

fn sensor_component(node: &str, s: &Sensor) -> Value {
    let mut c = Map::new();
    c.insert("p".into(), "sensor".into());
    c.insert("name".into(), s.name.into());
    ids(&mut c, "sensor", &format!("{node}_{}", s.key));
    if let Some(u) = s.unit {
        c.insert("unit_of_measurement".into(), u.into());
    }
    if let Some(d) = s.device_class {
        c.insert("device_class".into(), d.into());
    }
    c.insert("state_class".into(), s.state_class.into());
    if let Some(p) = s.precision {
        c.insert("suggested_display_precision".into(), p.into());
    }
    if let Some(i) = s.icon {
        c.insert("icon".into(), i.into());
    }
    c.insert(
        "value_template".into(),
        format!("{{{{ value_json.{} }}}}", s.key).into(),
    );
    Value::Object(c)
}

fn component(node: &str, platform: &str, key: &str, name: &str, extra: Value) -> (String, Value) {
    let unique_id = format!("{node}_{key}");
    let mut c = Map::new();
    c.insert("p".into(), platform.into());
    c.insert("name".into(), name.into());
    ids(&mut c, platform, &unique_id);
    if let Value::Object(extra) = extra {
        c.extend(extra);
    }
    (unique_id, Value::Object(c))
}

fn binary(node: &str, key: &str, name: &str, device_class: &str) -> (String, Value) {
    component(
        node,
        "binary_sensor",
        key,
        name,
        json!({
            "device_class": device_class,
            "payload_on": "ON",
            "payload_off": "OFF",
            "value_template": format!("{{{{ value_json.{key} }}}}"),
        }),
    )
}

fn select(node: &str, topics: &Topics, options: &[String]) -> (String, Value) {
    component(
        node,
        "select",
        "profile",
        "Profile",
        json!({
            "command_topic": topics.command(node, "profile"),
            "options": options,
            "value_template": "{{ value_json.profile }}",
            "icon": "mdi:tune-variant",
        }),
    )
}

fn switch(node: &str, topics: &Topics, name: &str, icon: &str) -> (String, Value) {
    component(
        node,
        "switch",
        "pause",
        name,
        json!({
            "command_topic": topics.command(node, "pause"),
            "payload_on": "ON",
            "payload_off": "OFF",
            "state_on": "ON",
            "state_off": "OFF",
            "value_template": "{{ value_json.paused }}",
            "icon": icon,
        }),
    )
}

fn button(
    node: &str,
    topics: &Topics,
    key: &str,
    name: &str,
    device_class: Option<&str>,
    icon: &str,
) -> (String, Value) {
    let mut extra = json!({
        "command_topic": topics.command(node, key),
        "payload_press": "PRESS",
        "icon": icon,
    });
    if let (Some(d), Value::Object(m)) = (device_class, &mut extra) {
        m.insert("device_class".into(), d.into());
    }
    component(node, "button", key, name, extra)
}

/// The discovery payload of one miner's device.
pub fn miner(topics: &Topics, node: &str, m: &MinerStatus, config: &Config) -> Value {
    let info = m.info.as_ref();
    let mut device = Map::new();
    device.insert("ids".into(), json!([node]));
    device.insert("name".into(), m.name.clone().into());
    device.insert("mf".into(), "Bitaxe".into());
    device.insert("mdl".into(), model_name(m).into());
    if let Some(a) = info.and_then(|i| i.asic_model.as_deref()) {
        device.insert("mdl_id".into(), a.into());
    }
    if let Some(v) = info.and_then(|i| i.version.as_deref()) {
        device.insert("sw".into(), v.into());
    }
    if let Some(b) = info.and_then(|i| i.board_version.as_deref()) {
        device.insert("hw".into(), b.into());
    }
    if let Some(mac) = info.and_then(|i| i.mac_addr.as_deref()) {
        device.insert("cns".into(), json!([["mac", mac.to_ascii_lowercase()]]));
    }
    if m.url.starts_with("http://") || m.url.starts_with("https://") {
        device.insert("cu".into(), m.url.clone().into());
    }
    device.insert("via_device".into(), topics.fleet_node().into());

    let mut cmps = Map::new();
    for s in MINER_SENSORS {
        cmps.insert(format!("{node}_{}", s.key), sensor_component(node, s));
    }
    let states: Vec<&str> = STATES.iter().map(|s| state_name(*s)).collect();
    let parts = [
        component(
            node,
            "sensor",
            "state",
            "State",
            json!({
                "device_class": "enum",
                "options": states,
                "value_template": "{{ value_json.state }}",
                "icon": "mdi:state-machine",
            }),
        ),
        binary(node, "throttled", "Throttled", "problem"),
        binary(node, "stalled", "Stalled", "problem"),
        binary(node, "overheated", "Overheated", "heat"),
        select(node, topics, &profile_options(config)),
        switch(node, topics, "Mining paused", "mdi:pause"),
        button(
            node,
            topics,
            "restart",
            "Restart",
            Some("restart"),
            "mdi:restart",
        ),
    ];
    cmps.extend(parts);
    json!({
        "dev": device,
        "o": origin(),
        "avty": [
            {"t": topics.status()},
            {"t": topics.availability(node)},
        ],
        "avty_mode": "all",
        "stat_t": topics.state(node),
        "qos": 1,
        "cmps": cmps,
    })
}

/// The discovery payload of the fleet device: totals and the fleet-wide controls.
pub fn fleet(topics: &Topics, config: &Config) -> Value {
    let node = topics.fleet_node();
    let mut cmps = Map::new();
    for s in FLEET_SENSORS {
        cmps.insert(format!("{node}_{}", s.key), sensor_component(&node, s));
    }
    cmps.extend([
        component(
            &node,
            "sensor",
            "active_profile",
            "Active profile",
            json!({
                "value_template": "{{ value_json.profile }}",
                "icon": "mdi:calendar-clock",
            }),
        ),
        binary(&node, "emergency", "Emergency stop", "problem"),
        select(&node, topics, &profile_options(config)),
        switch(&node, topics, "Schedule paused", "mdi:calendar-remove"),
        button(
            &node,
            topics,
            "resume",
            "Back to plan",
            None,
            "mdi:calendar-refresh",
        ),
    ]);
    json!({
        "dev": {
            "ids": [node],
            "name": "Bitaxe fleet",
            "mf": "bitaxe-scheduler",
            "mdl": "Fleet scheduler",
            "sw": env!("CARGO_PKG_VERSION"),
        },
        "o": origin(),
        "avty": [{"t": topics.status()}],
        "stat_t": topics.state(&node),
        "qos": 1,
        "cmps": cmps,
    })
}

/// A state's name in the JSON state and the enum sensor's options.
pub fn state_name(s: MinerState) -> &'static str {
    match s {
        MinerState::Unknown => "not_polled",
        MinerState::Online => "online",
        MinerState::Offline => "offline",
        MinerState::Transitioning => "transitioning",
        MinerState::Throttled => "throttled",
        MinerState::Stalled => "stalled",
        MinerState::Overheated => "overheated",
        MinerState::Disabled => "disabled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitaxe_core::config::MqttConfig;

    fn status() -> MinerStatus {
        let mut m = MinerStatus::new("garage", "http://127.0.0.1:8080", true);
        let info = bitaxe_core::axeos::Info::from_json(json!({
            "macAddr": "AA:BB:CC:00:11:22",
            "deviceModel": "Gamma",
            "boardVersion": "601",
            "ASICModel": "BM1370",
            "version": "v2.14.1",
        }));
        m.info = Some(info);
        m
    }

    #[test]
    fn a_miner_device_has_the_classes_home_assistant_wants() {
        let t = Topics::new(&MqttConfig::default());
        let m = status();
        let node =
            crate::topics::miner_node(m.info.as_ref().and_then(|i| i.mac_addr.as_deref()), &m.name);
        let v = miner(&t, &node, &m, &Config::default());
        assert_eq!(v["dev"]["ids"][0], "bitaxe_aabbcc001122");
        assert_eq!(v["dev"]["mdl"], "Bitaxe Gamma 601");
        assert_eq!(v["dev"]["sw"], "v2.14.1");
        assert_eq!(v["dev"]["cns"][0][1], "aa:bb:cc:00:11:22");
        let c = &v["cmps"];
        let get = |k: &str| &c[format!("bitaxe_aabbcc001122_{k}")];
        assert_eq!(get("power")["device_class"], "power");
        assert_eq!(get("power")["unit_of_measurement"], "W");
        assert_eq!(get("energy")["state_class"], "total_increasing");
        assert_eq!(get("energy")["device_class"], "energy");
        assert_eq!(get("temp")["unit_of_measurement"], "°C");
        assert_eq!(get("voltage")["unit_of_measurement"], "V");
        assert_eq!(get("frequency")["device_class"], "frequency");
        assert_eq!(get("hashrate").get("device_class"), None);
        assert_eq!(get("hashrate")["unit_of_measurement"], "GH/s");
        assert_eq!(get("overheated")["device_class"], "heat");
        assert_eq!(get("throttled")["p"], "binary_sensor");
        assert_eq!(get("profile")["p"], "select");
        assert!(get("profile")["options"]
            .as_array()
            .expect("options")
            .contains(&json!("night")));
        assert_eq!(
            get("pause")["command_topic"],
            "bitaxe-scheduler/bitaxe_aabbcc001122/pause/set"
        );
        assert_eq!(
            get("hashrate")["default_entity_id"],
            "sensor.bitaxe_aabbcc001122_hashrate"
        );
        for (k, comp) in c.as_object().expect("cmps") {
            assert_eq!(comp["unique_id"], json!(k), "{k}");
        }
        // Small enough for the packet limit the session sets, with room to spare.
        assert!(v.to_string().len() < 16 * 1024, "{}", v.to_string().len());
    }

    #[test]
    fn the_state_sensor_lists_every_state() {
        assert_eq!(STATES.len(), 8);
        let names: std::collections::HashSet<_> = STATES.iter().map(|s| state_name(*s)).collect();
        assert_eq!(names.len(), STATES.len());
    }
}
