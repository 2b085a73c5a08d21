// The Fleet view's words beside the badge and its attention actions, and the events view's tags.
import test from "node:test";
import assert from "node:assert/strict";
import type { LoggedEvent, MinerStatus } from "../src/ipc";
import {
  attention, attentionText, coolingOff, emptyNotes, handled, noteLive, notesFrom, statusParts,
} from "../src/views/fleet-status";
import { eventTag } from "../src/views/event-tags";

const NOW = Date.parse("2026-11-25T18:00:00Z");
/** A fixed "local" clock for the tests: UTC+2, as HH:MM. */
const hm = (iso: string) => {
  const d = new Date(Date.parse(iso) + 2 * 3600_000);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
};

function miner(over: Partial<MinerStatus> = {}): MinerStatus {
  return {
    name: "attic", url: "http://127.0.0.1:4001", enabled: true, state: "online", reason: "",
    info: null, target: null, throttle_cap: null, cooloff_until: null, gave_up: null, ceilings: [], identity_pending: false, plan_why: null,
    last_error: null, updated: null,
    ...over,
  };
}

test("cool-off shows in local time while it lasts, without the engine's UTC repeat", () => {
  const m = miner({
    state: "throttled",
    cooloff_until: "2026-11-25T18:30:00Z",
    reason: "held at or below 1150mV @ 500MHz after a firmware overheat; no raise before 18:30 UTC",
  });
  assert.ok(coolingOff(m, NOW));
  assert.deepEqual(statusParts(m, NOW, hm), [
    "cooling off until 20:30",
    "held at or below 1150mV @ 500MHz after a firmware overheat",
  ]);
  // Over: no cool-off, the engine's words as they are.
  const later = Date.parse("2026-11-25T18:31:00Z");
  assert.ok(!coolingOff(m, later));
  assert.deepEqual(statusParts(m, later, hm), [m.reason]);
  assert.ok(!coolingOff(miner({ cooloff_until: "not a time" }), NOW));
});

test("a given-up target is said once, before the reason", () => {
  const gave = "gave up on 1200mV @ 550MHz: the miner kept 1150mV @ 500MHz after 3 writes";
  assert.deepEqual(statusParts(miner({ gave_up: gave, reason: "ASIC 69.0°C" }), NOW, hm), [gave, "ASIC 69.0°C"]);
  assert.deepEqual(statusParts(miner({ gave_up: gave, reason: gave }), NOW, hm), [gave]);
  assert.deepEqual(statusParts(miner(), NOW, hm), []);
});

test("Retry appears only while a target is given up", () => {
  const n = emptyNotes();
  assert.deepEqual(attention(miner(), n), []);
  assert.deepEqual(attention(miner({ gave_up: "gave up on 1200mV @ 550MHz: ignored" }), n), ["retry"]);
  assert.equal(attentionText("retry", miner({ gave_up: "x" })).label, "Retry");
});

test("Clear ceiling follows the reason or the latest CeilingLowered event until handled", () => {
  const n = emptyNotes();
  const byReason = miner({ reason: "day held 1 throttle step(s) lower after repeated overheats" });
  assert.deepEqual(attention(byReason, n), ["clear_ceiling"]);
  const log: LoggedEvent[] = [
    { at: "2026-11-25T17:00:00Z", miner: "attic", kind: "ceiling_lowered", level: "warning", text: "overheated twice" },
    { at: "2026-11-25T17:01:00Z", miner: "garage", kind: "drift", level: "warning", text: "drift" },
  ];
  notesFrom(log, n);
  assert.deepEqual(attention(miner({ state: "overheated" }), n), ["clear_ceiling"]);
  assert.deepEqual(attention(miner({ name: "garage" }), n), []);
  handled(n, "attic", "clear_ceiling", NOW);
  assert.deepEqual(attention(miner(), n), []);
  // A newer one asks again.
  noteLive(n, { kind: "ceiling_lowered", miner: "attic", profile: "day", steps: 2 }, NOW + 1000);
  assert.deepEqual(attention(miner(), n), ["clear_ceiling"]);
});

