import test from "node:test";
import assert from "node:assert/strict";
import { compact, expand, type PlanPeriod } from "../src/views/plan-periods";
import { fromCells, paint, toCells } from "../src/views/week-model";

test("config periods expand per day and come back in the config's form", () => {
  const plan: PlanPeriod[] = [
    { from: "07:30", to: "20:00", profile: "quiet" },
    { days: ["sat", "sun"], from: "06:00", to: "10:00", profile: "performance" },
    { days: ["mon", "tue", "wed", "thu", "fri"], from: "17:00", to: "21:00", profile: "off" },
  ];
  const dps = expand(plan);
  assert.equal(dps.length, 7 + 2 + 5);
  const cells = toCells(dps);
  assert.equal(cells[5][24], "performance"); // Saturday 06:00: the later period wins
  assert.equal(cells[2][70], "off"); // Wednesday 17:30
  assert.equal(cells[2][60], "quiet");
  // Overlapping periods keep their order, so the meaning stays.
  const back = compact(dps);
  assert.deepEqual(toCells(expand(back)), cells);
});

test("painting a day keeps the rest exact and writes one period for the same times on many days", () => {
  const plan: PlanPeriod[] = [{ days: ["mon"], from: "22:00", to: "06:00", profile: "performance" }];
  const before = expand(plan);
  const cells = toCells(before);
  assert.equal(cells[1][10], "performance"); // spills into Tuesday 02:30
  const days = paint(cells, [2, 28], [4, 79], "quiet"); // Wed to Fri, 07:00 to 20:00
  const after = compact(fromCells(cells, before, new Set(days)));
  assert.deepEqual(after, [
    { days: ["mon"], from: "22:00", to: "00:00", profile: "performance" },
    { days: ["tue"], from: "00:00", to: "06:00", profile: "performance" },
    { days: ["wed", "thu", "fri"], from: "07:00", to: "20:00", profile: "quiet" },
  ]);
  assert.deepEqual(compact(expand([{ from: "00:00", to: "00:00", profile: "night" }])), [{ from: "00:00", to: "00:00", profile: "night" }]);
});
