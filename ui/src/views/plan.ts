// Plan: the weekly plan as a week grid you paint with a profile, for the fleet or a group; the
// profile when nothing is painted; exceptions (holidays); and the next 7 days as the engine's
// resolver sees the draft, before anything is saved.
import { api, errorText, type Config } from "../ipc";
import type { Ctx } from "../main";
import { capital, h, toast } from "../ui";
import { draftChanged, draftNote } from "./draft-note";
import type { Exception } from "../generated/Exception";
import type { PlanConfig } from "../generated/PlanConfig";
import { compact, expand } from "./plan-periods";
import { mark, sentence, under } from "./problems";
import { profileNames } from "./profile-names";
import { renderPreview } from "./preview-panel";
import { weekGrid } from "./week-grid";

type PlanShape = PlanConfig;
type ExceptionShape = Exception;
type Draftish = Config;

/** The plan a seed config means: day inside its day window, night otherwise. */
export function seedPlan(d: Draftish): PlanShape {
  return { default: "night", week: [{ from: d.global_day_settings.start_time, to: d.global_day_settings.end_time, profile: "day" }] };
}

/** Which plan the editor shows: `""` the fleet's, else a group's. */
let scope = "";

export async function renderPlan(root: HTMLElement, ctx: Ctx): Promise<void> {
  const draft = await ctx.store.draft();
  const readOnly = ctx.overview?.read_only != null;
  const groups = Object.keys(draft.groups ?? {}).sort();
  if (scope && !groups.includes(scope)) scope = "";
  const names = profileNames(draft.profiles);
  const msg = h("p", { class: "hint error", id: "plan-message", role: "alert" });
  const save = h("button", { class: "primary", id: "save-plan", disabled: readOnly || !ctx.store.dirty }, "Save plan");
  const previewBox = h("div", { id: "plan-preview" }, h("p", { class: "muted" }, "Working out the next 7 days…"));
  const redraw = () => void renderPlan(root, ctx);

  // The plan being edited: the fleet's (seed windows until painted) or a group's own.
  const current = (): PlanShape | null => (scope ? draft.groups?.[scope]?.plan ?? null : draft.plan ?? seedPlan(draft));
  const own = (): PlanShape => {
    if (scope) {
      const g = draft.groups?.[scope];
      if (!g) throw new Error(`no group ${scope}`);
      if (!g.plan) g.plan = JSON.parse(JSON.stringify(draft.plan ?? seedPlan(draft))) as PlanShape;
      return g.plan;
    }
    if (!draft.plan) draft.plan = seedPlan(draft);
    return draft.plan;
  };

  let checkSeq = 0;
  const changed = async () => {
    save.disabled = readOnly || !ctx.store.dirty;
    draftChanged();
    const mine = ++checkSeq;
    const problems = await api.checkConfig(draft).catch(() => []);
    if (mine !== checkSeq) return;
    mark(root, problems);
    const planProblems = [...under(problems, "plan"), ...under(problems, "groups"), ...problems];
    msg.textContent = planProblems[0] ? sentence(planProblems[0]) : "";
    save.disabled = readOnly || !ctx.store.dirty || problems.length > 0;
    if (problems.length === 0) void renderPreview(previewBox, draft);
  };

  // Fleet or group.
  const tabs = h("div", { class: "segmented", role: "group", "aria-label": "Plan of" });
  for (const [key, label] of [["", "Whole fleet"], ...groups.map((g) => [g, `Group ${g}`])] as [string, string][]) {
    const b = h("button", { "aria-pressed": String(key === scope), "data-scope": key }, label);
    b.addEventListener("click", () => { scope = key; redraw(); });
    tabs.append(b);
  }

  const plan = current();
  const body = h("div", { class: "plan-body" });
  if (!plan) {
    const give = h("button", { id: "own-plan", disabled: readOnly }, "Give this group its own plan");
    give.addEventListener("click", () => { own(); void changed(); redraw(); });
    body.append(h("p", {}, `Group ${scope} follows the fleet's plan.`), give);
  } else {
    const def = h("select", { id: "plan-default", "data-path": scope ? `groups.${scope}.plan.default` : "plan.default", disabled: readOnly },
      ...names.map((n) => h("option", { value: n, selected: n === plan.default }, capital(n)))) as HTMLSelectElement;
    def.addEventListener("change", () => { own().default = def.value; void changed(); redraw(); });
    const grid = weekGrid({
      periods: expand(plan.week), profiles: names, readOnly, emptyMeans: `${capital(plan.default)}, the plan's default`, emptyProfile: plan.default,
      onChange: (periods) => { own().week = compact(periods); void changed(); },
    });
    body.append(
      h("div", { class: "form-row" }, h("label", { class: "field" }, h("span", {}, "When nothing is painted"), def),
        scope ? removeOwn(draft, scope, readOnly, async () => { await changed(); redraw(); }) : null),
      h("p", { class: "hint" }, "Pick a profile, then click or drag across the days and hours. Where a price rule or an exception applies, it wins over the week."),
      grid, exceptionsPanel(plan, names, readOnly, () => { own(); void changed(); redraw(); }, scope));
  }
  save.addEventListener("click", async () => {
    try { await ctx.store.save(); toast("Plan saved"); await ctx.refresh(); redraw(); } catch (e) { msg.textContent = errorText(e); }
  });
  root.replaceChildren(h("h1", {}, "Plan"), draftNote(ctx.store, redraw),
    groups.length ? tabs : h("p", { class: "hint" }, "Groups of miners can have a plan of their own (add groups below)."),
    h("section", { class: "panel" }, h("h2", {}, scope ? `Group ${scope}` : "Weekly plan"), body, msg, h("div", { class: "buttons" }, save)),
    groupsPanel(draft, readOnly, async () => { await changed(); redraw(); }),
    h("section", { class: "panel" }, h("h2", {}, "Next 7 days"), h("p", { class: "hint" }, "What each miner would run, hour by hour, with this draft (hover for why). Nothing is saved or applied."), previewBox));
  await changed();
}

