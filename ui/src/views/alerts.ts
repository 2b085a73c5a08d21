// Settings' "Alerts to your phone": the engine's own alert channels (ntfy, Telegram, webhook,
// e-mail), which alert kinds go out, the quiet hours, and a "Send test" that sends the draft's
// channels a test message. Everything edits the store's config draft; "Save alerts" saves it,
// and a running engine picks the change up.
import { api, errorText, type AlertKind, type AlertsConfig, type ChannelConfig, type Config } from "../ipc";
import type { Ctx } from "../main";
import { h, toast } from "../ui";
import { draftChanged } from "./draft-note";
import { blankChannel, CHANNEL_TYPES, channelLabel, channelSummary, DEFAULT_URGENT, enabledKinds, splitList, withKind, type ChannelType } from "./alerts-model";

const KINDS: [AlertKind, string][] = [
  ["offline", "Offline and back online"], ["overheated", "Overheated"], ["stalled", "Stopped hashing"],
  ["transition_failed", "A settings change failed"], ["gave_up", "A miner would not take its settings"],
  ["ceiling_lowered", "A profile's ceiling lowered"], ["identity_changed", "A different device at a miner's address"],
  ["throttled", "Throttled (off by default)"], ["drift", "Settings changed by the firmware (off by default)"],
];

function alertsOf(draft: Config): AlertsConfig {
  return draft.alerts ?? { channels: [] };
}

function setAlerts(draft: Config, a: AlertsConfig): void {
  const empty = a.channels.length === 0 && a.kinds == null && a.quiet_hours == null;
  if (empty) delete draft.alerts; else draft.alerts = a;
  draftChanged();
}

type Field = [key: string, label: string, kind: "text" | "password" | "select" | "list", hint?: string, options?: string[]];

const FIELDS: Record<ChannelType, Field[]> = {
  ntfy: [["url", "Topic URL", "text", "https://ntfy.sh/your-topic or your own server"], ["token", "Access token (optional)", "password"], ["priority", "Priority 1-5 (optional)", "text"]],
  telegram: [["bot_token", "Bot token", "password", "from @BotFather"], ["chat_id", "Chat id", "text", "a number or @channel"], ["api_url", "Bot API URL (optional)", "text", "https://api.telegram.org"]],
  webhook: [["url", "URL", "text"], ["template", "Body", "select", undefined, ["json", "discord", "slack"]]],
  email: [["smtp_url", "SMTP server", "text", "smtp+starttls://host:587, smtps://host:465, smtp://host:25 (local relay)"], ["username", "User (optional)", "text"], ["password", "Password (optional)", "password"], ["from", "From", "text", "Bitaxe <bitaxe@example.invalid>"], ["to", "To (comma-separated)", "list"]],
};

/** A form for one channel; `done` gets the edited channel, or null on cancel. */
function channelForm(start: ChannelConfig, done: (c: ChannelConfig | null) => void): HTMLElement {
  const c = structuredClone(start) as Record<string, unknown>;
  const rows: HTMLElement[] = [];
  const name = h("input", { type: "text", value: String(c.name ?? ""), placeholder: "(optional)", "data-field": "name" }) as HTMLInputElement;
  rows.push(h("label", { class: "field" }, h("span", {}, "Name"), name));
  const inputs: [Field, HTMLInputElement | HTMLSelectElement][] = [];
  for (const f of FIELDS[start.type]) {
    const [key, label, kind, hint, options] = f;
    const value = c[key] == null ? "" : Array.isArray(c[key]) ? (c[key] as string[]).join(", ") : String(c[key]);
    const input = kind === "select"
      ? h("select", { "data-field": key }, ...(options ?? []).map((o) => h("option", { value: o, selected: o === (value || options?.[0]) }, o)))
      : h("input", { type: kind === "password" ? "password" : "text", value, placeholder: hint, autocomplete: "off", "data-field": key });
    inputs.push([f, input as HTMLInputElement | HTMLSelectElement]);
    rows.push(h("label", { class: "field" }, h("span", {}, label), input));
  }
  const ok = h("button", { class: "primary small", "data-action": "keep-channel" }, "Keep");
  const cancel = h("button", { class: "small" }, "Cancel");
  ok.addEventListener("click", () => {
    if (name.value.trim()) c.name = name.value.trim(); else delete c.name;
    for (const [[key, , kind], input] of inputs) {
      const v = input.value.trim();
      if (kind === "list") c[key] = splitList(v);
      else if (key === "priority") { if (v) c[key] = Number(v); else delete c[key]; }
      else if (v === "" && key !== "url" && key !== "smtp_url" && key !== "from" && key !== "bot_token" && key !== "chat_id") delete c[key];
      else c[key] = v;
    }
    done(c as ChannelConfig);
  });
  cancel.addEventListener("click", () => done(null));
  return h("div", { class: "channel-form panel" }, ...rows, h("div", { class: "buttons" }, ok, cancel));
}

