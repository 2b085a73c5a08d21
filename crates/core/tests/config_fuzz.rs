//! Fuzzing the config parser with proptest: arbitrary bytes, and mutations of a valid commented
//! config. Whatever the input, `Config::parse` returns a config that validates or an error that
//! names a line or a key; it never panics. A parsed config also survives a save (in place, over
//! the mutated text) and loads back equal.
//!
//! A short run by default; `BITAXE_LONG=1` runs each target for `BITAXE_FUZZ_SECS` seconds
//! (default 600: the two targets run side by side for 10 minutes). The corpus under
//! `fuzz/config/corpus` is replayed on every run: `ok-*` files must load, `err-*` files must be
//! refused with a line/key.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bitaxe_core::config::{Config, ConfigError};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/config/corpus")
}

/// The input's outcome, checked: `Ok(())` for a loaded config, `Err(())` for a clean refusal.
fn check(text: &str) -> Result<(), ()> {
    match Config::parse(text, Path::new("fuzz.json")) {
        Ok(c) => {
            assert!(
                c.validate().is_empty(),
                "parse let through {:?}",
                c.validate()
            );
            // Every duration the engine takes from the config is representable.
            let _ = (c.check_every(), c.step_delay(), c.first_retry_delay());
            Ok(())
        }
        Err(ConfigError::Syntax { line, column, .. }) => {
            assert!(line >= 1 && column <= text.len() + 1, "{line}:{column}");
            Err(())
        }
        Err(ConfigError::Invalid { key, line, .. }) => {
            assert!(!key.is_empty() || line.is_some(), "an error with no place");
            Err(())
        }
        Err(e @ ConfigError::Io { .. }) => panic!("parsing text never does I/O: {e}"),
    }
}

/// A loaded config saved over the text it came from loads back equal, still after a change.
fn round_trip(text: &str) {
    let Ok(mut c) = Config::parse(text, Path::new("fuzz.json")) else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("c.json");
    std::fs::write(&path, text).expect("write");
    c.max_temp = if c.max_temp > 60.0 { 55.5 } else { 66.0 };
    c.save(&path).expect("save");
    assert_eq!(Config::load(&path).expect("reload"), c);
}

fn seed() -> String {
    std::fs::read_to_string(corpus_dir().join("ok-python-seed.json")).expect("seed")
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Number { nth: usize, text: String },
    Duplicate { at: usize, len: usize },
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "//",
            "/*",
            "*/",
            "\n",
            "null",
            "true",
            "-",
            "1e400",
            "1e300",
            "4294967296",
            "4294967295",
            "-1",
            "0",
            "0.0001",
            "75",
            "\"max_temp\": ",
            "\"miners\": ",
            "\"ip\": \"127.0.0.1\"",
            "\u{feff}",
            "\\",
            "\"max_temprature\": 1,",
            "\"name\": \"x\","
        ])
        .prop_map(str::to_string),
        ".{0,6}",
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), token()).prop_map(|(at, text)| Mutation::Insert { at, text }),
        (
            any::<usize>(),
            prop_oneof![
                prop::sample::select(vec![
                    "0",
                    "-0",
                    "1e300",
                    "-1e300",
                    "4294967295",
                    "18446744073709551616",
                    "0.05",
                    "74.99",
                    "75",
                    "105",
                    "1301",
                    "65535",
                    "-5",
                    "3.5",
                    "NaN",
                    "1e-320"
                ])
                .prop_map(str::to_string),
                any::<f64>().prop_map(|f| f.to_string()),
                any::<i64>().prop_map(|i| i.to_string()),
            ]
        )
            .prop_map(|(nth, text)| Mutation::Number { nth, text }),
        (any::<usize>(), 1..80usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
    ]
}

/// A char boundary at `at` (wrapped into the text).
fn boundary(text: &str, at: usize) -> usize {
    floor(text, at % (text.len() + 1))
}

/// The char boundary at or before `at`, at most the end of the text.
fn floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &mut String, m: &Mutation) {
    match m {
        Mutation::Delete { at, len } => {
            let a = boundary(text, *at);
            let b = floor(text, a + len);
            if b > a {
                text.replace_range(a..b, "");
            }
        }
        Mutation::Insert { at, text: t } => {
            let a = boundary(text, *at);
            text.insert_str(a, t);
        }
        Mutation::Number { nth, text: t } => {
            let numbers: Vec<(usize, usize)> = number_spans(text);
            if let Some(&(a, b)) = numbers.get(nth % numbers.len().max(1)) {
                text.replace_range(a..b, t);
            }
        }
        Mutation::Duplicate { at, len } => {
            let a = boundary(text, *at);
            let b = floor(text, a + len);
            let piece = text[a..b].to_string();
            text.insert_str(b, &piece);
        }
    }
}

/// Byte spans of the number literals outside strings.
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
        } else if b.is_ascii_digit() || b == b'-' {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
            {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

fn long() -> bool {
    std::env::var("BITAXE_LONG").is_ok_and(|v| v == "1")
}

/// Run `test` on `strategy`: `cases` cases, or batches until the long budget is spent.
fn fuzz<S: Strategy>(name: &str, strategy: S, cases: u32, test: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let budget = if long() {
        Duration::from_secs(
            std::env::var("BITAXE_FUZZ_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(600),
        )
    } else {
        Duration::ZERO
    };
    let start = Instant::now();
    let mut total = 0u64;
    loop {
        let mut runner = TestRunner::new(RunnerConfig {
            cases,
            failure_persistence: None,
            ..RunnerConfig::default()
        });
        let result = runner.run(&strategy, |v| {
            test(v);
            Ok(())
        });
        if let Err(e) = result {
            panic!("{name}: {e}");
        }
        total += u64::from(cases);
        if start.elapsed() >= budget {
            break;
        }
    }
    if long() {
        eprintln!(
            "{name}: {total} cases in {:.0} s, no panic",
            start.elapsed().as_secs_f64()
        );
    }
}

#[test]
fn arbitrary_bytes_never_panic_the_parser() {
    fuzz(
        "bytes",
        prop::collection::vec(any::<u8>(), 0..512),
        512,
        |bytes| {
            let _ = check(&String::from_utf8_lossy(&bytes));
        },
    );
}

#[test]
fn mutations_of_a_commented_config_never_panic_and_round_trip() {
    let seed = seed();
    assert!(check(&seed).is_ok());
    let loaded = AtomicU64::new(0);
    fuzz(
        "mutations",
        prop::collection::vec(mutation(), 1..6),
        256,
        |mutations| {
            let mut text = seed.clone();
            for m in &mutations {
                apply(&mut text, m);
            }
            if check(&text).is_ok() {
                loaded.fetch_add(1, Ordering::Relaxed);
                round_trip(&text);
            }
        },
    );
    let loaded = loaded.load(Ordering::Relaxed);
    if long() {
        eprintln!("mutations: {loaded} mutated configs loaded and round-tripped through a save");
    }
    assert!(loaded > 0, "some mutations must still load");
}

#[test]
fn the_corpus_replays_with_the_expected_outcomes() {
    let mut seen = 0;
    for entry in std::fs::read_dir(corpus_dir()).expect("corpus") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
        let outcome = check(&text);
        if name.starts_with("ok-") {
            assert!(outcome.is_ok(), "{name} must load");
            round_trip(&text);
        } else {
            assert!(outcome.is_err(), "{name} must be refused");
        }
        seen += 1;
    }
    assert!(seen >= 20, "corpus has {seen} files");
}
