use super::*;

/// A seed user's file, comments and all.
pub(crate) const SEED: &str = r#"{
    // Bitaxe fleet
    "miners": [
        {"name": "bitaxe-1", "ip": "http://127.0.0.1:8081", "enabled": true,
         "day_settings": null, "night_settings": {"voltage": 1180}},
        /* the spare one */
        {"name": "bitaxe-2", "ip": "http://127.0.0.1:8082", "enabled": false,
         "day_settings": null, "night_settings": null}
    ],
    "global_day_settings": {"start_time": "07:30", "end_time": "20:00", "voltage": 1150, "frequency": 450},
    "global_night_settings": {"start_time": "20:00", "end_time": "07:30", "voltage": 1250, "frequency": 575},
    "max_voltage": 1300,
    "max_frequency": 600,
    "max_temp": 70,
    "max_power": 15, // W
    "check_interval": 60,
    "temp_check_interval": 30,
    "log_stats_interval": 300,
    "smooth_transition": true,
    "transition_steps": 5,
    "transition_delay": 10,
    "parallel_operations": true,
    "max_workers": 5,
    "retry_attempts": 3,
    "retry_delay": 5
}"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("multi_scheduler_config.json"))
}

#[test]
fn a_seed_file_loads_unchanged_with_its_comments() {
    let c = parse(SEED).expect("seed loads");
    assert_eq!(c.miners.len(), 2);
    assert_eq!(
        c.miners[0].night_settings,
        Some(ProfileOverride {
            voltage: Some(1180),
            frequency: None
        })
    );
    assert!(!c.miners[1].enabled);
    assert_eq!(c.max_power, 15.0, "explicit seed values are honoured");
    assert_eq!(c.global_night_settings.frequency, 575.0);
    // Keys the seed did not have take defaults.
    assert_eq!(
        c.safe_settings,
        SafeSettings {
            voltage: 1100,
            frequency: 400.0
        }
    );
    assert_eq!(c.offline_after, 3);
}

#[test]
fn missing_keys_at_any_depth_are_defaulted() {
    let c = parse(r#"{"global_night_settings": {"voltage": 1180}}"#).expect("loads");
    assert_eq!(c.global_night_settings.voltage, 1180);
    assert_eq!(c.global_night_settings.start_time, ClockTime::hm(20, 0));
    assert_eq!(c.check_interval, 60.0);
    assert!(parse("{}").is_ok());
}

#[test]
fn syntax_errors_name_line_and_column() {
    let text = "{\n  \"max_temp\": 70,\n  \"max_power\": 15,,\n}";
    let e = parse(text).expect_err("syntax");
    match &e {
        ConfigError::Syntax { line, .. } => assert_eq!(*line, 3),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("line 3"), "{e}");
}

#[test]
fn type_errors_name_the_line_and_key() {
    let text = "{\n  \"miners\": [\n    {\"name\": \"a\", \"ip\": \"127.0.0.1\"},\n    {\"name\": \"b\",\n     \"ip\": \"127.0.0.2\",\n     \"enabled\": \"yes\"}\n  ]\n}";
    let e = parse(text).expect_err("type");
    let s = e.to_string();
    assert!(s.contains("line 6"), "{s}");
    assert!(s.contains("miners[1].enabled"), "{s}");
}

#[test]
fn bad_times_say_the_format() {
    let text = "{\n\"global_day_settings\": {\"start_time\": \"7.30\"}\n}";
    let s = parse(text).expect_err("time").to_string();
    assert!(
        s.contains("HH:MM") && s.contains("global_day_settings.start_time") && s.contains("line 2"),
        "{s}"
    );
}

#[test]
fn profiles_above_the_limits_are_config_errors_with_the_limit() {
    let text =
        "{\n \"max_voltage\": 1400,\n \"global_night_settings\": {\n   \"voltage\": 1350\n }\n}";
    let s = parse(text).expect_err("over hard cap").to_string();
    assert!(
        s.contains("line 4")
            && s.contains("global_night_settings.voltage")
            && s.contains("1300 mV"),
        "{s}"
    );
    let text = "{\n \"miners\": [{\"name\": \"a\", \"ip\": \"127.0.0.1\",\n \"day_settings\": {\"frequency\": 700}}]\n}";
    let s = parse(text).expect_err("freq").to_string();
    assert!(
        s.contains("miners[0].day_settings.frequency")
            && s.contains("600 MHz")
            && s.contains("line 3"),
        "{s}"
    );
}

#[test]
fn duplicate_names_and_bad_addresses() {
    let dup = r#"{"miners": [{"name": "a", "ip": "127.0.0.1"}, {"name": "a", "ip": "127.0.0.2"}]}"#;
    assert!(parse(dup)
        .expect_err("dup")
        .to_string()
        .contains("miners[1].name"));
    let scheme = r#"{"miners": [{"name": "a", "ip": "https://127.0.0.1"}]}"#;
    assert!(parse(scheme)
        .expect_err("scheme")
        .to_string()
        .contains("miners[0].ip"));
    let tz = r#"{"timezone": "Mars/Olympus"}"#;
    assert!(parse(tz).expect_err("tz").to_string().contains("IANA"));
}

#[test]
fn saves_are_atomic_and_keep_a_backup() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    std::fs::write(&path, SEED).expect("write seed");
    let mut c = Config::load(&path).expect("load");
    c.max_temp = 65.0;
    c.save(&path).expect("save");
    assert_eq!(Config::load(&path).expect("reload").max_temp, 65.0);
    assert_eq!(
        std::fs::read_to_string(backup_path(&path)).expect("backup"),
        SEED
    );
    // An invalid config is refused and the file is untouched.
    let before = std::fs::read_to_string(&path).expect("read");
    c.global_day_settings.voltage = 2000;
    assert!(c.save(&path).is_err());
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "only the file and its backup: {leftovers:?}"
    );
}

