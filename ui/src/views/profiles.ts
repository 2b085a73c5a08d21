// Profiles: day and night (the seed's two), the presets, your own, and Off. Each card shows
// what the profile runs fleet-wide (as the engine resolves it for the draft); edit one in a
// drawer, checked as you type by the engine's own rules; make a new one from any other.
import type { ProfileConfig } from "../generated/ProfileConfig";
import { api, errorText, type Config, type FanSpec, type ProfileRow } from "../ipc";
import type { Ctx } from "../main";
import { capital, drawer, h, settingsText, toast } from "../ui";
import { draftChanged, draftNote } from "./draft-note";
import { mark, sentence, under } from "./problems";
import { profileColour } from "./profile-colours";
import { nameProblem } from "./profile-names";

type ProfileEntry = ProfileConfig;
type Draft = Config;

const KIND_WORDS: Record<string, string> = {
  seed: "From your day/night settings", preset: "Preset", own: "Your profile", off: "Pauses mining",
};

function fanText(f: FanSpec | null | undefined): string {
  if (!f) return "fan as the miner has it";
  return f.mode === "auto" ? `auto fan, aiming at ${f.target_temp} °C` : `fan fixed at ${f.speed} %`;
}

export async function renderProfiles(root: HTMLElement, ctx: Ctx): Promise<void> {
  const draft = (await ctx.store.draft()) as Draft;
  const readOnly = ctx.overview?.read_only != null;
  const rows = await api.profileSpecs(draft);
  const msg = h("p", { class: "hint error", id: "profiles-message", role: "alert" });
  const save = h("button", { class: "primary", id: "save-profiles", disabled: readOnly || !ctx.store.dirty }, "Save profiles");
  const redraw = () => void renderProfiles(root, ctx);
  save.addEventListener("click", async () => {
    try { await ctx.store.save(); toast("Profiles saved"); await ctx.refresh(); redraw(); } catch (e) { msg.textContent = errorText(e); }
  });
  const cards = rows.map((r) => {
    const edit = h("button", { class: "small", "data-edit-profile": r.name, disabled: readOnly || r.kind === "off" }, "Edit…");
    edit.addEventListener("click", () => editProfile(ctx, draft, r, rows.map((x) => x.name), edit, redraw));
    const copy = h("button", { class: "small", "data-copy-profile": r.name, disabled: readOnly || r.kind === "off" }, "Copy…");
    copy.addEventListener("click", () => editProfile(ctx, draft, { ...r, name: "", kind: "own", customised: false }, rows.map((x) => x.name), copy, redraw));
    return h("article", { class: "profile-card", "data-profile": r.name, "data-path": r.kind === "seed" ? `global_${r.name}_settings` : `profiles.${r.name}` },
      h("header", {}, h("span", { class: "swatch", style: `background:${profileColour(r.name)}` }), h("h3", {}, capital(r.name)),
        h("span", { class: "muted" }, KIND_WORDS[r.kind] + (r.customised ? " (changed)" : ""))),
      r.off ? h("p", {}, "Pauses mining where the firmware can; elsewhere the lowest safe settings. Mining resumes when the plan leaves it.")
        : h("p", { class: "num" }, settingsText(r.voltage, r.frequency)),
      r.off ? null : h("p", { class: "muted" }, `${fanText(r.fan)}; display ${r.display_timeout == null ? "as it is" : r.display_timeout === 0 ? "always on" : `dark after ${r.display_timeout} min`}`),
      r.kind === "off" ? null : h("div", { class: "buttons" }, edit, copy));
  });
  root.replaceChildren(h("h1", {}, "Profiles"), draftNote(ctx.store, redraw),
    h("p", { class: "lead" }, "A profile is what a miner runs: voltage and frequency, and optionally its fan and display. The plan says when each one runs."),
    h("div", { class: "profile-cards" }, ...cards), msg, h("div", { class: "buttons" }, save));
  const problems = await api.checkConfig(draft).catch(() => []);
  mark(root, problems);
  const mine = [...under(problems, "profiles"), ...under(problems, "global_day_settings"), ...under(problems, "global_night_settings")];
  msg.textContent = mine[0] ? sentence(mine[0]) : "";
  save.disabled = readOnly || !ctx.store.dirty || problems.length > 0;
}

