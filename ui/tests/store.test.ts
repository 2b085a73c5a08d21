// The store: scopes that views drop, typed subscriptions, a draft that survives navigation,
// and one overview for the top bar and the Fleet totals line.
import test from "node:test";
import assert from "node:assert/strict";
import type { Config, EngineEvent, Overview, Totals } from "../src/ipc";
import { Store, type Backend } from "../src/store";
import { totalsLine } from "../src/views/fleet-status";

function overview(online: number, power: number): Overview {
  const totals: Totals = { online, total: 3, hashrate: 1500, power, efficiency: 15.5 };
  return {
    status: { miners: [], totals, profile: "day", source: "schedule", next_change: null, paused: false, emergency: false, pause_reason: null, budget: null },
    read_only: null, config_path: "/tmp/c.json", demo: false, colours: [],
    limits: { min_voltage: 1000, max_voltage: 1300, min_frequency: 100, max_frequency: 800 },
  };
}

const sampled = (miner: string, hashrate: number): EngineEvent => ({
  kind: "sampled", miner, hashrate, at: "2026-11-25T18:00:00Z", profile: "day", power: 15, temp: 50, vr_temp: 50, voltage: 1150, frequency: 500,
});

function fake(): { backend: Backend; emit: (e: EngineEvent) => void; file: { config: Config }; overviews: Overview[]; saves: number } {
  const handlers: ((e: EngineEvent) => void)[] = [];
  const state = {
    file: { config: { miners: [], max_temp: 65 } as unknown as Config },
    overviews: [overview(1, 10), overview(2, 20), overview(3, 30)],
    saves: 0,
    emit: (e: EngineEvent) => handlers.forEach((h) => h(e)),
    backend: null as unknown as Backend,
  };
  state.backend = {
    overview: async () => state.overviews.shift() ?? overview(0, 0),
    getConfig: async () => JSON.parse(JSON.stringify(state.file.config)) as Config,
    saveConfig: async (c) => { state.saves++; state.file.config = JSON.parse(JSON.stringify(c)) as Config; },
    listen: async (h) => { handlers.push(h); return () => handlers.splice(handlers.indexOf(h), 1); },
  };
  return state;
}

test("a view's scope gets only its kinds and stops getting events once dropped", async () => {
  const f = fake();
  const store = new Store(f.backend);
  await store.start();
  const scope = store.scope();
  const got: number[] = [];
  let any = 0;
  scope.on("sampled", (e) => got.push(e.hashrate));
  scope.onEvent(() => any++);
  scope.onOverview(() => any++);
  assert.equal(store.subscriptions, 3);
  f.emit(sampled("a", 512));
  f.emit({ kind: "restored", miner: "a" });
  assert.deepEqual(got, [512]);
  assert.equal(any, 2);
  scope.drop();
  assert.equal(store.subscriptions, 0);
  f.emit(sampled("a", 600));
  await store.refresh();
  assert.deepEqual(got, [512]);
  assert.equal(any, 2);
  // Added after the drop: undone at once.
  let undone = false;
  scope.add(() => (undone = true));
  assert.ok(undone);
});

test("a throwing subscriber does not keep the event from the others", async () => {
  const f = fake();
  const store = new Store(f.backend);
  await store.start();
  const s = store.scope();
  let got = 0;
  s.onEvent(() => { throw new Error("view bug"); });
  s.onEvent(() => got++);
  const err = console.error;
  console.error = () => {};
  try { f.emit({ kind: "paused", paused: true }); } finally { console.error = err; }
  assert.equal(got, 1);
});

test("the top bar and the totals line read the same overview on every refresh", async () => {
  const store = new Store(fake().backend);
  const bar: string[] = [];
  const line: string[] = [];
  store.watchOverview((o) => bar.push(`${o.status.totals.online}/${o.status.totals.total} ${o.status.totals.power} W`));
  const view = store.scope();
  view.onOverview((o) => line.push(totalsLine(o.status.totals)));
  await store.refresh();
  await store.refresh();
  assert.deepEqual(bar, ["1/3 10 W", "2/3 20 W"]);
  assert.deepEqual(line, ["1/3 online · 1.50 TH/s · 10.0 W · 15.50 J/TH", "2/3 online · 1.50 TH/s · 20.0 W · 15.50 J/TH"]);
  assert.equal(store.overview?.status.totals.power, 20);
});

test("the config draft survives leaving a view, saves once, and follows the file when clean", async () => {
  const f = fake();
  const store = new Store(f.backend);
  await store.start();
  const draft = await store.draft();
  (draft as unknown as { max_temp: number }).max_temp = 60;
  assert.ok(store.dirty);
  // Another view later asks for the draft: the same edits.
  store.scope().drop();
  assert.equal((await store.draft() as unknown as { max_temp: number }).max_temp, 60);
  // The file changes under the unsaved draft: the edits stay, marked stale.
  f.file.config = { ...f.file.config, max_temp: 70 } as Config;
  f.emit({ kind: "config_reloaded" });
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(store.stale);
  assert.equal((await store.draft() as unknown as { max_temp: number }).max_temp, 60);
  await store.save();
  assert.equal(f.saves, 1);
  assert.ok(!store.dirty && !store.stale);
  assert.equal((f.file.config as unknown as { max_temp: number }).max_temp, 60);
  // Clean draft: a change on disk replaces it.
  f.file.config = { ...f.file.config, max_temp: 55 } as Config;
  await store.configChanged();
  assert.equal((await store.draft() as unknown as { max_temp: number }).max_temp, 55);
  store.discard();
  assert.ok(!store.dirty);
});