#[test]
fn the_default_file_is_written_when_missing_and_is_realistic() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("c.json");
    let (c, created) = Config::load_or_create(&path).expect("create");
    assert!(created && path.exists());
    assert!(c.miners.is_empty());
    // A stock Gamma 601 draws about 19-22 W: the default power limit must not throttle it.
    assert!(c.max_power >= 25.0);
    let (_, created) = Config::load_or_create(&path).expect("load");
    assert!(!created);
}

#[test]
fn saved_files_write_whole_numbers_plainly() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("c.json");
    Config::default().save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("\"check_interval\": 60,"), "{text}");
    assert!(text.contains("\"frequency\": 425"), "{text}");
    assert_eq!(Config::load(&path).expect("reload"), Config::default());
}

/// In the style of the original Python script's `multi_scheduler_config.json`: two-space JSON,
/// `//` comments above and beside the keys.
const PY_SEED: &str = r#"{
  // Miners to schedule. Each one may override the global profiles.
  "miners": [
    {
      "name": "bitaxe-1",
      "ip": "http://127.0.0.1:8081",
      "enabled": true,
      "day_settings": null,
      "night_settings": null
    },
    // the one on the shelf
    {
      "name": "bitaxe-2",
      "ip": "http://127.0.0.1:8082",
      "enabled": true,
      "day_settings": null,
      "night_settings": {
        "voltage": 1180 // runs hot above this
      }
    }
  ],
  // Day: quiet and cool
  "global_day_settings": {
    "start_time": "07:30",
    "end_time": "20:00",
    "voltage": 1150,
    "frequency": 450
  },
  // Night: cheap power
  "global_night_settings": {
    "start_time": "20:00",
    "end_time": "07:30",
    "voltage": 1250,
    "frequency": 575
  },
  "max_voltage": 1300,
  "max_frequency": 600,
  "max_temp": 70, // °C
  "max_power": 25,
  "check_interval": 60,
  "temp_check_interval": 30,
  "log_stats_interval": 300,
  "smooth_transition": true,
  "transition_steps": 5,
  "transition_delay": 10,
  "parallel_operations": true,
  "max_workers": 5,
  "retry_attempts": 3,
  "retry_delay": 5
}
"#;

fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let i = l
                .match_indices("//")
                .map(|(i, _)| i)
                .find(|&i| i == 0 || l.as_bytes()[i - 1].is_ascii_whitespace())?;
            Some(l[i..].to_string())
        })
        .collect()
}

/// The keys of the text, in order, as written (each `"key":` once per line).
fn key_order(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix('"')?;
            let end = rest.find("\":")?;
            Some(rest[..end].to_string())
        })
        .collect()
}

fn seeded(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("multi_scheduler_config.json");
    std::fs::write(&path, text).expect("write seed");
    (dir, path)
}

