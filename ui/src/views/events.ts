// Events: what the scheduler did and why, newest first, live; each line a plain sentence
// (src-tauri/src/sentences.rs) that names the miner.
import { api, type LoggedEvent } from "../ipc";
import type { Ctx } from "../main";
import { h } from "../ui";
import { eventTag } from "./event-tags";

function line(e: LoggedEvent): HTMLElement {
  const tag = eventTag(e);
  return h("li", { class: `ev ${e.level}`, "data-kind": e.kind },
    h("time", { datetime: e.at }, new Date(e.at).toLocaleTimeString()),
    h("span", { class: "what" }, tag ? h("span", { class: "tag" }, tag) : null, e.text));
}

export async function renderEvents(root: HTMLElement, ctx: Ctx): Promise<void> {
  const list = h("ol", { class: "events", id: "events-list", reversed: true });
  const filter = h("select", { "aria-label": "Show" }, h("option", { value: "" }, "Everything"), h("option", { value: "warning" }, "Warnings and errors")) as HTMLSelectElement;
  const fill = async () => {
    const all = (await api.events()).reverse().filter((e) => !filter.value || e.level !== "info");
    list.replaceChildren(...(all.length ? all.map(line) : [h("li", { class: "muted" }, "Nothing yet: transitions, throttles, drift fixes and alerts appear here.")]));
  };
  filter.addEventListener("change", fill);
  root.replaceChildren(h("h1", {}, "Events"), h("div", { class: "toolbar" }, filter), list);
  await fill();
  ctx.scope.onEvent((e) => { if (e.kind !== "sampled" && e.kind !== "transition_step") window.setTimeout(fill, 50); });
}
