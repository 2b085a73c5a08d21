// The web UI in a real browser (headless Chromium through playwright-core) against a running
// scheduler on loopback: sign in, see the fleet, apply night to a miner and see the simulated
// miner follow, sign out, sign in with the read token and find every control disabled, and
// every view at 390 px wide without a horizontal page scroll. Screenshots go to OUT.
//
// Started by tests/tests/web_ui.rs (which builds the scheduler, starts the sims and the daemon);
// by hand:
//   BASE=http://127.0.0.1:PORT CONTROL=... READ=... SIMS='[{"name":"rig-1","url":"http://127.0.0.1:PORT2"}]' \
//   NIGHT='{"voltage":1200,"frequency":550}' OUT=/tmp/shots node ui/e2e/web.mjs
// Exits non-zero with the failed check's message; the browser is closed in every case.

import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, DESKTOP, launch, log, noSideScroll, PHONE, showView, until, VIEWS, watchCsp } from "./lib.mjs";

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("BASE");
const CONTROL = env("CONTROL");
const READ = env("READ");
const SIMS = JSON.parse(env("SIMS"));
const NIGHT = JSON.parse(env("NIGHT"));
const OUT = env("OUT", join(tmpdir(), "bitaxe-web-shots"));
mkdirSync(OUT, { recursive: true });

/** The static files' headers: CSP, caching, content types. */
async function checkHeaders() {
  const page = await fetch(`${BASE}/`);
  check(page.status === 200, `GET / answers 200 without a token (got ${page.status})`);
  const html = await page.text();
  check(page.headers.get("content-type")?.startsWith("text/html"), "index.html is text/html");
  check(page.headers.get("cache-control") === "no-store", `index.html is no-store (got ${page.headers.get("cache-control")})`);
  const csp = page.headers.get("content-security-policy") ?? "";
  check(/default-src 'self'/.test(csp) && /script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval|\*/.test(csp), `CSP allows only 'self' (got ${csp})`);
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  check(assets.length >= 2, "index.html names its hashed assets");
  for (const a of assets) {
    const r = await fetch(`${BASE}${a}`);
    check(r.status === 200, `${a} loads`);
    check(r.headers.get("cache-control")?.includes("immutable"), `${a} is cached as immutable (got ${r.headers.get("cache-control")})`);
    const type = r.headers.get("content-type") ?? "";
    check(a.endsWith(".js") ? type.startsWith("text/javascript") : a.endsWith(".css") ? type.startsWith("text/css") : true, `${a} has a correct content type (${type})`);
    check(r.headers.get("x-content-type-options") === "nosniff", `${a} is nosniff`);
  }
  const api = await fetch(`${BASE}/api/v1/version`);
  check(api.status === 401, `the API still needs a token (got ${api.status})`);
  log(`headers: CSP, no-store page, ${assets.length} immutable assets`);
}

async function simSettings(sim) {
  const r = await fetch(`${sim.url}/api/system/info`);
  const j = await r.json();
  return { voltage: j.coreVoltage, frequency: j.frequency };
}

