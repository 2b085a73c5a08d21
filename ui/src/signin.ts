// The web page's sign-in screen: the scheduler serves this page without a token, and nothing of
// the fleet is shown until the user gives one it accepts (the control token for everything, the
// read token for status only). A token kept from last time is tried first, silently.
import { signIn, SignInError, storedToken, takeEndedReason } from "./ipc";
import { h } from "./ui";

/** Resolves once signed in; until then the app is hidden behind the sign-in form. */
export async function signInScreen(): Promise<void> {
  const app = document.querySelector<HTMLElement>(".app");
  const ended = takeEndedReason();
  const kept = storedToken();
  let first = ended ?? "";
  if (kept && !ended) {
    try {
      await signIn(kept);
      return;
    } catch (e) {
      first = e instanceof SignInError && e.code !== "unauthorized" ? e.message
        : "The token kept on this browser is no longer accepted (it may have been rotated). Sign in again.";
    }
  }
  if (app) app.hidden = true;
  await new Promise<void>((done) => {
    const input = h("input", {
      id: "token", type: "password", name: "token", autocomplete: "off", spellcheck: "false", autocapitalize: "off",
      placeholder: "Paste the control or read token", required: true, "aria-describedby": "sign-in-error",
    }) as HTMLInputElement;
    const error = h("p", { class: "hint error", id: "sign-in-error", role: "alert" }, first);
    const button = h("button", { class: "primary", id: "sign-in", type: "submit" }, "Sign in");
    const form = h("form", { class: "signin-card", "aria-labelledby": "signin-title" },
      h("div", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), h("span", {}, "Bitaxe Fleet")),
      h("h1", { id: "signin-title" }, "Sign in to the scheduler"),
      h("p", { class: "muted" }, "The control token shows and changes everything; the read token shows status only. Both are in files next to the scheduler's config: the one ending in .api-token (control) and the one ending in .api-read-token (read)."),
      h("label", { class: "field" }, h("span", {}, "API token"), input),
      error, button,
      h("p", { class: "hint" }, "The token stays in this browser until you sign out."));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      button.disabled = true;
      error.textContent = "";
      try {
        await signIn(input.value);
        page.remove();
        if (app) app.hidden = false;
        done();
      } catch (e) {
        error.textContent = e instanceof Error ? e.message : String(e);
        button.disabled = false;
        input.select();
      }
    });
    const page = h("main", { class: "signin", id: "signin" }, form);
    document.body.prepend(page);
    input.focus();
  });
}
