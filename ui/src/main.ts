// The app shell: top bar, navigation, live updates by event, and the view router.
import { api, errorText, features, onConfirmSafe, onEngineEvent, onWebLink, session, signOut, type Overview } from "./ipc";
import { signInScreen } from "./signin";
import { Store, type Scope } from "./store";
import { capital, confirmDialog, duration, h, hashrate, localHm, num, toast } from "./ui";
import { renderFleet } from "./views/fleet";
import { renderMiners } from "./views/miners";
import { renderSchedule } from "./views/schedule";
import { renderHistory } from "./views/history";
import { renderEvents } from "./views/events";
import { renderSettings } from "./views/settings";
import { renderProfiles } from "./views/profiles";
import { renderPlan } from "./views/plan";
import { renderEnergy } from "./views/energy";
import { startConnection } from "./views/connect";

export interface Ctx {
  /** The app's one store (overview, config draft, events). */
  store: Store;
  /** The shown view's subscriptions: dropped when the user leaves the view. */
  scope: Scope;
  /** The store's latest overview. */
  readonly overview: Overview | null;
  refresh: () => Promise<void>;
  /** The part of the address after the view name (`#miners/scan` -> `scan`). */
  sub: string;
}

const views: Record<string, (root: HTMLElement, ctx: Ctx) => void | Promise<void>> = {
  fleet: renderFleet, miners: renderMiners, profiles: renderProfiles, plan: renderPlan, energy: renderEnergy, schedule: renderSchedule,
  history: renderHistory, events: renderEvents, settings: renderSettings,
};

const store = new Store({
  overview: api.overview, getConfig: api.getConfig, saveConfig: api.saveConfig, listen: onEngineEvent,
});
const ctx: Ctx = { store, scope: store.scope(), get overview() { return store.overview; }, refresh, sub: "" };
let currentView = "";
// The top bar follows every new overview, as the views' totals do: one source for both.
store.watchOverview(renderTopbar);

async function refresh(): Promise<void> {
  try {
    await store.refresh();
  } catch (e) {
    toast(`Could not read the fleet status: ${errorText(e)}`, "error");
  }
}

function renderTopbar(o: Overview): void {
  const bar = document.getElementById("topbar");
  if (!bar) return;
  const s = o.status;
  const t = s.totals;
  let when = "";
  if (s.next_change) {
    const [at, next] = s.next_change;
    when = `until ${localHm(at)}, in ${duration(new Date(at).getTime() - Date.now())} (then ${next})`;
  }
  const profileText = s.emergency ? "Emergency stop: safe settings" : `${capital(s.profile)} ${when}`.trim();
  const pause = h("button", { id: "pause-toggle", role: "switch", "aria-checked": String(!s.paused), class: s.paused ? "switch off" : "switch on",
    disabled: o.read_only !== null, title: "Pause or resume schedule changes (safety keeps acting)" }, s.paused ? "Paused" : "Running");
  pause.addEventListener("click", async () => {
    try { await api.setPaused(!s.paused); await refresh(); } catch (e) { toast(errorText(e), "error"); }
  });
  const stats = h("div", { class: "totals" },
    h("div", { class: "stat" }, h("span", { class: "label" }, "Online"), h("span", { class: "num", id: "total-online" }, `${t.online}/${t.total}`)),
    h("div", { class: "stat" }, h("span", { class: "label" }, "Hashrate"), h("span", { class: "num" }, hashrate(t.hashrate))),
    h("div", { class: "stat" }, h("span", { class: "label" }, "Power"), num(t.power, 1, "W")),
    h("div", { class: "stat" }, h("span", { class: "label" }, "Efficiency"), num(t.efficiency, 2, "J/TH")));
  const profile = h("div", { class: `profile ${s.emergency ? "emergency" : s.profile}`, id: "profile-now" },
    h("span", { class: "label" }, s.source === "schedule" ? "Profile" : `Profile (${s.source})`), h("span", {}, profileText));
  const actions = h("div", { class: "bar-actions" }, pause);
  if (features.signOut) {
    // In a browser signed in with a token: which one, and the way out (the token is forgotten).
    const out = h("button", { id: "sign-out", title: "Forget the token on this browser" }, "Sign out");
    out.addEventListener("click", () => signOut());
    if (session()?.scope === "read") actions.append(h("span", { class: "scope-chip", id: "scope-chip", title: "Signed in with the read token: status only" }, "Read only"));
    actions.append(out);
  }
  if (!s.emergency && s.source === "manual" && o.read_only === null) {
    // A profile applied by hand holds until the plan's next change; this ends it now.
    const back = h("button", { id: "back-to-plan", title: "End the profile applied by hand: the plan decides again" }, "Back to the plan");
    back.addEventListener("click", async () => { await api.resume().catch((e) => toast(errorText(e), "error")); await refresh(); });
    actions.prepend(back);
  }
  if (s.emergency) {
    const resume = h("button", { class: "primary", id: "resume-btn" }, "Resume schedule");
    resume.addEventListener("click", async () => { await api.resume().catch((e) => toast(errorText(e), "error")); await refresh(); });
    actions.prepend(resume);
  }
  bar.replaceChildren(stats, profile, actions);
  const banner = document.getElementById("banner");
  if (banner) {
    banner.replaceChildren();
    if (connectionLost) banner.append(h("div", { class: "banner warn", id: "connection-lost" }, "Connection to the scheduler lost; retrying…"));
    if (o.read_only) banner.append(h("div", { class: "banner warn" }, `Read-only: ${o.read_only}. The app shows status only.`));
    if (o.demo) {
      const remove = h("button", { id: "remove-demo" }, "Remove demo");
      remove.addEventListener("click", async () => { await api.stopDemo().catch((e) => toast(errorText(e), "error")); await refresh(); void show(currentView); });
      banner.append(h("div", { class: "banner demo" }, "Demo fleet: simulated miners on this computer. ", remove));
    }
  }
}

