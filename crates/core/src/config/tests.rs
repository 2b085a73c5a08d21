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