#[test]
fn saves_edit_the_users_text_in_place_keeping_comments_and_order() {
    let (_dir, path) = seeded(PY_SEED);
    let mut c = Config::load(&path).expect("load");
    c.max_temp = 65.5;
    c.miners[0].enabled = false;
    c.check_interval = 30.0;
    c.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(comments(&text), comments(PY_SEED), "{text}");
    assert_eq!(key_order(&text), key_order(PY_SEED), "{text}");
    assert!(text.contains("\"max_temp\": 65.5, // °C"), "{text}");
    assert!(text.contains("\"check_interval\": 30,"), "{text}");
    // Only the changed lines differ.
    let changed: Vec<_> = PY_SEED
        .lines()
        .zip(text.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 3, "{changed:?}");
    assert_eq!(Config::load(&path).expect("reload"), c);
    assert_eq!(
        std::fs::read_to_string(backup_path(&path)).expect("bak"),
        PY_SEED
    );
}

#[test]
fn new_keys_and_miners_go_last_and_removed_miners_leave_the_others_alone() {
    let (_dir, path) = seeded(PY_SEED);
    let mut c = Config::load(&path).expect("load");
    c.overheat_cooloff_minutes = 45.0;
    c.safe_settings.frequency = 350.0;
    c.miners[1].night_settings = Some(ProfileOverride {
        voltage: Some(1180),
        frequency: Some(500.0),
    });
    c.miners.push(MinerConfig {
        profiles: Default::default(),
        name: "bitaxe-3".into(),
        ip: "http://127.0.0.1:8083".into(),
        enabled: true,
        day_settings: None,
        night_settings: None,
        limits: None,
    });
    c.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(comments(&text), comments(PY_SEED), "{text}");
    let keys = key_order(&text);
    let seed_keys = key_order(PY_SEED);
    // The seed's keys keep their order; the new ones are where they belong, at their ends.
    let kept: Vec<_> = keys.iter().filter(|k| seed_keys.contains(k)).collect();
    assert!(kept.len() >= seed_keys.len(), "{text}");
    let at = |k: &str| keys.iter().position(|x| x == k).expect(k);
    assert_eq!(
        keys.last().map(String::as_str),
        Some("overheat_cooloff_minutes")
    );
    assert!(at("safe_settings") > at("retry_delay"), "{text}");
    assert!(
        text.find("bitaxe-3").expect("new miner") > text.find("bitaxe-2").expect("old"),
        "{text}"
    );
    assert!(
        text.contains("\"voltage\": 1180, // runs hot above this")
            || text.contains("\"voltage\": 1180 // runs hot above this"),
        "{text}"
    );
    // Defaults the file leaves out stay out: only what changed was written.
    assert!(!text.contains("history_retention_days"), "{text}");
    assert_eq!(Config::load(&path).expect("reload"), c);

    // Remove the first miner: the second keeps its comment and its override.
    let mut c = Config::load(&path).expect("load");
    c.miners.remove(0);
    c.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("bitaxe-1"), "{text}");
    assert!(text.contains("// the one on the shelf"), "{text}");
    assert!(text.contains("// runs hot above this"), "{text}");
    assert!(text.contains("// Night: cheap power"), "{text}");
    assert_eq!(Config::load(&path).expect("reload"), c);
}

#[cfg(unix)]
#[test]
fn saves_write_through_a_symlink_and_keep_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, real) = seeded(PY_SEED);
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("multi_scheduler_config.json", &link).expect("symlink");
    let mut c = Config::load(&link).expect("load");
    c.max_power = 20.0;
    c.save(&link).expect("save");
    assert!(std::fs::symlink_metadata(&link)
        .expect("meta")
        .file_type()
        .is_symlink());
    assert_eq!(Config::load(&real).expect("real").max_power, 20.0);
    let mode = std::fs::metadata(&real).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    // A group-readable file stays group-readable.
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    c.max_power = 21.0;
    c.save(&link).expect("save");
    let mode = std::fs::metadata(&real).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn a_file_the_app_wrote_afresh_is_in_the_seed_format() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("c.json");
    let mut c = Config::default();
    c.miners.push(MinerConfig {
        profiles: Default::default(),
        name: "a".into(),
        ip: "http://127.0.0.1:8081".into(),
        enabled: true,
        day_settings: None,
        night_settings: None,
        limits: None,
    });
    c.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    let keys = key_order(&text);
    assert_eq!(&keys[..3], ["miners", "name", "ip"], "{text}");
    assert!(text.contains("\n  \"max_temp\": 68,\n"), "{text}");
    assert!(text.contains("\"day_settings\": null"), "{text}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("plain JSON");
    assert!(value["check_interval"].is_u64());
    assert_eq!(Config::load(&path).expect("reload"), c);
}

