import test from "node:test";
import assert from "node:assert/strict";
import { hourly, hourStarts } from "../src/views/preview-hours";

test("each hour shows the profile that runs longest in it", () => {
  const hours = hourStarts("2026-11-25T06:00:00Z", "2026-11-25T10:00:00Z");
  assert.equal(hours.length, 4);
  const segs = [
    { start: "2026-11-25T00:00:00Z", end: "2026-11-25T07:30:00Z", profile: "night", why: "plan" },
    { start: "2026-11-25T07:30:00Z", end: "2026-11-25T08:20:00Z", profile: "quiet", why: "plan (group bedroom)" },
    { start: "2026-11-25T08:20:00Z", end: "2026-11-26T00:00:00Z", profile: "off", why: "price 31 ct above 25" },
  ];
  const r = hourly(segs, hours);
  assert.deepEqual(r.profiles, ["night", "night", "off", "off"]);
  assert.deepEqual(r.reasons[2], "price 31 ct above 25");
  assert.deepEqual(hourly([], hours).profiles, ["", "", "", ""]);
});
