// Energy: price rules ("Performance when at most 10 ct, Quiet up to 25, Off above") and the
// fleet's power budget, both checked as you type by the engine's rules, saved with the draft.
import { api, errorText, type Config } from "../ipc";
import type { Ctx } from "../main";
import { capital, h, toast } from "../ui";
import { draftChanged, draftNote } from "./draft-note";
import { mark, sentence } from "./problems";
import { profileNames } from "./profile-names";
import { tariffPanel } from "./tariff";

export interface PriceRuleShape { profile: string; max_price?: number | null; cheapest_hours?: number | null; groups?: string[] | null }
type Draft = Config & {
  price_rules?: PriceRuleShape[]; profiles?: Record<string, unknown>;
  groups?: Record<string, unknown>;
};

type RuleKind = "max" | "cheapest" | "else";

export function ruleKind(r: PriceRuleShape): RuleKind {
  return r.max_price != null ? "max" : r.cheapest_hours != null ? "cheapest" : "else";
}

export async function renderEnergy(root: HTMLElement, ctx: Ctx): Promise<void> {
  const draft = (await ctx.store.draft()) as Draft;
  const readOnly = ctx.overview?.read_only != null;
  const names = profileNames(draft.profiles);
  const currency = draft.tariff?.currency ?? "EUR";
  const msg = h("p", { class: "hint error", id: "energy-message", role: "alert" });
  const save = h("button", { class: "primary", id: "save-energy", disabled: true }, "Save");
  const redraw = () => void renderEnergy(root, ctx);
  let seq = 0;
  const changed = async () => {
    draftChanged();
    const mine = ++seq;
    const problems = await api.checkConfig(draft).catch(() => []);
    if (mine !== seq) return;
    mark(root, problems);
    msg.textContent = problems[0] ? sentence(problems[0]) : "";
    save.disabled = readOnly || !ctx.store.dirty || problems.length > 0;
  };
  save.addEventListener("click", async () => {
    try { await ctx.store.save(); toast("Saved"); await ctx.refresh(); redraw(); } catch (e) { msg.textContent = errorText(e); }
  });

  // Price rules, in order.
  const rules = draft.price_rules ?? [];
  const list = h("ol", { class: "rules", id: "price-rules" });
  const drawRules = () => {
    list.replaceChildren(...rules.map((r, i) => ruleRow(r, i)));
    if (rules.length === 0) list.append(h("li", { class: "muted" }, "No price rules: the plan alone decides."));
  };
  const ruleRow = (r: PriceRuleShape, i: number): HTMLElement => {
    const prof = h("select", { "aria-label": "Profile", "data-path": `price_rules[${i}].profile`, disabled: readOnly },
      ...names.map((n) => h("option", { value: n, selected: n === r.profile }, capital(n)))) as HTMLSelectElement;
    const kind = h("select", { "aria-label": "When", disabled: readOnly },
      h("option", { value: "max" }, "when the price is at most"), h("option", { value: "cheapest" }, "in the cheapest hours of each day:"),
      h("option", { value: "else" }, "otherwise (any price)")) as HTMLSelectElement;
    kind.value = ruleKind(r);
    const value = h("input", { type: "number", step: "any", "aria-label": "Value", disabled: readOnly || kind.value === "else",
      value: r.max_price ?? r.cheapest_hours ?? "", "data-path": `price_rules[${i}].${kind.value === "cheapest" ? "cheapest_hours" : "max_price"}` }) as HTMLInputElement;
    const unit = h("span", { class: "muted" }, kind.value === "max" ? `${currency}/kWh` : kind.value === "cheapest" ? "hours" : "");
    const sync = () => {
      r.profile = prof.value;
      delete r.max_price; delete r.cheapest_hours;
      if (kind.value === "max" && value.value !== "") r.max_price = Number(value.value);
      if (kind.value === "cheapest" && value.value !== "") r.cheapest_hours = Number(value.value);
      value.disabled = readOnly || kind.value === "else";
      unit.textContent = kind.value === "max" ? `${currency}/kWh` : kind.value === "cheapest" ? "hours" : "";
      void changed();
    };
    [prof, kind].forEach((x) => x.addEventListener("change", sync));
    value.addEventListener("input", sync);
    const up = h("button", { class: "small", disabled: readOnly || i === 0, "aria-label": "Move up" }, "↑");
    up.addEventListener("click", () => { [rules[i - 1], rules[i]] = [rules[i], rules[i - 1]]; drawRules(); void changed(); });
    const del = h("button", { class: "small danger", disabled: readOnly }, "Remove");
    del.addEventListener("click", () => { rules.splice(i, 1); drawRules(); void changed(); });
    return h("li", { class: "rule", "data-path": `price_rules[${i}]` }, prof, kind, value, unit, up, del);
  };
  drawRules();
  const add = h("button", { id: "rule-add", disabled: readOnly }, "Add a rule");
  add.addEventListener("click", () => {
    rules.push({ profile: rules.length ? "off" : "performance", max_price: rules.length ? null : 0.1 });
    if (!rules[rules.length - 1].max_price) delete rules[rules.length - 1].max_price;
    draft.price_rules = rules;
    drawRules();
    void changed();
  });

  // The power budget.
  const watts = h("input", { id: "budget-watts", type: "number", min: 0, step: 1, placeholder: "no cap", disabled: readOnly,
    value: draft.power_budget?.watts ?? "", "data-path": "power_budget.watts" }) as HTMLInputElement;
  const stagger = h("input", { id: "budget-stagger", type: "number", min: 0, max: 3600, step: 1, placeholder: "120", disabled: readOnly,
    value: draft.power_budget?.stagger_seconds ?? "", "data-path": "power_budget.stagger_seconds" }) as HTMLInputElement;
  const syncBudget = () => {
    // The engine's default stagger is 120 s.
    draft.power_budget = watts.value === "" ? null : { watts: Number(watts.value), stagger_seconds: stagger.value === "" ? 120 : Number(stagger.value) };
    void changed();
  };
  [watts, stagger].forEach((i) => i.addEventListener("input", syncBudget));
  // An engine without the power budget refuses the key: say so instead of offering it.
  const probe = { ...JSON.parse(JSON.stringify(draft)), power_budget: { watts: 1000 } } as Draft;
  const budgetKnown = !(await api.checkConfig(probe).catch(() => [])).some((p) => p.path === "power_budget" && /unknown|not a key|misspel/i.test(p.message));
  const use = ctx.overview?.status.budget;
  root.replaceChildren(h("h1", {}, "Energy"), draftNote(ctx.store, redraw),
    tariffPanel(draft, readOnly, () => void changed()),
    h("section", { class: "panel" }, h("h2", {}, "Price rules"),
      h("p", { class: "hint" }, "Tried from the top; the first that matches the current price picks the profile. They win over the weekly plan, exceptions win over them. Without a known price, the plan decides."),
      list, h("div", { class: "buttons" }, add)),
    !budgetKnown ? h("section", { class: "panel" }, h("h2", {}, "Power budget"), h("p", { class: "muted" }, "This build's engine has no power budget yet.")) : h("section", { class: "panel" }, h("h2", {}, "Power budget"),
      h("p", { class: "hint" }, "The most the whole fleet may draw (your circuit's limit). Over it, the least efficient miners step down first; changes are spread over the stagger window so the fleet never steps at the same second."),
      h("div", { class: "form-row" }, h("label", { class: "field" }, h("span", {}, "Cap (W)"), watts), h("label", { class: "field" }, h("span", {}, "Stagger changes over (s)"), stagger)),
      use ? h("p", { class: "muted", id: "budget-use" }, `Now: ${use.used.toFixed(0)} W of ${use.cap.toFixed(0)} W${use.limited.length ? `; held back: ${use.limited.join(", ")}` : ""}`) : null),
    msg, h("div", { class: "buttons" }, save));
  await changed();
}
