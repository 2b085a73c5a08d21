// The web transport's parts that need no browser: the Server-Sent Events parser (fed the way a
// fetch body arrives, in pieces cut anywhere), the reconnect backoff, the sign-in's answers to
// the server's replies, a call's errors as the views expect them, and the browser stand-ins'
// CSV and file names. `fetch`, the storages and `location` are faked on globalThis.
import test from "node:test";
import assert from "node:assert/strict";
import { backoff, SseParser } from "../src/ipc/sse";
import { csvBucket, exportName, historyCsv, minerUrl } from "../src/ipc/browser";
import { session, signIn, SignInError } from "../src/ipc/session";
import { webCall } from "../src/ipc/web";

const g = globalThis as unknown as Record<string, unknown>;

function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, String(v)),
    removeItem: (k: string) => void m.delete(k), clear: () => m.clear(), key: (i: number) => [...m.keys()][i] ?? null,
    get length() { return m.size; },
  } as Storage;
}
g.localStorage = memoryStorage();
g.sessionStorage = memoryStorage();
let reloads = 0;
g.location = { reload: () => { reloads += 1; } };

/** Answer every fetch with `reply(url, init)`; returns the requests seen. */
function fakeFetch(reply: (url: string, init: RequestInit) => Response | Promise<Response>): { url: string; init: RequestInit }[] {
  const seen: { url: string; init: RequestInit }[] = [];
  g.fetch = async (url: string, init: RequestInit = {}) => { seen.push({ url, init }); return reply(url, init); };
  return seen;
}
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

test("SSE: events cut anywhere still come out whole, in order, with the last id", () => {
  const text = ": keep-alive\n\nid: 1\ndata: {\"kind\":\"a\"}\n\nid: 2\r\ndata: line one\r\ndata: line two\r\n\r\nid: 3\rdata:x\r\r";
  for (let cut = 1; cut < text.length; cut++) {
    const p = new SseParser();
    const got = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
    assert.deepEqual(got.map((e) => [e.id, e.data]), [["1", "{\"kind\":\"a\"}"], ["2", "line one\nline two"], ["3", "x"]], `cut at ${cut}`);
    assert.equal(p.lastId, "3");
  }
});

test("SSE: one character at a time, comments and unknown fields ignored, retry read", () => {
  const p = new SseParser();
  const out = [];
  for (const ch of "retry: 2500\nfoo: bar\n:comment\nevent: ping\ndata\n\ndata: {}\n\n") out.push(...p.feed(ch));
  assert.deepEqual(out.map((e) => [e.event, e.data]), [["ping", ""], ["message", "{}"]]);
  assert.equal(p.retry, 2500);
  assert.equal(p.lastId, null);
});

test("SSE: an id alone moves the resume point without an event", () => {
  const p = new SseParser();
  assert.deepEqual(p.feed("id: 41\n\n"), []);
  assert.equal(p.lastId, "41");
  assert.equal(p.feed("data: y\n\n")[0].id, "41");
});

test("backoff doubles from half a second, jittered, capped at 15 s", () => {
  assert.equal(backoff(0, 500, 15000, () => 1), 500);
  assert.equal(backoff(3, 500, 15000, () => 1), 4000);
  assert.equal(backoff(30, 500, 15000, () => 1), 15000);
  assert.equal(backoff(3, 500, 15000, () => 0), 2800);
});

test("sign in: the version route's scope is kept, with the token", async () => {
  const seen = fakeFetch(() => json(200, { api: "1.0", app: "0.1.0", scope: "read" }));
  const s = await signIn("  tok-read  ");
  assert.equal(s.scope, "read");
  assert.equal(s.token, "tok-read");
  assert.equal((seen[0].init.headers as Record<string, string>).Authorization, "Bearer tok-read");
  assert.equal(localStorage.getItem("bitaxe.token"), "tok-read");
});

test("sign in: a server without the scope field is probed on the control-only config route", async () => {
  fakeFetch((url) => (url.endsWith("/version") ? json(200, { api: "1.2", app: "x" }) : json(403, { error: "read_only", message: "no" })));
  assert.equal((await signIn("t")).scope, "read");
  fakeFetch((url) => (url.endsWith("/version") ? json(200, { api: "1.2", app: "x" }) : json(200, {})));
  assert.equal((await signIn("t")).scope, "control");
});

