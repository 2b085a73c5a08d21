//! Fuzzing the `/api/system/info` parser ([`Info::parse`]): arbitrary bytes, byte-level mutations of
//! the seed corpus in `fuzz/info/` (the real captures and nasty cases), and structural mutations
//! that put arbitrary JSON under the keys the parser reads. The property: no panic, and either a
//! value whose fields are sane or a typed [`ParseError`].
//!
//! A short run (about 3 s) is part of the default tests. `BITAXE_LONG=1` runs for 10 minutes;
//! `BITAXE_FUZZ_SECS=N` sets any other duration. Both print a summary to stderr.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axeos::{Info, ParseError};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/info")
}

/// Every seed, sorted by name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir();
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("read seed");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    seeds.sort();
    seeds
}

/// The property every input must satisfy.
fn check(body: &[u8]) -> Result<(), TestCaseError> {
    match Info::parse(body) {
        Ok(info) => {
            prop_assert!(info.raw.is_object());
            let numbers = [
                info.power,
                info.input_voltage,
                info.current,
                info.temp,
                info.temp2,
                info.vr_temp,
                info.hash_rate,
                info.hash_rate_1m,
                info.expected_hashrate,
                info.error_percentage,
                info.core_voltage_actual,
                info.frequency,
                info.actual_frequency,
                info.fan_percent,
                info.fan_rpm,
                info.manual_fan_percent,
                info.best_diff,
                info.best_session_diff,
            ];
            for n in numbers.into_iter().flatten() {
                prop_assert!(n.is_finite(), "non-finite number in {info:?}");
            }
            for t in [info.temp, info.temp2, info.vr_temp].into_iter().flatten() {
                prop_assert!(t > 0.0, "a no-reading temperature passed as {t}");
            }
            if let Some(mac) = &info.mac_addr {
                prop_assert_eq!(mac.len(), 17);
                prop_assert_eq!(mac.to_ascii_uppercase(), mac.clone());
            }
            if let Some(e) = info.efficiency_j_per_th() {
                prop_assert!(e.is_finite() || info.hash_rate.is_some_and(|h| h < 1e-300));
            }
            // What the engine stores and sends to the UI must serialise.
            prop_assert!(serde_json::to_string(&info).is_ok());
        }
        Err(ParseError::InvalidJson(detail)) => prop_assert!(!detail.is_empty()),
        Err(ParseError::NotAnObject(kind)) => prop_assert!(!kind.is_empty()),
    }
    Ok(())
}

/// One byte-level edit.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Truncate(Index),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Duplicate(Index, usize, Index),
    Token(Index, &'static str),
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "-1",
    "0",
    "1e309",
    "-1e309",
    "1e-400",
    "18446744073709551616",
    "\"\\ud800\"",
    "\\",
    "\"2.03 G\"",
    "\"1e999 T\"",
    "\"-.G\"",
    "\u{feff}",
    "\u{0}",
    "\"\u{202e}\"",
    "NaN",
    "Infinity",
    "[[[[[[[[",
    "{\"a\":{\"a\":",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1..=255u8).prop_map(|(i, x)| Edit::Flip(i, x)),
        any::<Index>().prop_map(Edit::Truncate),
        (
            any::<Index>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), 1..64usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), 1..128usize, any::<Index>())
            .prop_map(|(i, n, j)| Edit::Duplicate(i, n, j)),
        (any::<Index>(), proptest::sample::select(TOKENS)).prop_map(|(i, t)| Edit::Token(i, t)),
    ]
}

fn apply(bytes: &mut Vec<u8>, e: &Edit) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
    match e {
        Edit::Flip(i, x) if !bytes.is_empty() => {
            let k = i.index(bytes.len());
            bytes[k] ^= x;
        }
        Edit::Flip(..) => {}
        Edit::Truncate(i) => bytes.truncate(at(i, bytes.len())),
        Edit::Insert(i, b) => {
            let k = at(i, bytes.len());
            bytes.splice(k..k, b.iter().copied());
        }
        Edit::Delete(i, n) => {
            let k = at(i, bytes.len());
            let end = (k + n).min(bytes.len());
            bytes.drain(k..end);
        }
        Edit::Duplicate(i, n, j) => {
            let k = at(i, bytes.len());
            let end = (k + n).min(bytes.len());
            let piece: Vec<u8> = bytes[k..end].to_vec();
            let to = at(j, bytes.len());
            bytes.splice(to..to, piece);
        }
        Edit::Token(i, t) => {
            let k = at(i, bytes.len());
            bytes.splice(k..k, t.bytes());
        }
    }
}

/// A seed with a few byte edits.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(seeds),
        proptest::collection::vec(edit(), 1..8),
    )
        .prop_map(|(mut bytes, edits)| {
            for e in &edits {
                apply(&mut bytes, e);
            }
            bytes
        })
}

