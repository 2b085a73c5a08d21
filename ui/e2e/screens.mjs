// Every view with the mock's full data (`vite build --mode mock`: canned answers for every
// command, ui/mock/) in headless Chromium at 390 px (a phone) and 1280 px, light and dark: a
// screenshot of each, and no horizontal page scroll on the phone. The real-daemon run
// (web.mjs) proves the wiring; this one shows the layouts with every table and chart filled.
// Usage: node e2e/screens.mjs [dist-mock dir] [out dir]   (build first: npx vite build --mode mock)
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { tmpdir } from "node:os";
import { check, DESKTOP, launch, log, noSideScroll, PHONE, showView, VIEWS, watchCsp } from "./lib.mjs";

const ROOT = resolve(process.argv[2] ?? "dist-mock");
const OUT = resolve(process.argv[3] ?? join(tmpdir(), "bitaxe-web-screens"));
mkdirSync(OUT, { recursive: true });
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://127.0.0.1").pathname)).replace(/^(\.\.[/\\])+/, "");
  const file = join(ROOT, path === "/" ? "index.html" : path);
  try {
    if (!file.startsWith(ROOT) || !statSync(file).isFile()) throw new Error("no");
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}/`;

let browser;
let failed = false;
try {
  browser = await launch();
  for (const scheme of ["light", "dark"]) {
    const context = await browser.newContext({ viewport: DESKTOP, colorScheme: scheme });
    await watchCsp(context);
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(base);
    for (const [label, size] of [["phone", PHONE], ["desktop", DESKTOP]]) {
      await page.setViewportSize(size);
      for (const v of VIEWS) {
        await showView(page, v);
        check(await page.locator("#view .error-state").count() === 0, `${v} (${label}, ${scheme}) drew without an error`);
        await page.screenshot({ path: join(OUT, `mock-${v}-${label}-${scheme}.png`), fullPage: true });
        if (label === "phone") await noSideScroll(page, `${v} at 390 px (${scheme}, mock data)`);
      }
    }
    check(errors.length === 0, `no page errors (${errors.join("; ")})`);
    await context.close();
  }
  log(`every view with the mock data at 390 and 1280 px, light and dark; screenshots in ${OUT}`);
} catch (e) {
  failed = true;
  console.error(`[web-e2e] FAILED: ${e instanceof Error ? e.stack ?? e.message : e}`);
} finally {
  await browser?.close().catch(() => {});
  server.close();
}
process.exit(failed ? 1 : 0);