/** Edit (or, with an empty name, create) a profile in a drawer. */
function editProfile(ctx: Ctx, draft: Draft, r: ProfileRow, taken: string[], opener: HTMLElement, done: () => void): void {
  const lim = ctx.overview?.limits;
  const creating = r.name === "";
  const name = h("input", { id: "profile-name", value: r.name, disabled: !creating, autocomplete: "off", placeholder: "bedroom-night" }) as HTMLInputElement;
  const volt = h("input", { id: "profile-voltage", type: "number", step: 5, value: r.voltage, min: lim?.min_voltage ?? 1000, max: lim?.max_voltage ?? 1300 }) as HTMLInputElement;
  const freq = h("input", { id: "profile-frequency", type: "number", step: 5, value: r.frequency, min: lim?.min_frequency ?? 100, max: lim?.max_frequency ?? 800 }) as HTMLInputElement;
  const fanMode = h("select", { id: "profile-fan" }, h("option", { value: "" }, "As the miner has it"), h("option", { value: "auto" }, "Automatic, aiming at a temperature"),
    h("option", { value: "manual" }, "Fixed speed")) as HTMLSelectElement;
  fanMode.value = r.fan?.mode ?? "";
  const fanValue = h("input", { id: "profile-fan-value", type: "number", step: 1,
    value: r.fan ? (r.fan.mode === "auto" ? r.fan.target_temp : r.fan.speed) : "" }) as HTMLInputElement;
  const display = h("input", { id: "profile-display", type: "number", min: 0, step: 1, value: r.display_timeout ?? "", placeholder: "as it is" }) as HTMLInputElement;
  const msg = h("p", { class: "hint error", id: "profile-message", role: "alert" });
  const save = h("button", { class: "primary", id: "profile-apply" }, creating ? "Add profile" : "Keep changes");
  const reset = r.kind === "preset" && r.customised ? h("button", { id: "profile-reset" }, "Back to the preset") : null;
  const fanLabel = h("span", {}, "");
  const syncFan = () => {
    fanValue.disabled = fanMode.value === "";
    fanLabel.textContent = fanMode.value === "manual" ? "Fan speed (%)" : "Target temperature (°C)";
  };
  syncFan();
  const entry = (): ProfileEntry => {
    const e: ProfileEntry = { voltage: Number(volt.value), frequency: Number(freq.value) };
    if (fanMode.value === "auto") e.fan = { mode: "auto", target_temp: Number(fanValue.value) };
    if (fanMode.value === "manual") e.fan = { mode: "manual", speed: Number(fanValue.value) };
    if (display.value !== "") e.display_timeout = Number(display.value);
    return e;
  };
  /** The draft with this edit, to check (a copy: the real draft changes only on Keep). */
  const apply = (into: Draft) => {
    const n = creating ? name.value.trim() : r.name;
    const e = entry();
    if (r.kind === "seed") {
      // The seed's two live in its day/night settings (voltage and frequency only).
      const g = n === "day" ? into.global_day_settings : into.global_night_settings;
      g.voltage = e.voltage ?? g.voltage;
      g.frequency = e.frequency ?? g.frequency;
    } else {
      into.profiles = { ...(into.profiles ?? {}), [n]: e };
    }
  };
  let seq = 0;
  const check = async (): Promise<boolean> => {
    const mine = ++seq;
    let p = creating ? nameProblem(name.value.trim(), taken) : "";
    if (!p && fanMode.value && fanValue.value === "") p = fanMode.value === "auto" ? "Give the target temperature." : "Give the fan speed.";
    if (!p) {
      const copy = JSON.parse(JSON.stringify(draft)) as Draft;
      apply(copy);
      const problems = await api.checkConfig(copy).catch(() => []);
      const n = creating ? name.value.trim() : r.name;
      const about = [...under(problems, `profiles.${n}`), ...under(problems, `global_${n}_settings`)];
      p = about[0] ? about[0].message : problems[0] ? sentence(problems[0]) : "";
    }
    if (mine !== seq) return false;
    msg.textContent = p;
    save.disabled = p !== "";
    return p === "";
  };
  [name, volt, freq, fanValue, display].forEach((i) => i.addEventListener("input", () => void check()));
  fanMode.addEventListener("change", () => { syncFan(); void check(); });
  const field = (label: string | HTMLElement, i: HTMLElement) => h("label", { class: "field" }, typeof label === "string" ? h("span", {}, label) : label, i);
  const body = h("div", { class: "drawer-body" },
    creating ? field("Name", name) : null,
    h("fieldset", {}, h("legend", {}, "Settings"), field("Voltage (mV)", volt), field("Frequency (MHz)", freq)),
    r.kind === "seed" ? h("p", { class: "hint" }, "Day and night keep the seed's form (voltage and frequency), so older releases still read the file. For a fan or display setting, copy it into a profile of your own.")
      : h("fieldset", {}, h("legend", {}, "Fan"), field("Fan", fanMode), field(fanLabel, fanValue)),
    r.kind === "seed" ? null : field("Display dark after (min, 0 = always on)", display),
    h("p", { class: "hint" }, lim ? `Limits: ${lim.min_voltage}–${lim.max_voltage} mV, ${lim.min_frequency}–${lim.max_frequency} MHz. Per-miner overrides are in each miner's drawer.` : ""),
    msg, h("div", { class: "actions" }, reset ?? h("span"), h("div", { class: "buttons" }, save)));
  const d = drawer(creating ? "New profile" : `Edit ${capital(r.name)}`, body, opener);
  ctx.scope.add(d.close);
  save.addEventListener("click", async () => {
    if (!(await check())) return;
    apply(draft);
    draftChanged();
    d.close();
    done();
  });
  reset?.addEventListener("click", () => {
    if (draft.profiles) delete draft.profiles[r.name];
    d.close();
    done();
  });
  void check();
}
