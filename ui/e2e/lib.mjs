// What the browser runs share: Chromium launched headless the way the tests need it, and the
// checks made on every view (shown, no horizontal page scroll at phone width).
import { chromium } from "playwright-core";

export const VIEWS = ["fleet", "miners", "profiles", "plan", "energy", "schedule", "history", "events", "settings"];
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

const started = Date.now();
export function log(msg) { console.log(`[web-e2e +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`); }
export function check(ok, msg) { if (!ok) throw new Error(`check failed: ${msg}`); }

/** Poll `fn` until it returns something truthy, or fail naming `what` and the last answer. */
export async function until(what, timeoutMs, fn) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/**
 * Headless Chromium, no network beyond what the page asks for (no sync, no component updates,
 * no QUIC). Playwright gives every launch a fresh temporary profile (its own --user-data-dir)
 * and removes it on close.
 */
export function launch(executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium") {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/** No horizontal scroll of the page itself at the current width; names what sticks out. */
export async function noSideScroll(page, what) {
  const m = await page.evaluate(() => {
    const iw = window.innerWidth;
    const out = [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > iw + 0.5)
      .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${typeof e.className === "string" && e.className ? "." + e.className.split(" ").join(".") : ""} (right ${Math.round(e.getBoundingClientRect().right)})`);
    return { sw: document.documentElement.scrollWidth, bw: document.body.scrollWidth, iw, out };
  });
  check(m.sw <= m.iw && m.bw <= m.iw, `${what}: no horizontal page scroll (scrollWidth ${m.sw}/${m.bw} > innerWidth ${m.iw}; sticking out: ${m.out.join(", ")})`);
}

/** Go to a view by its address and wait until it has drawn. */
export async function showView(page, view) {
  await page.evaluate((v) => { location.hash = `#${v}`; }, view);
  await page.waitForFunction((v) => document.querySelector(`.sidebar a[data-view="${v.split("/")[0]}"]`)?.classList.contains("active")
    && !document.querySelector("#view > p.muted")?.textContent?.startsWith("Loading"), view, { timeout: 15000 });
  await page.waitForTimeout(250);
}

/** Records Content-Security-Policy violations in `window.__csp` from the first script on. */
export async function watchCsp(context) {
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}