/// The keys [`Info::from_json`] reads.
const KEYS: &[&str] = &[
    "power",
    "voltage",
    "current",
    "temp",
    "temp2",
    "vrTemp",
    "vr_temp",
    "hashRate",
    "hashrate",
    "hashRate_1m",
    "expectedHashrate",
    "errorPercentage",
    "coreVoltage",
    "coreVoltageActual",
    "frequency",
    "actualFrequency",
    "fanspeed",
    "fanrpm",
    "fanSpeedRpm",
    "fanSpeed",
    "autofanspeed",
    "manualFanSpeed",
    "sharesAccepted",
    "sharesRejected",
    "bestDiff",
    "bestSessionDiff",
    "uptimeSeconds",
    "overheat_mode",
    "overheat",
    "miningPaused",
    "version",
    "ASICModel",
    "asicModel",
    "deviceModel",
    "boardVersion",
    "macAddr",
    "hostname",
    "smallCoreCount",
    "asicCount",
    "rotation",
    "flipscreen",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        "[-+0-9.eE]{0,12} ?[kKMGTPE]?".prop_map(Value::String),
        "[0-9A-Fa-f:-]{0,20}".prop_map(Value::String),
        ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A real capture with arbitrary JSON under some of the keys the parser reads.
fn restructured(objects: Vec<Map<String, Value>>) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(objects),
        proptest::collection::vec(
            (
                proptest::sample::select(KEYS),
                proptest::option::of(arb_json()),
            ),
            1..10,
        ),
    )
        .prop_map(|(mut o, changes)| {
            for (k, v) in changes {
                match v {
                    Some(v) => o.insert(k.to_string(), v),
                    None => o.remove(k),
                };
            }
            serde_json::to_vec(&Value::Object(o)).unwrap_or_default()
        })
}

/// One batch of `config.cases` cases of `strategy`, on a runner forked from `master` (a runner
/// counts its successes, so each batch needs a fresh one; the forked RNG keeps inputs new).
fn batch<S: Strategy<Value = Vec<u8>>>(
    master: &mut TestRunner,
    config: &Config,
    name: &str,
    strategy: &S,
) {
    let mut runner = TestRunner::new_with_rng(config.clone(), master.new_rng());
    if let Err(e) = runner.run(strategy, |bytes| check(&bytes)) {
        panic!("{name}: {e}");
    }
}

fn budget() -> Duration {
    if let Some(secs) = std::env::var("BITAXE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        return Duration::from_secs(secs);
    }
    if std::env::var("BITAXE_LONG").is_ok_and(|v| v == "1") {
        Duration::from_secs(600)
    } else {
        Duration::from_secs(3)
    }
}

#[test]
fn info_parser_survives_arbitrary_and_mutated_input() {
    let seeds: Vec<Vec<u8>> = corpus().into_iter().map(|(_, b)| b).collect();
    let objects: Vec<Map<String, Value>> = seeds
        .iter()
        .filter_map(|b| serde_json::from_slice::<Value>(b).ok())
        .filter_map(|v| v.as_object().cloned())
        .filter(|o| o.contains_key("version"))
        .collect();
    assert!(objects.len() >= 3, "the real captures are in the corpus");
    let arbitrary = proptest::collection::vec(any::<u8>(), 0..2048);
    let mutated = mutated(seeds);
    let restructured = restructured(objects);
    const CASES: u32 = 64;
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut master = TestRunner::new(config.clone());
    let budget = budget();
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < budget {
        batch(&mut master, &config, "arbitrary bytes", &arbitrary);
        batch(&mut master, &config, "mutated seeds", &mutated);
        batch(&mut master, &config, "restructured captures", &restructured);
        rounds += 1;
    }
    eprintln!(
        "fuzz_info: {} cases ({} per strategy) in {:.1} s, no panic",
        rounds * 3 * u64::from(CASES),
        rounds * u64::from(CASES),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn the_seed_corpus_replays() {
    let seeds = corpus();
    assert!(seeds.len() >= 20, "{} seeds", seeds.len());
    for (name, bytes) in &seeds {
        if let Err(e) = check(bytes) {
            panic!("{name}: {e}");
        }
    }
    let parsed = |name: &str| {
        let (_, bytes) = seeds
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        Info::parse(bytes)
    };
    for capture in [
        "info-v2.0.7-48-ge561f60-hex302.json",
        "info-v2.10.1-gamma601.json",
        "info-v2.12.2-gamma601.json",
        "bom.json",
    ] {
        let info = parsed(capture).unwrap_or_else(|e| panic!("{capture}: {e}"));
        assert!(info.version.is_some(), "{capture}");
    }
    assert_eq!(
        parsed("info-v2.12.2-gamma601.json").map(|i| i.mac_addr),
        Ok(Some("10:F5:12:33:BB:F0".to_string()))
    );
    assert_eq!(
        parsed("array.json").err(),
        Some(ParseError::NotAnObject("an array"))
    );
    for bad in [
        "empty.bin",
        "html-oom.bin",
        "deep-array.json",
        "truncated-v2.10.json",
    ] {
        assert!(
            matches!(parsed(bad), Err(ParseError::InvalidJson(_))),
            "{bad}"
        );
    }
    let weird = parsed("weird-difficulties.json").expect("object");
    assert_eq!(weird.best_diff, None, "1e999 G is no difficulty");
    let swapped = parsed("types-swapped.json").expect("object");
    assert_eq!(swapped.power, Some(18.5));
    assert_eq!(swapped.rotation, Some(90));
    assert_eq!(swapped.mac_addr, None);
}

/// The shared fixtures are in the corpus, byte for byte.
#[test]
fn the_corpus_holds_the_real_captures() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().expect("name");
            let copy = std::fs::read(corpus_dir().join(name)).expect("copy in fuzz/info");
            assert_eq!(copy, std::fs::read(&path).expect("fixture"), "{name:?}");
        }
    }
}