#[test]
fn a_byte_order_mark_is_accepted_and_kept() {
    let (_dir, path) = seeded(&format!("\u{feff}{PY_SEED}"));
    let mut c = Config::load(&path).expect("BOM accepted");
    c.max_temp = 66.0;
    c.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(comments(&text), comments(PY_SEED));
}

#[test]
fn absurd_numbers_are_config_errors_naming_key_and_line() {
    for (key, value) in [
        ("transition_delay", "1e300"),
        ("transition_steps", "4294967295"),
        ("max_workers", "0"),
        ("retry_attempts", "1000"),
        ("check_interval", "0.001"),
        ("max_power", "250"),
        ("history_retention_days", "0"),
    ] {
        let text = format!("{{\n  \"max_temp\": 60,\n  \"{key}\": {value}\n}}");
        let e = parse(&text).expect_err(key);
        let s = e.to_string();
        assert!(s.contains(key) && s.contains("line 3"), "{s}");
        assert_eq!(e.code(), "config_invalid");
    }
}

#[test]
fn max_temp_at_the_firmwares_75_is_an_error_that_says_why() {
    let e = parse("{\n\"max_temp\": 75\n}").expect_err("75");
    let s = e.to_string();
    assert!(
        s.contains("max_temp") && s.contains("line 2") && s.contains("firmware"),
        "{s}"
    );
    assert!(parse("{\"max_temp\": 74.5}").is_ok());
    assert!(parse("{\"max_vr_temp\": 105}").is_err());
}

#[test]
fn unknown_keys_are_named_with_a_suggestion_at_any_depth() {
    for (text, key, hint, line) in [
        (
            "{\n  \"max_temprature\": 65\n}",
            "max_temprature",
            "max_temp",
            2,
        ),
        (
            "{\n\"miners\": [\n{\"name\": \"a\", \"ip\": \"127.0.0.1\",\n \"enabeld\": false}]\n}",
            "miners[0].enabeld",
            "enabled",
            4,
        ),
        (
            "{\n\"global_day_settings\": {\n\"frequncy\": 400}\n}",
            "global_day_settings.frequncy",
            "frequency",
            3,
        ),
        (
            "{\n\"safe_settings\": {\"voltage\": 1100,\n\"frequenzy\": 400}\n}",
            "safe_settings.frequenzy",
            "frequency",
            3,
        ),
        (
            "{\"miners\": [{\"name\": \"a\", \"ip\": \"127.0.0.1\",\n\"limits\": {\n\"max_volt\": 1200}}]}",
            "miners[0].limits.max_volt",
            "max_voltage",
            3,
        ),
    ] {
        let s = parse(text).expect_err(key).to_string();
        assert!(
            s.contains(&format!("{key}: unknown key, did you mean {hint}?"))
                && s.contains(&format!("line {line}")),
            "{s}"
        );
    }
    // Nothing close: the message lists what is allowed there.
    let s = parse("{\"miners\": [{\"name\": \"a\", \"ip\": \"127.0.0.1\", \"colour\": 1}]}")
        .expect_err("colour")
        .to_string();
    assert!(s.contains("known here: name, ip"), "{s}");
    // The seed's keys alone, and the seed file, still load.
    assert!(parse(PY_SEED).is_ok());
    assert!(parse(SEED).is_ok());
}

#[test]
fn two_miners_on_one_device_are_an_error_naming_both() {
    let text = "{\"miners\": [\n{\"name\": \"a\", \"ip\": \"127.0.0.1\"},\n{\"name\": \"b\", \"ip\": \"http://127.0.0.1:80/\"}]}";
    let s = parse(text).expect_err("dup").to_string();
    assert!(
        s.contains("\"a\"")
            && s.contains("\"b\"")
            && s.contains("miners[1].ip")
            && s.contains("line 3"),
        "{s}"
    );
    let ok = "{\"miners\": [{\"name\": \"a\", \"ip\": \"127.0.0.1:8081\"}, {\"name\": \"b\", \"ip\": \"127.0.0.1:8082\"}]}";
    assert!(parse(ok).is_ok());
}

