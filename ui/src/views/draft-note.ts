// The line above an editor that says the config draft holds unsaved edits (kept while the user
// visits other views), and whether the file changed underneath them.
import type { Store } from "../store";
import { h } from "../ui";

export function draftNote(store: Store, redraw: () => void): HTMLElement {
  const note = h("div", { class: "draft-note", id: "draft-note", role: "status" });
  const fill = () => {
    note.replaceChildren();
    if (!store.dirty) { note.hidden = true; return; }
    note.hidden = false;
    const discard = h("button", { class: "small", id: "discard-draft" }, "Discard changes");
    discard.addEventListener("click", () => { store.discard(); redraw(); });
    note.append(
      store.stale
        ? "Unsaved changes, and the configuration file changed since you started: saving replaces it with this draft. "
        : "Unsaved changes (kept while you look at other views). ",
      discard);
  };
  fill();
  note.addEventListener("input-changed", fill);
  return note;
}

/** Tell the note that an input changed the draft. */
export function draftChanged(): void {
  document.getElementById("draft-note")?.dispatchEvent(new Event("input-changed"));
}