function removeOwn(draft: Draftish, group: string, readOnly: boolean, done: () => Promise<void>): HTMLElement {
  const b = h("button", { class: "small", disabled: readOnly }, "Follow the fleet's plan instead");
  b.addEventListener("click", async () => {
    const g = draft.groups?.[group];
    if (g) g.plan = null;
    await done();
  });
  return b;
}

function exceptionsPanel(plan: PlanShape, names: string[], readOnly: boolean, changed: () => void, scope: string): HTMLElement {
  const list = plan.exceptions ?? [];
  const base = scope ? `groups.${scope}.plan.exceptions` : "plan.exceptions";
  const rows = list.map((e, i) => {
    const del = h("button", { class: "small danger", disabled: readOnly }, "Remove");
    del.addEventListener("click", () => { list.splice(i, 1); plan.exceptions = list; changed(); });
    const when = e.date ? e.date : `${e.from ?? "?"} to ${e.to ?? "?"}`;
    return h("tr", { "data-path": `${base}[${i}]` }, h("td", {}, e.name ?? ""), h("td", { class: "num" }, when), h("td", {}, capital(e.profile)), h("td", { class: "right" }, del));
  });
  const name = h("input", { id: "exc-name", placeholder: "Holiday" }) as HTMLInputElement;
  const from = h("input", { id: "exc-from", type: "date" }) as HTMLInputElement;
  const to = h("input", { id: "exc-to", type: "date" }) as HTMLInputElement;
  const prof = h("select", { id: "exc-profile" }, ...names.map((n) => h("option", { value: n, selected: n === "off" }, capital(n)))) as HTMLSelectElement;
  const add = h("button", { id: "exc-add", disabled: readOnly }, "Add exception");
  const hint = h("span", { class: "hint error", role: "alert" });
  add.addEventListener("click", () => {
    if (!from.value) { hint.textContent = "Pick the first date."; return; }
    if (to.value && to.value < from.value) { hint.textContent = "The last date is before the first."; return; }
    const e: ExceptionShape = { profile: prof.value };
    if (name.value.trim()) e.name = name.value.trim();
    if (!to.value || to.value === from.value) e.date = from.value; else { e.from = from.value; e.to = to.value; }
    plan.exceptions = [...list, e];
    changed();
  });
  return h("div", { class: "exceptions" }, h("h3", {}, "Exceptions"),
    rows.length ? h("table", { class: "edit" }, h("thead", {}, h("tr", {}, ...["Name", "Dates", "Profile", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, ...rows))
      : h("p", { class: "muted" }, "None: every week runs as painted."),
    h("div", { class: "form-row" }, h("label", { class: "field" }, h("span", {}, "Name"), name), h("label", { class: "field" }, h("span", {}, "From"), from),
      h("label", { class: "field" }, h("span", {}, "To (optional)"), to), h("label", { class: "field" }, h("span", {}, "Runs"), prof), h("div", { class: "buttons" }, add)), hint);
}

function groupsPanel(draft: Config, readOnly: boolean, changed: () => Promise<void>): HTMLElement {
  const groups = draft.groups ?? {};
  const rows = Object.entries(groups).map(([g, v]) => {
    const boxes = draft.miners.map((m) => {
      const c = h("input", { type: "checkbox", checked: (v?.miners ?? []).includes(m.name), disabled: readOnly, "data-group": g, "data-miner": m.name }) as HTMLInputElement;
      c.addEventListener("change", async () => {
        // A miner is in at most one group.
        for (const other of Object.values(groups)) if (other) other.miners = other.miners.filter((x) => x !== m.name);
        if (c.checked) v?.miners.push(m.name);
        await changed();
      });
      return h("label", { class: "check" }, c, ` ${m.name}`);
    });
    const del = h("button", { class: "small danger", disabled: readOnly }, "Remove group");
    del.addEventListener("click", async () => { delete groups[g]; draft.groups = groups; await changed(); });
    return h("div", { class: "group-row", "data-path": `groups.${g}` }, h("strong", {}, g), h("div", { class: "checks" }, ...boxes), del);
  });
  const name = h("input", { id: "group-name", placeholder: "bedroom" }) as HTMLInputElement;
  const add = h("button", { id: "group-add", disabled: readOnly }, "Add group");
  const hint = h("span", { class: "hint error", role: "alert" });
  add.addEventListener("click", async () => {
    const n = name.value.trim();
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(n)) { hint.textContent = "Use 1 to 32 letters, digits, '-' or '_'."; return; }
    if (groups[n]) { hint.textContent = `A group named "${n}" already exists.`; return; }
    groups[n] = { miners: [] };
    draft.groups = groups;
    await changed();
  });
  return h("section", { class: "panel" }, h("h2", {}, "Groups"),
    rows.length ? h("div", { class: "groups" }, ...rows) : h("p", { class: "muted" }, "No groups: every miner follows the fleet's plan."),
    h("div", { class: "form-row" }, h("label", { class: "field" }, h("span", {}, "New group"), name), h("div", { class: "buttons" }, add)), hint);
}