test("Confirm device follows an IdentityChanged event and comes first", () => {
  const n = emptyNotes();
  noteLive(n, { kind: "identity_changed", miner: "attic", expected: "aa:bb", found: "cc:dd" }, NOW);
  const m = miner({ gave_up: "gave up on 1200mV @ 550MHz: ignored" });
  assert.deepEqual(attention(m, n), ["confirm_identity", "retry"]);
  handled(n, "attic", "confirm_identity", NOW + 1);
  assert.deepEqual(attention(m, n), ["retry"]);
  // The engine still says so (it has not polled since): the button stays.
  const blocked = miner({ reason: "a different device answers at this address (expected aa:bb, found cc:dd); not written to until you confirm it" });
  assert.deepEqual(attention(blocked, n), ["confirm_identity"]);
  assert.match(attentionText("confirm_identity", blocked).body, /127\.0\.0\.1:4001/);
});

test("the events view tags the engine's safety events and grades the rest in words", () => {
  assert.equal(eventTag({ kind: "gave_up", level: "error" }), "Gave up");
  assert.equal(eventTag({ kind: "firmware_overheat", level: "warning" }), "Firmware overheat");
  assert.equal(eventTag({ kind: "ceiling_lowered", level: "warning" }), "Ceiling lowered");
  assert.equal(eventTag({ kind: "identity_changed", level: "error" }), "Different device");
  assert.equal(eventTag({ kind: "fan_restored", level: "info" }), "Fan restored");
  assert.equal(eventTag({ kind: "transition_failed", level: "error" }), "Error");
  assert.equal(eventTag({ kind: "poll_failed", level: "warning" }), "Warning");
  assert.equal(eventTag({ kind: "transition_done", level: "info" }), null);
});

test("the engine's status fields alone bring Confirm device and Clear ceiling", () => {
  const n = emptyNotes();
  assert.deepEqual(attention(miner({ identity_pending: true }), n), ["confirm_identity"]);
  assert.deepEqual(attention(miner({ ceilings: [["night", 1]] }), n), ["clear_ceiling"]);
  assert.deepEqual(attention(miner({ ceilings: [] }), n), []);
});

test("the miners list says what a miner's own settings change, and the drawer the limit it broke", async () => {
  const { overrideSummary, rangeProblem } = await import("../src/views/miner-text");
  const base = { name: "a", ip: "http://127.0.0.1:1", enabled: true, day_settings: null, night_settings: null };
  assert.equal(overrideSummary(base), "Fleet settings");
  assert.equal(overrideSummary({ ...base, night_settings: { voltage: 1250, frequency: null } }), "Own settings: night 1250 mV");
  assert.equal(overrideSummary({ ...base, day_settings: { voltage: 1100, frequency: 450 }, night_settings: { voltage: null, frequency: null } }),
    "Own settings: day 1100 mV @ 450 MHz");
  assert.equal(overrideSummary({ ...base, profiles: { quiet: { voltage: 1040, frequency: 390 } } }), "Own settings: quiet 1040 mV @ 390 MHz");
  assert.equal(rangeProblem("Night voltage", "", 1000, 1300, "mV"), "");
  assert.equal(rangeProblem("Night voltage", "1250", 1000, 1300, "mV"), "");
  assert.equal(rangeProblem("Night voltage", "1400", 1000, 1300, "mV"), "Night voltage must be 1000–1300 mV (the safety limits).");
  assert.equal(rangeProblem("Day frequency", "abc", 100, 800, "MHz"), "Day frequency: enter a number.");
});

test("a draft's problems find the fields they are about", async () => {
  const { under, sentence } = await import("../src/views/problems");
  const ps = [
    { code: "config_invalid", path: "plan.weekly[0].to", message: "ends before it starts" },
    { code: "config_invalid", path: "planet", message: "unknown key" },
    { code: "config_invalid", path: "", message: "whole" },
  ];
  assert.deepEqual(under(ps, "plan").map((p) => p.path), ["plan.weekly[0].to"]);
  assert.deepEqual(under(ps, "plan.weekly[0]").map((p) => p.path), ["plan.weekly[0].to"]);
  assert.equal(sentence(ps[0]), "plan.weekly[0].to: ends before it starts");
  assert.equal(sentence(ps[2]), "whole");
});
