//! The UI's TypeScript types (`ui/src/generated/`) are generated from the Rust types with ts-rs
//! (core's `ts` feature, turned on for this crate's tests). This test fails when the committed
//! files differ from what the Rust types say; to rewrite them:
//! `BITAXE_UPDATE_TS=1 cargo test -p bitaxe-desktop --lib typescript`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::TS;

use crate::error::CmdError;
use crate::models::{
    ChartOut, CostSummary, DraftProblem, LoggedEvent, Overview, Prefs, PriceStrip, ProfileRow,
    TestFetch, WeekPreview,
};
use crate::state::ApiStatus;
use bitaxe_core::ops::PlanRow;

fn generated_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/generated")
}

/// Every type the UI reads or sends, with the types they use. Each root is exported on its own
/// first: two Rust types with one TypeScript name would overwrite each other's file, so that
/// fails here (give one a `ts(rename = "...")`).
fn export_all(dir: &Path) {
    let seen: std::cell::RefCell<BTreeMap<String, String>> = Default::default();
    let one_dir = |export: &dyn Fn(&Path)| {
        let own = tempfile::tempdir().expect("temp dir");
        export(own.path());
        for (name, text) in files(own.path()) {
            let mut seen = seen.borrow_mut();
            if let Some(before) = seen.get(&name) {
                assert_eq!(
                    before, &text,
                    "two Rust types are both {name} in TypeScript"
                );
            }
            seen.insert(name, text);
        }
        export(dir);
    };
    macro_rules! one {
        ($t:ty) => {
            one_dir(&|d: &Path| {
                <$t as TS>::export_all_to(d)
                    .unwrap_or_else(|e| panic!("exporting {}: {e}", <$t as TS>::name()))
            })
        };
    }
    one!(Overview);
    one!(LoggedEvent);
    one!(Prefs);
    one!(PlanRow);
    one!(ChartOut);
    one!(CmdError);
    one!(DraftProblem);
    one!(ProfileRow);
    one!(WeekPreview);
    one!(PriceStrip);
    one!(TestFetch);
    one!(bitaxe_core::alerts::ChannelReport);
    one!(CostSummary);
    one!(ApiStatus);
    one!(bitaxe_core::config::Config);
    one!(bitaxe_core::discovery::Found);
    one!(bitaxe_core::stats::Stats);
    one!(bitaxe_core::events::Event);
    one!(bitaxe_core::events::Level);
    one!(bitaxe_core::chart::Metric);
    one!(bitaxe_core::alerts::AlertKind);
    one!(crate::remote::commands::AttachmentView);
    one!(crate::remote::discover::Discovered);
}

/// Every `.ts` file under `dir` (ts-rs puts some in subdirectories), by relative path.
fn files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "ts") {
                let name = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn typescript_types_in_the_ui_are_current() {
    let tmp = tempfile::tempdir().expect("temp dir");
    export_all(tmp.path());
    let fresh = files(tmp.path());
    assert!(fresh.contains_key("Overview.ts") && fresh.contains_key("Config.ts"));
    // JSON carries 64-bit integers as numbers: a u64 field needs `ts(type = "number")`.
    for (name, text) in &fresh {
        assert!(
            !text.contains("bigint"),
            "{name} says bigint: JSON sends a number"
        );
    }
    let dir = generated_dir();
    let committed = files(&dir);
    if fresh == committed {
        return;
    }
    if std::env::var_os("BITAXE_UPDATE_TS").is_some() {
        std::fs::create_dir_all(&dir).expect("generated dir");
        for name in committed.keys().filter(|n| !fresh.contains_key(*n)) {
            std::fs::remove_file(dir.join(name)).expect("remove a stale file");
        }
        for (name, text) in &fresh {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("generated subdirectory");
            }
            std::fs::write(path, text).expect("write a generated file");
        }
        return;
    }
    let stale: std::collections::BTreeSet<&String> = fresh
        .keys()
        .chain(committed.keys())
        .filter(|n| fresh.get(*n) != committed.get(*n))
        .collect();
    panic!(
        "ui/src/generated is stale ({stale:?}); run \
         `BITAXE_UPDATE_TS=1 cargo test -p bitaxe-desktop --lib typescript` and commit the result"
    );
}
