// The short word before an event's sentence: what happened for the engine's safety events, else
// the level, so a line never speaks by its colour alone. Pure, unit-tested.
import type { EventKind, LoggedEvent } from "../ipc";

const KIND_TAGS: Partial<Record<EventKind, string>> = {
  gave_up: "Gave up",
  firmware_overheat: "Firmware overheat",
  ceiling_lowered: "Ceiling lowered",
  fan_restored: "Fan restored",
  identity_changed: "Different device",
  unknown_model: "Unknown model",
  alert_sent: "Alert sent",
  alert_failed: "Alert failed",
};

export function eventTag(e: Pick<LoggedEvent, "kind" | "level">): string | null {
  return KIND_TAGS[e.kind as EventKind] ?? (e.level === "error" ? "Error" : e.level === "warning" ? "Warning" : null);
}