#[test]
fn per_miner_limits_have_ranges() {
    let text = "{\"miners\": [{\"name\": \"a\", \"ip\": \"127.0.0.1\",\n\"limits\": {\"max_voltage\": 99999}}]}";
    let s = parse(text).expect_err("limit").to_string();
    assert!(
        s.contains("miners[0].limits.max_voltage") && s.contains("line 2"),
        "{s}"
    );
    let crossed = "{\"miners\": [{\"name\": \"a\", \"ip\": \"127.0.0.1\", \"limits\": {\"min_frequency\": 500, \"max_frequency\": 400}}]}";
    assert!(parse(crossed).is_err());
}

#[test]
fn a_key_written_twice_is_an_error_naming_both_lines() {
    let text = "{\n  \"max_temp\": 60,\n  \"max_power\": 20,\n  \"max_temp\": 70\n}";
    let s = parse(text).expect_err("twice").to_string();
    assert!(
        s.contains("max_temp") && s.contains("line 4") && s.contains("lines 2 and 4"),
        "{s}"
    );
}

mod edits {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Edit {
        Toggle(usize),
        Remove(usize),
        Add(u16),
        NightVoltage(usize, Option<u32>),
        Limits(usize, Option<f64>),
        MaxTemp(f64),
        Steps(u32),
        Timezone(bool),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            any::<usize>().prop_map(Edit::Toggle),
            any::<usize>().prop_map(Edit::Remove),
            (9000u16..9999).prop_map(Edit::Add),
            (any::<usize>(), prop::option::of(1000u32..1250))
                .prop_map(|(i, v)| Edit::NightVoltage(i, v)),
            (any::<usize>(), prop::option::of(300.0f64..600.0))
                .prop_map(|(i, f)| Edit::Limits(i, f)),
            (40.0f64..74.0).prop_map(Edit::MaxTemp),
            (1u32..=50).prop_map(Edit::Steps),
            any::<bool>().prop_map(Edit::Timezone),
        ]
    }

    fn apply(c: &mut Config, e: &Edit) {
        let n = c.miners.len();
        match e {
            Edit::Toggle(i) if n > 0 => c.miners[i % n].enabled = !c.miners[i % n].enabled,
            Edit::Remove(i) if n > 0 => {
                c.miners.remove(i % n);
            }
            Edit::Add(port) => {
                let name = format!("m{port}");
                if c.miner(&name).is_none() {
                    c.miners.push(MinerConfig {
                        profiles: Default::default(),
                        name,
                        ip: format!("http://127.0.0.1:{port}"),
                        enabled: true,
                        day_settings: None,
                        night_settings: None,
                        limits: None,
                    });
                }
            }
            Edit::NightVoltage(i, v) if n > 0 => {
                c.miners[i % n].night_settings = v.map(|v| ProfileOverride {
                    voltage: Some(v),
                    frequency: None,
                })
            }
            Edit::Limits(i, f) if n > 0 => {
                c.miners[i % n].limits = f.map(|f| MinerLimits {
                    max_frequency: Some(f.round()),
                    ..MinerLimits::default()
                })
            }
            Edit::MaxTemp(t) => c.max_temp = (t * 10.0).round() / 10.0,
            Edit::Steps(s) => c.transition_steps = *s,
            Edit::Timezone(on) => {
                c.timezone = if *on {
                    "Europe/Berlin".into()
                } else {
                    String::new()
                }
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any sequence of edits, each saved: the file loads back as the config, and comments
        /// that belong to no removed miner are all still there.
        #[test]
        fn saved_edits_load_back_and_keep_the_comments(edits in prop::collection::vec(edit(), 1..8)) {
            let (_dir, path) = seeded(PY_SEED);
            for e in &edits {
                let mut c = Config::load(&path).expect("load");
                apply(&mut c, e);
                c.save(&path).expect("save");
                prop_assert_eq!(Config::load(&path).expect("reload"), c);
            }
            let text = std::fs::read_to_string(&path).expect("read");
            for kept in ["// Miners to schedule.", "// Day: quiet and cool", "// Night: cheap power", "// °C"] {
                prop_assert!(text.contains(kept), "{} lost:\n{}", kept, text);
            }
        }
    }
}
