// Small DOM helpers and formatters shared by the views.

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | number | undefined> = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "class") el.className = String(v);
    // Through the CSSOM, which the web page's Content-Security-Policy (style-src 'self') allows;
    // a `style` attribute set as text would be refused there.
    else if (k === "style") el.style.cssText = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

export function num(value: number | null | undefined, digits: number, unit: string): HTMLElement {
  const span = h("span", { class: "num" });
  if (value === null || value === undefined || Number.isNaN(value)) {
    span.textContent = "--";
    return span;
  }
  span.append(value.toFixed(digits), h("span", { class: "unit" }, ` ${unit}`));
  return span;
}

export function hashrate(ghs: number): string {
  return ghs >= 1000 ? `${(ghs / 1000).toFixed(2)} TH/s` : `${ghs.toFixed(1)} GH/s`;
}

export function settingsText(v: number | null | undefined, f: number | null | undefined): string {
  if (v == null || f == null) return "--";
  return `${v} mV @ ${Number.isInteger(f) ? f : f.toFixed(2)} MHz`;
}

export function duration(ms: number): string {
  const min = Math.max(0, Math.round(ms / 60000));
  const hh = Math.floor(min / 60);
  return hh > 0 ? `${hh} h ${min % 60} min` : `${min} min`;
}

export function localHm(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

let toastTimer = 0;
export function toast(text: string, kind: "ok" | "error" = "ok"): void {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = text;
  t.className = `show ${kind}`;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (t.className = ""), kind === "error" ? 8000 : 4000);
}

/** A modal that says what will happen; resolves true on OK. Esc or Cancel resolve false. */
export function confirmDialog(title: string, body: string, ok = "Apply"): Promise<boolean> {
  return new Promise((resolve) => {
    const okBtn = h("button", { class: "primary", id: "confirm-ok" }, ok);
    const cancel = h("button", { id: "confirm-cancel" }, "Cancel");
    const box = h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-label": title },
      h("h2", {}, title), h("p", {}, body), h("div", { class: "actions" }, cancel, okBtn));
    const overlay = h("div", { class: "overlay" }, box);
    const done = (v: boolean) => {
      overlay.remove();
      document.removeEventListener("keydown", onKey);
      resolve(v);
    };
    const onKey = (e: KeyboardEvent) => { if (e.key === "Escape") done(false); };
    okBtn.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    document.addEventListener("keydown", onKey);
    document.body.append(overlay);
    okBtn.focus();
  });
}

export function badge(state: string): HTMLElement {
  const labels: Record<string, string> = {
    unknown: "Checking", online: "Online", offline: "Offline", transitioning: "Transitioning",
    throttled: "Throttled", stalled: "Stalled", overheated: "Overheated", disabled: "Disabled",
  };
  return h("span", { class: `badge ${state}` }, labels[state] ?? state);
}

export function sparkline(values: number[], colour: string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  // Stretched to its box (the phone's fleet cards give it the card's width), the line kept thin.
  svg.setAttribute("preserveAspectRatio", "none");
  if (values.length > 1) {
    const max = Math.max(...values, 1);
    const min = Math.min(...values, max * 0.8);
    const pts = values.map((v, i) => `${(i / (values.length - 1)) * 100},${22 - ((v - min) / (max - min || 1)) * 20}`).join(" ");
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", pts);
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", colour);
    line.setAttribute("stroke-width", "1.5");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(line);
  }
  return svg;
}

export interface MenuItem { label: string; title: string; attention?: boolean; run: () => void }

/**
 * A compact "⋯" menu button: the items open below it, arrow keys move between them, Esc or a
 * click elsewhere closes it. The button is marked when an item needs attention.
 */
export function menu(label: string, items: MenuItem[]): HTMLElement {
  const needs = items.some((i) => i.attention);
  const button = h("button", {
    class: needs ? "small menu-button attention" : "small menu-button", "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-label": needs ? `${label} (needs attention)` : label, title: label,
  }, "⋯");
  const list = h("div", { class: "menu", role: "menu", hidden: true });
  const wrap = h("div", { class: "menu-wrap" }, button, list);
  const entries = items.map((item) => {
    const b = h("button", { role: "menuitem", class: item.attention ? "attention" : "", title: item.title }, item.label);
    b.addEventListener("click", () => { close(); item.run(); });
    return b;
  });
  list.append(...entries);
  const onDoc = (e: Event) => { if (!wrap.contains(e.target as Node)) close(); };
  function close(): void {
    if (list.hidden) return;
    list.hidden = true;
    wrap.classList.remove("open");
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("mousedown", onDoc);
  }
  function open(): void {
    // Fixed, so the table's rounded clipping does not cut the last rows' menus.
    const r = button.getBoundingClientRect();
    list.style.top = `${Math.round(r.bottom + 4)}px`;
    list.style.right = `${Math.round(window.innerWidth - r.right)}px`;
    list.hidden = false;
    wrap.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("mousedown", onDoc);
    entries[0]?.focus();
  }
  button.addEventListener("click", () => (list.hidden ? open() : close()));
  wrap.addEventListener("keydown", (e) => {
    const at = entries.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === "Escape" && !list.hidden) { e.stopPropagation(); close(); button.focus(); }
    else if (e.key === "ArrowDown" && !list.hidden) { e.preventDefault(); entries[(at + 1) % entries.length]?.focus(); }
    else if (e.key === "ArrowUp" && !list.hidden) { e.preventDefault(); entries[(at - 1 + entries.length) % entries.length]?.focus(); }
  });
  return wrap;
}

/**
 * A side drawer (a modal dialog at the window's right edge): Esc, the close button or a click on
 * the shade close it; focus goes to its first field and back to `opener` after.
 */
export function drawer(title: string, content: HTMLElement, opener?: HTMLElement | null): { el: HTMLElement; close: () => void } {
  const closeBtn = h("button", { class: "small drawer-close", "aria-label": "Close", title: "Close (Esc)" }, "✕");
  const panel = h("aside", { class: "drawer", role: "dialog", "aria-modal": "true", "aria-label": title },
    h("header", {}, h("h2", {}, title), closeBtn), content);
  const shade = h("div", { class: "drawer-shade" }, panel);
  const onKey = (e: KeyboardEvent) => { if (e.key === "Escape") { e.stopPropagation(); close(); } };
  function close(): void {
    if (!shade.isConnected) return;
    shade.remove();
    document.removeEventListener("keydown", onKey, true);
    opener?.focus();
  }
  closeBtn.addEventListener("click", close);
  shade.addEventListener("mousedown", (e) => { if (e.target === shade) close(); });
  document.addEventListener("keydown", onKey, true);
  document.body.append(shade);
  panel.querySelector<HTMLElement>("input, select, textarea, button:not(.drawer-close)")?.focus();
  return { el: panel, close };
}