/** The section, drawn from and editing `draft`. */
export function alertsSection(draft: Config, ctx: Ctx): HTMLElement {
  const section = h("section", { class: "panel", id: "alerts-section" });
  const readOnly = ctx.overview?.read_only != null;
  const draw = (editing: number | null = null, adding: ChannelConfig | null = null) => {
    const a = alertsOf(draft);
    const list = h("ul", { class: "channels", id: "alert-channels" });
    a.channels.forEach((c, i) => {
      if (editing === i) {
        list.append(h("li", {}, channelForm(c, (next) => {
          if (next) { a.channels[i] = next; setAlerts(draft, a); }
          draw();
        })));
        return;
      }
      const edit = h("button", { class: "small", "data-action": "edit-channel" }, "Edit");
      const remove = h("button", { class: "small", "data-action": "remove-channel" }, "Remove");
      edit.addEventListener("click", () => draw(i));
      remove.addEventListener("click", () => { a.channels.splice(i, 1); setAlerts(draft, a); draw(); });
      list.append(h("li", { "data-channel": channelLabel(c) }, h("strong", {}, channelLabel(c)), " ", h("span", { class: "hint" }, channelSummary(c)), " ", edit, remove));
    });
    if (a.channels.length === 0) list.append(h("li", { class: "hint" }, "No channels: the engine sends no alerts (desktop notifications are set below)."));
    if (adding) {
      list.append(h("li", {}, channelForm(adding, (next) => {
        if (next) { a.channels.push(next); setAlerts(draft, a); }
        draw();
      })));
    }
    const type = h("select", { id: "new-channel-type" }, ...CHANNEL_TYPES.map(([t, label]) => h("option", { value: t }, label))) as HTMLSelectElement;
    const add = h("button", { id: "add-channel" }, "Add channel");
    add.addEventListener("click", () => draw(null, blankChannel(type.value as ChannelType)));

    const kinds = enabledKinds(a);
    const boxes = KINDS.map(([k, label]) => {
      const c = h("input", { type: "checkbox", checked: kinds.includes(k), "data-alert-kind": k }) as HTMLInputElement;
      c.addEventListener("change", () => { setAlerts(draft, withKind(alertsOf(draft), k, c.checked)); });
      return h("label", { class: "check" }, c, ` ${label}`);
    });

    const q = a.quiet_hours;
    const quiet = h("input", { type: "checkbox", checked: q != null, id: "alert-quiet" }) as HTMLInputElement;
    const from = h("input", { type: "time", value: q?.from ?? "22:00", id: "alert-quiet-from" }) as HTMLInputElement;
    const to = h("input", { type: "time", value: q?.to ?? "07:00", id: "alert-quiet-to" }) as HTMLInputElement;
    const urgent = h("input", { type: "checkbox", checked: q?.except == null || q.except.length > 0 }) as HTMLInputElement;
    const saveQuiet = () => {
      const cur = alertsOf(draft);
      if (!quiet.checked) delete cur.quiet_hours;
      else cur.quiet_hours = { from: from.value, to: to.value, ...(urgent.checked ? {} : { except: [] }) };
      setAlerts(draft, cur);
    };
    [quiet, from, to, urgent].forEach((i) => i.addEventListener("change", saveQuiet));

    const results = h("ul", { class: "test-results", id: "alert-test-results", role: "status" });
    const test = h("button", { id: "test-alerts", disabled: a.channels.length === 0 }, "Send test");
    test.addEventListener("click", async () => {
      test.disabled = true;
      results.replaceChildren(h("li", { class: "hint" }, "Sending…"));
      try {
        const reports = await api.testAlerts(draft);
        results.replaceChildren(...reports.map((r) =>
          h("li", { class: r.ok ? "ok" : "error", "data-ok": r.ok }, `${r.channel}: ${r.ok ? "ok" : `failed: ${r.error ?? "unknown error"}`}`)));
      } catch (e) {
        results.replaceChildren(h("li", { class: "error" }, errorText(e)));
      } finally {
        test.disabled = false;
      }
    });
    const save = h("button", { class: "primary", id: "save-alerts", disabled: readOnly }, "Save alerts");
    save.addEventListener("click", async () => {
      try { await ctx.store.save(); toast("Alerts saved"); } catch (e) { toast(errorText(e), "error"); }
    });

    section.replaceChildren(
      h("h2", {}, "Alerts to your phone"),
      h("p", { class: "hint" }, "Sent by the scheduler itself, so they arrive with no desktop running: one per episode and one when it ends."),
      list,
      h("div", { class: "form-row" }, type, add),
      h("h3", {}, "What is sent"),
      h("div", { class: "checks" }, ...boxes),
      h("div", { class: "form-row" }, h("label", { class: "check" }, quiet, " Quiet hours"),
        h("label", { class: "field" }, h("span", {}, "From"), from), h("label", { class: "field" }, h("span", {}, "To"), to),
        h("label", { class: "check" }, urgent, ` ${DEFAULT_URGENT.join(" and ")} still at once`)),
      h("p", { class: "hint" }, "Alerts held by quiet hours go out when they end; an episode that also ended meanwhile is not sent."),
      h("div", { class: "buttons" }, test, save),
      results);
  };
  draw();
  return section;
}