async function run(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" && !/status of 40[13]|Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  await watchCsp(context);

  // 1. Without a token: the sign-in screen, nothing of the fleet.
  await page.goto(`${BASE}/`);
  await page.locator("#signin").waitFor();
  check(await page.locator(".app").isHidden(), "the app is hidden before signing in");
  await page.screenshot({ path: join(OUT, "signin-desktop.png") });

  // 2. A wrong token: a clear message, still signed out.
  await page.locator("#token").fill("not-the-token");
  await page.locator("#sign-in").click();
  await until("the wrong-token message", 5000, async () => /not valid/.test(await page.locator("#sign-in-error").textContent()));
  check(await page.locator("#signin").isVisible(), "still on the sign-in screen after a wrong token");
  log("wrong token refused with a message");

  // 3. The control token: the fleet table lists the sim miners.
  await page.locator("#token").fill(CONTROL);
  await page.locator("#sign-in").click();
  await page.locator("#fleet-table").waitFor({ timeout: 15000 });
  for (const s of SIMS) await page.locator(`#fleet-table tr[data-miner="${s.name}"]`).waitFor({ timeout: 15000 });
  check(await page.locator("#fleet-table tbody tr").count() === SIMS.length, "one row per sim miner");
  check(await page.locator("#pause-toggle").isEnabled(), "control token: the pause switch is enabled");
  check(await page.locator("#scope-chip").count() === 0, "control token: no read-only chip");
  log(`signed in with the control token; ${SIMS.length} miners listed`);
  await page.screenshot({ path: join(OUT, "fleet-control-desktop.png"), fullPage: true });

  // 4. Apply night to the first miner from its row menu; the sim follows; the row says Night.
  const sim = SIMS[0];
  const row = page.locator(`#fleet-table tr[data-miner="${sim.name}"]`);
  await row.locator(".menu-button").click();
  await page.locator('.menu-wrap.open [role="menuitem"]', { hasText: "Apply night now" }).click();
  await page.locator("#confirm-ok").click();
  await until(`${sim.name} at the night settings`, 30000, async () => {
    const now = await simSettings(sim);
    return now.voltage === NIGHT.voltage && now.frequency === NIGHT.frequency ? now : false;
  });
  log(`${sim.name} follows: ${NIGHT.voltage} mV @ ${NIGHT.frequency} MHz`);
  await until("the row to show Night", 20000, async () =>
    /Night/.test(await page.locator(`#fleet-table tr[data-miner="${sim.name}"] td.c-profile`).textContent()));
  // A change made elsewhere (here: straight through the API) reaches the page by the event
  // stream alone: nothing on the page is touched, and it shows the second miner at night.
  if (SIMS[1]) {
    const other = SIMS[1];
    const r = await fetch(`${BASE}/api/v1/call/apply_profile`, { method: "POST", headers: { Authorization: `Bearer ${CONTROL}`, "Content-Type": "application/json" },
      body: JSON.stringify({ profile: "night", miner: other.name }) });
    check(r.ok, `apply night to ${other.name} through the API (got ${r.status})`);
    await until(`the page to show ${other.name} at night (live, by the event stream)`, 20000, async () =>
      /Night/.test(await page.locator(`#fleet-table tr[data-miner="${other.name}"] td.c-profile`).textContent()));
    log("a change made elsewhere shows on the page without a reload (events)");
  }

  // 5. Every view at 390 px (light and dark), then at desktop width: no horizontal page scroll.
  const viewErrors = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [label, size] of [["phone", PHONE], ["desktop", DESKTOP]]) {
      await page.setViewportSize(size);
      for (const v of VIEWS) {
        await showView(page, v);
        if (await page.locator("#view .error-state").count()) viewErrors.push(`${v}: ${await page.locator("#view .error-state").textContent()}`);
        await page.screenshot({ path: join(OUT, `${v}-${label}-${scheme}.png`), fullPage: label === "phone" });
        if (label === "phone") await noSideScroll(page, `${v} at 390 px (${scheme})`);
      }
    }
  }
  // The phone menu opens and leads somewhere.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "light" });
  await showView(page, "fleet");
  check(await page.locator(".nav-toggle").isVisible(), "390 px: the menu button shows");
  check(await page.locator('.sidebar a[data-view="events"]').isHidden(), "390 px: the links are folded away");
  await page.locator(".nav-toggle").click();
  await page.screenshot({ path: join(OUT, "nav-open-phone-light.png") });
  await page.locator('.sidebar a[data-view="events"]').click();
  await showView(page, "events");
  check(await page.locator('.sidebar a[data-view="events"]').isHidden(), "390 px: the menu closes after a choice");
  const box = await page.locator(".nav-toggle").boundingBox();
  check(box && box.width >= 44 && box.height >= 44, "390 px: the menu button is at least 44 px square");
  log("every view at 390 px and 1280 px, light and dark: no horizontal scroll");
  if (viewErrors.length) {
    throw new Error(`views failed to render:\n${viewErrors.join("\n")}`);
  }

  // 6. Sign out: back to the sign-in screen, the token forgotten.
  await page.setViewportSize({ width: 1280, height: 800 });
  await showView(page, "fleet");
  await page.locator("#sign-out").click();
  await page.locator("#signin").waitFor();
  check(await page.evaluate(() => localStorage.getItem("bitaxe.token")) === null, "sign out forgets the token");
  await page.reload();
  await page.locator("#signin").waitFor();
  log("signed out; a reload stays signed out");

  // 7. The read token: status shows, every writing control is disabled or absent.
  await page.locator("#token").fill(READ);
  await page.locator("#sign-in").click();
  await page.locator("#fleet-table").waitFor({ timeout: 15000 });
  check(await page.locator("#scope-chip").isVisible(), "read token: the read-only chip shows");
  check(/read-only: signed in with the read token/i.test(await page.locator("#banner").textContent()), "read token: the banner says read-only");
  check(await page.locator("#pause-toggle").isDisabled(), "read token: the pause switch is disabled");
  await row.locator(".menu-button").click();
  const items = await page.locator('.menu-wrap.open [role="menuitem"]').allTextContents();
  check(!items.some((t) => /Apply|Pause|Restart/.test(t)), `read token: no writing action in the row menu (got ${items.join(", ")})`);
  await page.keyboard.press("Escape");
  await showView(page, "settings");
  check(await page.locator("#save-settings").isDisabled(), "read token: Save settings is disabled");
  // The server agrees: a write with the read token is refused.
  const w = await fetch(`${BASE}/api/v1/call/set_paused`, { method: "POST", headers: { Authorization: `Bearer ${READ}`, "Content-Type": "application/json" }, body: '{"paused":true}' });
  check(w.status === 403, `the server refuses a write with the read token (got ${w.status})`);
  await showView(page, "fleet");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  await noSideScroll(page, "fleet (read token) at 390 px");
  await page.screenshot({ path: join(OUT, "fleet-read-phone-light.png"), fullPage: true });
  log("read token: controls disabled, server refuses writes");

  // 8. A token rotated under the page: the next 401 leads back to sign-in with a message.
  await page.evaluate(() => localStorage.setItem("bitaxe.token", "rotated-away"));
  await page.reload();
  await page.locator("#signin").waitFor();
  check(/no longer accepted/.test(await page.locator("#sign-in-error").textContent()), "a kept token no longer valid: a clear message");
  log("a stale token leads back to sign-in with a message");

  const csp = await page.evaluate(() => window.__csp);
  check(csp.length === 0, `no Content-Security-Policy violations (got ${csp.join("; ")})`);
  check(problems.length === 0, `no page errors:\n${problems.join("\n")}`);
  await context.close();
}

let browser;
let failed = false;
try {
  await checkHeaders();
  browser = await launch();
  await run(browser);
  log(`passed; screenshots in ${OUT}`);
} catch (e) {
  failed = true;
  console.error(`[web-e2e] FAILED: ${e instanceof Error ? e.stack ?? e.message : e}`);
} finally {
  await browser?.close().catch(() => {});
}
process.exit(failed ? 1 : 0);