test("sign in: wrong token, lockout, another major version and no token are each said clearly", async () => {
  const refused = async (token: string, code: string, re: RegExp) => {
    try { await signIn(token); assert.ok(false, "signed in"); } catch (e) {
      assert.ok(e instanceof SignInError);
      assert.equal((e as SignInError).code, code);
      assert.match((e as Error).message, re);
    }
  };
  fakeFetch(() => json(401, { error: "unauthorized", message: "x" }));
  await refused("bad", "unauthorized", /not valid/);
  fakeFetch(() => json(429, { error: "locked_out", message: "x" }));
  await refused("bad", "locked_out", /Too many wrong tokens/);
  fakeFetch(() => json(200, { api: "2.0", app: "9", scope: "control" }));
  await refused("t", "version", /API 2\.0/);
  await refused("   ", "empty", /Paste the token/);
  fakeFetch(() => { throw new TypeError("connection refused"); });
  await refused("t", "network", /did not answer/);
});

test("a call posts the invoke arguments and maps refusals to { code, message }", async () => {
  fakeFetch(() => json(200, { api: "1.0", app: "x", scope: "read" }));
  await signIn("tok");
  const seen = fakeFetch((url) => (url.endsWith("/apply_profile") ? json(403, { code: "forbidden", message: "read" })
    : url.endsWith("/nope") ? json(404, { code: "unknown_command", message: "no command \"nope\"" })
    : new Response("", { status: 200 })));
  assert.equal(await webCall<void>("set_paused", { paused: true }), undefined);
  assert.equal(seen[0].url, "/api/v1/call/set_paused");
  assert.equal(seen[0].init.method, "POST");
  assert.equal(seen[0].init.body, "{\"paused\":true}");
  await assert.rejects(webCall("apply_profile", { profile: "night", miner: null }), (e: { code: string; message: string }) =>
    e.code === "forbidden" && /read-only: signed in with the read token/.test(e.message));
  await assert.rejects(webCall("nope"), (e: { code: string }) => e.code === "unknown_command");
});

test("a 401 on a call ends the session: the token is forgotten and the page starts over", async () => {
  fakeFetch(() => json(200, { api: "1.0", app: "x", scope: "control" }));
  await signIn("tok");
  const before = reloads;
  fakeFetch(() => json(401, { error: "unauthorized", message: "x" }));
  await assert.rejects(webCall("overview"), (e: { code: string }) => e.code === "unauthorized");
  assert.equal(localStorage.getItem("bitaxe.token"), null);
  assert.match(sessionStorage.getItem("bitaxe.session-ended") ?? "", /no longer accepts/);
  assert.equal(reloads, before + 1);
  assert.equal(session(), null);
});

test("browser stand-ins: a miner's link, the CSV bucket, file names and the CSV", () => {
  assert.equal(minerUrl("127.0.0.2"), "http://127.0.0.2/");
  assert.equal(minerUrl("127.0.0.2:8080"), "http://127.0.0.2:8080/");
  assert.equal(minerUrl("http://127.0.0.1:4001"), "http://127.0.0.1:4001");
  assert.equal(csvBucket(1), 60);
  assert.equal(csvBucket(720), 1320);
  const at = new Date(2026, 11, 7, 8, 5);
  assert.equal(exportName(null, "24h", "csv", at), "bitaxe-24h-20261207-0805.csv");
  assert.equal(exportName("../Garage 2", "7d", "png", at), "bitaxe-Garage_2-7d-20261207-0805.png");
  const csv = historyCsv([{ miner: "a,b", at: 0, hashrate: 1000, power: 15.456, temp: null, efficiency: 15.4567, profile: "night" }]).split("\n");
  assert.equal(csv[0], "time,miner,profile,hashrate_ghs,power_w,temp_c,efficiency_j_per_th");
  assert.match(csv[1], /^19(69|70)-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d,a b,night,1000\.00,15\.46,,15\.46$/);
});
