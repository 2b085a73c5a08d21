// A config draft's problems (from the engine's own rules, `check_config`) put beside the fields
// they are about: a field says which key it edits with `data-path`. Pure except `mark`.
import type { DraftProblem } from "../ipc";

/** The problems about `path` or anything under it (`plan` covers `plan.weekly[0].from`). */
export function under(problems: DraftProblem[], path: string): DraftProblem[] {
  return problems.filter((p) => p.path === path || p.path.startsWith(`${path}.`) || p.path.startsWith(`${path}[`));
}

/** One line for a message area: the problem and where it is. */
export function sentence(p: DraftProblem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}

/** Flag every `[data-path]` field inside `root` that has a problem (aria-invalid and its title). */
export function mark(root: HTMLElement, problems: DraftProblem[]): void {
  root.querySelectorAll<HTMLElement>("[data-path]").forEach((el) => {
    const mine = under(problems, el.dataset.path ?? "\u0000");
    if (mine.length) { el.setAttribute("aria-invalid", "true"); el.title = mine.map((p) => p.message).join("\n"); }
    else { el.removeAttribute("aria-invalid"); el.removeAttribute("title"); }
  });
}
