//! Saving by editing the user's text in place: only values that changed are rewritten, new keys
//! and miners go at the end of their object or array, removed ones are taken out, and every
//! comment, blank line and key order the user wrote stays where it was.
//!
//! Works on jsonc-parser's concrete syntax tree. The caller checks that the edited text parses
//! back to exactly the config being saved, and writes the whole file afresh when it does not (or
//! when the old text is no config at all), so an edit can never save something else.

use jsonc_parser::cst::{CstArray, CstInputValue, CstObject, CstRootNode};
use jsonc_parser::ParseOptions;
use serde_json::{Map, Value};

use super::schema::{LIMIT_KEYS, MINER_KEYS, PERIOD_KEYS, SETTINGS_KEYS, TOP_KEYS};

/// Where an object sits, for the order of keys written anew.
#[derive(Debug, Clone, Copy)]
enum Ctx {
    Top,
    Miner,
    Period,
    Settings,
    Limits,
    Other,
}

impl Ctx {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Ctx::Top => TOP_KEYS,
            Ctx::Miner => MINER_KEYS,
            Ctx::Period => PERIOD_KEYS,
            Ctx::Settings => SETTINGS_KEYS,
            Ctx::Limits => LIMIT_KEYS,
            Ctx::Other => &[],
        }
    }

    fn child(self, key: &str) -> Ctx {
        match (self, key) {
            (Ctx::Top, "miners") => Ctx::Miner,
            (Ctx::Top, "global_day_settings" | "global_night_settings") => Ctx::Period,
            (Ctx::Top, "safe_settings") => Ctx::Settings,
            (Ctx::Miner, "day_settings" | "night_settings") => Ctx::Settings,
            (Ctx::Miner, "limits") => Ctx::Limits,
            _ => Ctx::Other,
        }
    }

    /// The keys of `map` in the order the config documents them (unknown ones last, sorted).
    fn ordered(self, map: &Map<String, Value>) -> Vec<String> {
        let known = self.keys();
        let mut keys: Vec<String> = map.keys().cloned().collect();
        keys.sort_by_key(|k| known.iter().position(|x| x == k).unwrap_or(usize::MAX));
        keys
    }
}

/// The config as fresh text (the file does not exist, or held no usable config): two-space JSON
/// in the documented key order.
pub fn fresh(new: &Value) -> String {
    let root = CstRootNode::parse("", &ParseOptions::default());
    let text = match root {
        Ok(root) => {
            root.set_value(input(new, Ctx::Top));
            root.to_string()
        }
        Err(_) => serde_json::to_string_pretty(new).unwrap_or_default(),
    };
    with_newline(text)
}

/// `old_text` edited so that it holds `new`, where `old` is what `old_text` meant (with defaults
/// filled in). `None` when the text cannot be edited (the caller then writes it afresh).
pub fn in_place(old_text: &str, old: &Value, new: &Value) -> Option<String> {
    // The CST's own consistency checks may panic on trees it did not expect; never let a save
    // take the process down for that: fall back to a fresh file instead.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let root = CstRootNode::parse(old_text, &ParseOptions::default()).ok()?;
        let obj = root.object_value()?;
        object(&obj, old.as_object()?, new.as_object()?, Ctx::Top)?;
        Some(root.to_string())
    }))
    .ok()
    .flatten()
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn object(
    obj: &CstObject,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    ctx: Ctx,
) -> Option<()> {
    for k in ctx.ordered(new) {
        let nv = new.get(&k)?;
        if old.get(&k) == Some(nv) {
            continue;
        }
        let child = ctx.child(&k);
        let Some(prop) = obj.get(&k) else {
            obj.append(&k, input(nv, child));
            continue;
        };
        match (old.get(&k), nv) {
            (Some(Value::Object(o)), Value::Object(n)) if prop.object_value().is_some() => {
                object(&prop.object_value()?, o, n, child)?;
            }
            (Some(Value::Array(o)), Value::Array(n)) if prop.array_value().is_some() => {
                array(&prop.array_value()?, o, n, child)?;
            }
            _ => prop.set_value(input(nv, child)),
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        if let Some(prop) = obj.get(k) {
            prop.remove();
        }
    }
    Some(())
}

fn name(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

/// Arrays of named objects (the miners): matched by name, so removing one miner leaves the
/// others, and their comments, alone; new ones are appended.
fn array(arr: &CstArray, old: &[Value], new: &[Value], ctx: Ctx) -> Option<()> {
    let elements = arr.elements();
    if elements.len() != old.len() {
        return None;
    }
    let pairs: Vec<(usize, usize)> = if old.len() == new.len() {
        (0..old.len()).map(|i| (i, i)).collect()
    } else {
        let mut pairs = Vec::new();
        let mut removed = Vec::new();
        for (i, o) in old.iter().enumerate() {
            match new
                .iter()
                .position(|n| name(n).is_some() && name(n) == name(o))
            {
                Some(j) => pairs.push((i, j)),
                None => removed.push(i),
            }
        }
        // Kept elements must keep their order; otherwise let the caller write afresh.
        if pairs.windows(2).any(|w| w[0].1 >= w[1].1) {
            return None;
        }
        for &i in removed.iter().rev() {
            elements.get(i)?.clone().remove();
        }
        pairs
    };
    for &(i, j) in &pairs {
        if old[i] == new[j] {
            continue;
        }
        match (&old[i], &new[j], elements.get(i)?.as_object()) {
            (Value::Object(o), Value::Object(n), Some(obj)) => object(&obj, o, n, ctx)?,
            _ => return None,
        }
    }
    let taken: Vec<usize> = pairs.iter().map(|p| p.1).collect();
    for (j, n) in new.iter().enumerate() {
        if !taken.contains(&j) {
            arr.append(input(n, ctx));
        }
    }
    Some(())
}

/// A value as CST input, object keys in the documented order.
fn input(v: &Value, ctx: Ctx) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(|e| input(e, ctx)).collect()),
        Value::Object(m) => CstInputValue::Object(
            ctx.ordered(m)
                .into_iter()
                .filter_map(|k| {
                    let value = input(m.get(&k)?, ctx.child(&k));
                    Some((k, value))
                })
                .collect(),
        ),
    }
}
