// The week grid's model: periods to cells and back, painting, midnight crossings.
import test from "node:test";
import assert from "node:assert/strict";
import { dayPeriods, emptyCells, fromCells, normalise, onGrid, paint, SLOTS, toCells, type DayPeriod } from "../src/views/week-model";

test("periods become cells and come back unchanged", () => {
  const periods: DayPeriod[] = [
    { day: 0, from: 0, to: 450, profile: "night" },
    { day: 0, from: 450, to: 1200, profile: "quiet" },
    { day: 0, from: 1200, to: 1440, profile: "night" },
  ];
  const cells = toCells(periods);
  assert.equal(cells[0][0], "night");
  assert.equal(cells[0][30], "quiet"); // 07:30
  assert.equal(cells[0][29], "night");
  assert.equal(cells[0][SLOTS - 1], "night");
  assert.equal(cells[1][0], null);
  assert.deepEqual(dayPeriods(cells, 0), periods);
});

test("a period across midnight continues on the next day, Sunday into Monday", () => {
  const p: DayPeriod[] = [{ day: 6, from: 1320, to: 360, profile: "performance" }];
  assert.deepEqual(normalise(p), [
    { day: 6, from: 1320, to: 1440, profile: "performance" },
    { day: 0, from: 0, to: 360, profile: "performance" },
  ]);
  const cells = toCells(p);
  assert.equal(cells[6][88], "performance");
  assert.equal(cells[0][23], "performance");
  assert.equal(cells[0][24], null);
});

test("painting rewrites only the painted days; the others keep their minutes", () => {
  const before: DayPeriod[] = [
    { day: 1, from: 487, to: 1201, profile: "quiet" },
    { day: 2, from: 480, to: 1200, profile: "quiet" },
  ];
  assert.ok(!onGrid(before));
  const cells = toCells(before);
  const days = paint(cells, [2, 72], [3, 79], "off"); // Wed and Thu, 18:00 to 20:00
  assert.deepEqual(days, [2, 3]);
  const after = fromCells(cells, before, new Set(days));
  assert.deepEqual(after, [
    { day: 1, from: 487, to: 1201, profile: "quiet" },
    { day: 2, from: 480, to: 1080, profile: "quiet" },
    { day: 2, from: 1080, to: 1200, profile: "off" },
    { day: 3, from: 1080, to: 1200, profile: "off" },
  ]);
  // Erasing leaves the fallback.
  paint(cells, [3, 72], [3, 79], null);
  assert.deepEqual(dayPeriods(cells, 3), []);
  assert.equal(emptyCells().length, 7);
});
