// The alerts section's pure part: blank channels, one-line summaries (never a secret), and the
// kinds and quiet hours as the config holds them. Unit-tested in tests/alerts.test.ts.
import type { AlertKind, AlertsConfig, ChannelConfig } from "../ipc";

export type ChannelType = ChannelConfig["type"];

export const CHANNEL_TYPES: [ChannelType, string][] = [
  ["ntfy", "ntfy (app or self-hosted)"], ["telegram", "Telegram bot"], ["webhook", "Webhook (JSON, Discord, Slack)"], ["email", "E-mail (SMTP)"],
];

/** What the engine sends when `kinds` is left out (core's DEFAULT_KINDS). */
export const DEFAULT_KINDS: AlertKind[] = ["offline", "overheated", "stalled", "transition_failed", "gave_up", "ceiling_lowered", "identity_changed"];
/** What quiet hours let through when `except` is left out (core's DEFAULT_URGENT). */
export const DEFAULT_URGENT: AlertKind[] = ["offline", "overheated"];

export function blankChannel(type: ChannelType): ChannelConfig {
  switch (type) {
    case "ntfy": return { type, url: "https://ntfy.sh/" };
    case "telegram": return { type, bot_token: "", chat_id: "" };
    case "webhook": return { type, url: "https://", template: "json" };
    case "email": return { type, smtp_url: "smtp+starttls://", from: "", to: [] };
  }
}

/** `scheme://host[:port]` and `/…` for the rest: a webhook's path can be its key. */
export function hostOf(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#]*@)?([^/?#]*)(.*)$/i.exec(url.trim());
  if (!m) return url.trim() === "" ? "(no address)" : "(not a URL)";
  return `${m[1]}://${m[2]}${m[3] && m[3] !== "/" ? "/…" : ""}`;
}

/** The name the engine's reports and events use: `name`, else the type and the server. */
export function channelLabel(c: ChannelConfig): string {
  if (c.name) return c.name;
  switch (c.type) {
    case "ntfy": return `ntfy (${hostOf(c.url)})`;
    case "telegram": return `telegram (chat ${c.chat_id})`;
    case "webhook": return `webhook (${hostOf(c.url)})`;
    case "email": return `email (${c.to.join(", ")})`;
  }
}

/** One line under the label: where it goes, without a secret. */
export function channelSummary(c: ChannelConfig): string {
  switch (c.type) {
    case "ntfy": return `Topic ${hostOf(c.url)}${c.token ? ", with a token" : ""}`;
    case "telegram": return `Chat ${c.chat_id || "(none)"} via ${hostOf(c.api_url ?? "https://api.telegram.org")}`;
    case "webhook": return `${(c.template ?? "json").toUpperCase()} to ${hostOf(c.url)}`;
    case "email": return `To ${c.to.join(", ") || "(nobody)"} via ${hostOf(c.smtp_url)}${c.username ? ` as ${c.username}` : ""}`;
  }
}

/** The kinds sent, as the config says or by default. */
export function enabledKinds(a: AlertsConfig | null | undefined): AlertKind[] {
  return a?.kinds ?? DEFAULT_KINDS;
}

/** Switch one kind on or off; back to "left out" when the result is the default set. */
export function withKind(a: AlertsConfig, kind: AlertKind, on: boolean): AlertsConfig {
  const now = enabledKinds(a).filter((k) => k !== kind);
  if (on) now.push(kind);
  const same = now.length === DEFAULT_KINDS.length && DEFAULT_KINDS.every((k) => now.includes(k));
  const next = { ...a };
  if (same) delete next.kinds; else next.kinds = now;
  return next;
}

/** A comma- or line-separated list of addresses. */
export function splitList(text: string): string[] {
  return text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== "");
}
