// Schedule: day and night on a 24-hour timeline, presets, limits checked as you type, preview.
import { api, errorText, type Config, type PeriodSettings } from "../ipc";
import type { Ctx } from "../main";
import { capital, confirmDialog, h, toast } from "../ui";
import { draftChanged, draftNote } from "./draft-note";
import { mark, sentence } from "./problems";

const PRESETS: [string, [number, number], [number, number]][] = [
  ["Quiet home", [1100, 400], [1200, 500]],
  ["Maximum efficiency", [1150, 450], [1250, 575]],
  ["Maximum performance", [1200, 500], [1300, 600]],
];

function minutes(t: string): number {
  const [hh, mm] = t.split(":").map(Number);
  return hh * 60 + mm;
}

function timeline(day: PeriodSettings): HTMLElement {
  const bar = h("div", { class: "timeline", role: "img", "aria-label": `Day ${day.start_time} to ${day.end_time}, night the rest` });
  const s = minutes(day.start_time), e = minutes(day.end_time);
  const seg = (from: number, to: number, cls: string) => bar.append(h("div", { class: `seg ${cls}`, style: `left:${(from / 1440) * 100}%;width:${((to - from) / 1440) * 100}%` }));
  seg(0, 1440, "night");
  if (s < e) seg(s, e, "day");
  else if (s > e) { seg(s, 1440, "day"); seg(0, e, "day"); }
  const ticks = h("div", { class: "ticks" }, ...[0, 6, 12, 18, 24].map((x) => h("span", { style: `left:${(x / 24) * 100}%` }, `${String(x).padStart(2, "0")}:00`)));
  return h("div", { class: "timeline-wrap" }, bar, ticks);
}

