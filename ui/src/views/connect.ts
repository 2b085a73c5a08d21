// "Connect to a scheduler": attach this app to a bitaxe-scheduler running elsewhere (a Pi next
// to the miners). The form, the LAN discovery list, the certificate check on first attach, and
// the header chip that says where the app is attached and whether the link holds.
import { attach, errorText, onConnection, type Connection, type Discovered } from "../ipc";
import type { Ctx } from "../main";
import { confirmDialog, h, toast } from "../ui";
import { connectionText } from "./connection-text";

let current: Connection = { state: "local" };

/** The header chip, kept outside the top bar (which is redrawn on every overview). */
export async function startConnection(ctx: Ctx): Promise<void> {
  const chip = h("div", { id: "connection", role: "status", "aria-live": "polite", hidden: true });
  document.getElementById("banner")?.before(chip);
  let countdown = 0;
  const draw = (c: Connection) => {
    window.clearInterval(countdown);
    chip.hidden = c.state === "local";
    chip.className = `banner connection ${c.state}${c.state === "lost" || c.state === "refused" ? " warn" : ""}`;
    chip.textContent = connectionText(c);
    if (c.state === "lost") {
      // The retry is counted down here; the Rust side says when it tried again.
      let left = c.retry_in;
      countdown = window.setInterval(() => {
        left = Math.max(0, left - 1);
        chip.textContent = connectionText({ ...c, retry_in: left });
        if (left === 0) window.clearInterval(countdown);
      }, 1000);
    }
  };
  await onConnection((c) => {
    const back = c.state === "connected" && current.state !== "connected";
    current = c;
    draw(c);
    // Back after a loss (or newly attached): what the views show is read again. Until then they
    // keep the last data.
    if (back) void ctx.refresh();
  });
  current = await attach.connectionState().catch(() => current);
  draw(current);
}

/** The Settings section (and the first-run page's target, `#settings/connect`). */
export async function connectSection(ctx: Ctx): Promise<HTMLElement> {
  const saved = await attach.attachment().catch(() => null);
  const state = await attach.connectionState().catch(() => current);
  const section = h("section", { class: "panel", id: "connect-panel" }, h("h2", {}, "Connect to a scheduler"));
  if (state.state !== "local") {
    const disconnect = h("button", { id: "disconnect-btn" }, "Disconnect");
    disconnect.addEventListener("click", async () => {
      if (!(await confirmDialog("Disconnect", "This app stops following the scheduler and restarts with its own engine on this computer's configuration.", "Disconnect"))) return;
      await attach.disconnect().catch((e) => toast(errorText(e), "error"));
    });
    section.append(
      h("p", { id: "connect-status" }, connectionText(state)),
      h("p", { class: "hint", hidden: !saved?.fingerprint }, `Pinned certificate: ${saved?.fingerprint ?? ""}`),
      h("p", { class: "hint" }, "Every view shows and controls that scheduler's fleet; the tray and notifications follow it."),
      h("div", { class: "buttons" }, disconnect));
    return section;
  }
  const address = h("input", { id: "connect-address", placeholder: "host:port or https://host:port", value: saved?.address ?? "", autocomplete: "off" }) as HTMLInputElement;
  const token = h("input", { id: "connect-token", type: "password", placeholder: "the scheduler's token", autocomplete: "off" }) as HTMLInputElement;
  const msg = h("p", { class: "hint error", role: "alert", id: "connect-message" });
  const go = h("button", { class: "primary", id: "connect-btn" }, "Connect");
  const find = h("button", { id: "connect-discover" }, "Find on this network");
  const list = h("ul", { class: "discovered", id: "discovered" });
  find.addEventListener("click", async () => {
    find.setAttribute("disabled", "");
    list.replaceChildren(h("li", { class: "muted" }, "Looking for schedulers…"));
    try {
      const found: Discovered[] = await attach.discover();
      list.replaceChildren(...(found.length ? found.map((d) => {
        const pick = h("button", { "data-address": d.address, disabled: !d.compatible }, "Use");
        pick.addEventListener("click", () => { address.value = d.address; token.focus(); });
        return h("li", {}, `${d.name} — ${d.address}${d.tls ? " (TLS)" : ""}${d.compatible ? "" : ` (API version ${d.version}: not compatible)`} `, pick);
      }) : [h("li", { class: "muted" }, "None found. Type its address instead.")]));
    } catch (e) {
      list.replaceChildren(h("li", { class: "error" }, errorText(e)));
    } finally {
      find.removeAttribute("disabled");
    }
  });
  go.addEventListener("click", async () => {
    msg.textContent = "";
    go.setAttribute("disabled", "");
    try {
      let fingerprint: string | null = null;
      const a = address.value.trim();
      if (a.startsWith("https://")) {
        const shown = await attach.probeCertificate(a);
        fingerprint = saved?.address === a && saved.fingerprint === shown ? shown : null;
        if (shown && !fingerprint) {
          const ok = await confirmDialog("Trust this certificate?",
            `The scheduler shows the certificate ${shown}. Compare it with what "bitaxe-scheduler --status" prints on that machine; connect only if they are the same.`, "Trust and connect");
          if (!ok) return;
          fingerprint = shown;
        }
      }
      const c = await attach.connect(a, token.value, fingerprint);
      token.value = "";
      toast(connectionText(c) || "Connected");
      ctx.store.discard();
      await ctx.store.configChanged().catch(() => undefined);
      await ctx.refresh();
      location.hash = "#fleet";
    } catch (e) {
      msg.textContent = errorText(e);
    } finally {
      go.removeAttribute("disabled");
    }
  });
  section.append(
    h("p", { class: "hint" }, "Show and control a fleet run by bitaxe-scheduler --serve on another machine. Its token is in the file ending .api-token next to its config. While attached, this computer's own engine does not run."),
    h("div", { class: "form-row" },
      h("label", { class: "field" }, h("span", {}, "Address"), address),
      h("label", { class: "field" }, h("span", {}, "Token"), token)),
    msg, h("div", { class: "buttons" }, go, find), list);
  return section;
}