async function show(address: string): Promise<void> {
  const [view, sub] = address.split("/");
  const name = views[view] ? view : "fleet";
  ctx.sub = sub ?? "";
  currentView = name;
  ctx.scope.drop();
  ctx.scope = store.scope();
  document.body.classList.remove("nav-open");
  document.querySelector(".nav-toggle")?.setAttribute("aria-expanded", "false");
  const here = document.querySelector<HTMLElement>(`.sidebar a[data-view="${name}"] .nav-label`);
  const title = document.getElementById("nav-current");
  if (title) title.textContent = here?.textContent ?? "";
  document.querySelectorAll<HTMLAnchorElement>(".sidebar a").forEach((a) => {
    a.classList.toggle("active", a.dataset.view === name);
    if (a.dataset.view === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  const root = document.getElementById("view");
  if (!root) return;
  root.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  // A new view starts at its top, whatever the last one was scrolled to.
  for (const el of [document.scrollingElement, document.querySelector(".main"), root]) el?.scrollTo?.(0, 0);
  try {
    await views[name](root, ctx);
  } catch (e) {
    root.replaceChildren(h("div", { class: "error-state" }, h("h2", {}, "Something went wrong"), h("p", {}, errorText(e))));
  }
}

let pending = 0;
function scheduleRefresh(): void {
  if (pending) return;
  pending = window.setTimeout(async () => { pending = 0; await refresh(); }, 300);
}

let connectionLost = false;

/** The phone layout's menu button opens and closes the navigation. */
function navToggle(): void {
  const toggle = document.querySelector<HTMLButtonElement>(".nav-toggle");
  toggle?.addEventListener("click", () => {
    const open = document.body.classList.toggle("nav-open");
    toggle.setAttribute("aria-expanded", String(open));
  });
}

async function main(): Promise<void> {
  navToggle();
  if (features.signOut) {
    // A browser: nothing of the fleet shows before a token the scheduler accepts.
    await signInScreen();
    onWebLink((c) => {
      const was = connectionLost;
      connectionLost = c === "lost";
      if (store.overview) renderTopbar(store.overview);
      // Back after a drop: the events missed beyond the server's replay are read as a new overview.
      if (was && !connectionLost) void refresh();
    });
  }
  await refresh();
  window.addEventListener("hashchange", () => void show(location.hash.slice(1)));
  store.subscribe((e) => { if (e.kind !== "transition_step") scheduleRefresh(); });
  await store.start();
  const confirmSafe = async () => {
    if (!(await api.takePendingSafe())) return;
    const safe = ctx.overview;
    const n = safe?.status.totals.total ?? 0;
    if (await confirmDialog("Safe settings for all", `Every enabled miner (${n}) goes to the safe settings at once, and stays there until you resume the schedule.`, "Apply safe settings")) {
      await api.emergencyStop().catch((err) => toast(errorText(err), "error"));
      await refresh();
    }
  };
  await onConfirmSafe(confirmSafe);
  if (features.attach) await startConnection(ctx);
  void confirmSafe();
  await show(location.hash.slice(1) || "fleet");
}

void main();