export async function renderSchedule(root: HTMLElement, ctx: Ctx): Promise<void> {
  // The store's draft: edits made here and not saved are still here after visiting another view.
  const draft: Config = await ctx.store.draft();
  const lim = ctx.overview?.limits;
  const msg = h("p", { class: "hint error", id: "schedule-message", role: "alert" });
  const tl = h("div", {}, timeline(draft.global_day_settings));
  const save = h("button", { class: "primary", id: "save-schedule" }, "Save schedule");
  const inputs: Record<string, HTMLInputElement> = {};
  const validate = async () => {
    let p = "";
    for (const which of ["day", "night"] as const) {
      const v = Number(inputs[`${which}-voltage`].value), f = Number(inputs[`${which}-frequency`].value);
      if (lim && (v < lim.min_voltage || v > lim.max_voltage)) p = `${capital(which)} voltage ${v} mV is outside the limits ${lim.min_voltage}–${lim.max_voltage} mV.`;
      if (lim && (f < lim.min_frequency || f > lim.max_frequency)) p = `${capital(which)} frequency ${f} MHz is outside the limits ${lim.min_frequency}–${lim.max_frequency} MHz.`;
    }
    const problems = await api.checkConfig(draft).catch(() => []);
    mark(root, problems);
    if (!p && problems[0]) p = sentence(problems[0]);
    msg.textContent = p;
    save.disabled = p !== "" || ctx.overview?.read_only != null;
    draftChanged();
    return p === "";
  };
  const period = (which: "day" | "night") => {
    const p = which === "day" ? draft.global_day_settings : draft.global_night_settings;
    const mk = (key: keyof PeriodSettings, type: string, extra: Record<string, string | number> = {}) => {
      const i = h("input", { id: `${which}-${key.replace("_time", "")}`, type, value: String(p[key]), "data-path": `global_${which}_settings.${key}`, ...extra }) as HTMLInputElement;
      inputs[`${which}-${key.replace("_time", "")}`] = i;
      i.addEventListener("input", () => {
        (p as unknown as Record<string, unknown>)[key] = type === "number" ? Number(i.value) : i.value;
        if (which === "day" && key.endsWith("_time")) {
          draft.global_night_settings.start_time = draft.global_day_settings.end_time;
          draft.global_night_settings.end_time = draft.global_day_settings.start_time;
          tl.replaceChildren(timeline(draft.global_day_settings));
        }
        void validate();
      });
      return i;
    };
    const times = which === "day"
      ? [h("label", { class: "field" }, h("span", {}, "Starts"), mk("start_time", "time")), h("label", { class: "field" }, h("span", {}, "Ends"), mk("end_time", "time"))]
      : [h("p", { class: "hint" }, "Night runs whenever day does not.")];
    const applyNow = h("button", { id: `apply-${which}` }, `Apply ${which} now`);
    applyNow.addEventListener("click", async () => {
      const n = ctx.overview?.status.totals.total ?? 0;
      const steps = draft.smooth_transition ? draft.transition_steps : 1;
      const ok = await confirmDialog(`Apply ${which} now`, `Apply ${which} to ${n} miner(s): ${p.voltage} mV @ ${p.frequency} MHz, in ${steps} step(s) over ${Math.round((steps - 1) * draft.transition_delay)} s. It holds until the next scheduled change.`);
      if (!ok) return;
      try { await api.apply(which); toast(`Applying ${which}`); await ctx.refresh(); } catch (e) { toast(errorText(e), "error"); }
    });
    return h("section", { class: `panel period ${which}` }, h("h2", {}, capital(which)),
      h("div", { class: "form-row" }, ...times,
        h("label", { class: "field" }, h("span", {}, "Voltage (mV)"), mk("voltage", "number", { step: 5, min: lim?.min_voltage ?? 1000, max: lim?.max_voltage ?? 1300 })),
        h("label", { class: "field" }, h("span", {}, "Frequency (MHz)"), mk("frequency", "number", { step: 5, min: lim?.min_frequency ?? 100, max: lim?.max_frequency ?? 600 }))),
      applyNow);
  };
  const presets = h("div", { class: "presets" }, ...PRESETS.map(([name, d, n]) => {
    const b = h("button", { class: "preset" }, h("strong", {}, name), h("span", {}, `${d[0]}/${d[1]} by day · ${n[0]}/${n[1]} by night`));
    b.addEventListener("click", () => {
      inputs["day-voltage"].value = String(d[0]); inputs["day-frequency"].value = String(d[1]);
      inputs["night-voltage"].value = String(n[0]); inputs["night-frequency"].value = String(n[1]);
      Object.assign(draft.global_day_settings, { voltage: d[0], frequency: d[1] });
      Object.assign(draft.global_night_settings, { voltage: n[0], frequency: n[1] });
      void validate();
    });
    return b;
  }));
  save.addEventListener("click", async () => {
    if (!(await validate())) return;
    try { await ctx.store.save(); toast("Schedule saved"); await ctx.refresh(); } catch (e) { msg.textContent = errorText(e); }
  });
  const at = h("input", { id: "preview-at", type: "datetime-local" }) as HTMLInputElement;
  const d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  at.value = d.toISOString().slice(0, 16);
  const preview = h("table", { class: "preview", id: "preview" });
  const showPreview = async () => {
    try {
      const rows = await api.plan(at.value, draft);
      preview.replaceChildren(h("tr", {}, h("th", {}, "Miner"), h("th", {}, "Profile"), h("th", { class: "right" }, "Settings")),
        ...rows.map((r) => h("tr", {}, h("td", {}, r.miner + (r.enabled ? "" : " (disabled)")), h("td", {}, capital(r.target.profile)), h("td", { class: "right num" }, `${r.target.settings.voltage} mV @ ${r.target.settings.frequency} MHz`))));
    } catch (e) { preview.replaceChildren(h("tr", {}, h("td", {}, errorText(e)))); }
  };
  at.addEventListener("change", showPreview);
  root.replaceChildren(h("h1", {}, "Schedule"), draftNote(ctx.store, () => void renderSchedule(root, ctx)),
    draft.plan ? h("p", { class: "banner warn", id: "plan-decides" }, "A weekly plan decides when each profile runs (see Plan); the day window below applies only without one. Day and night settings still apply whenever the plan runs them.") : "", tl, h("h2", {}, "Presets"), presets, h("div", { class: "periods" }, period("day"), period("night")),
    msg, h("div", { class: "buttons" }, save),
    h("section", { class: "panel" }, h("h2", {}, "Preview"), h("label", { class: "field inline" }, h("span", {}, "At"), at), preview),
    h("p", { class: "hint" }, "Per-miner overrides are on the Miners page."));
  await validate();
  await showPreview();
}
