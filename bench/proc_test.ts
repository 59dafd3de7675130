import assert from "node:assert/strict";
import { parseMachineStat, parseOpenFileLimit, parseStat, parseStatus } from "./proc.ts";

Deno.test("parseStat copes with spaces and parentheses in the name", () => {
  const line = "7 (a (b) c) R 1 7 7 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 3 0 100 0 0\n";
  assert.deepEqual(parseStat(line), { name: "a (b) c", cpuSeconds: 3 });
  assert.throws(() => parseStat("garbage"), SyntaxError);
});

Deno.test("parseStatus reads VmRSS and VmHWM", () => {
  const text = "Name:\tdeno\nVmPeak:\t 900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n";
  assert.deepEqual(parseStatus(text), { rssKiB: 40960, peakRssKiB: 51200 });
  assert.throws(() => parseStatus("Name:\tx\n"), SyntaxError);
});

Deno.test("parseMachineStat sums the cpu line and counts iowait as idle", () => {
  const text = "cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\n";
  assert.deepEqual(parseMachineStat(text), { totalTicks: 981, idleTicks: 820 });
});

Deno.test("parseOpenFileLimit reads the soft limit", () => {
  const text = "Limit                     Soft Limit           Hard Limit           Units     \n" +
    "Max open files            20000                20000                files     \n";
  assert.equal(parseOpenFileLimit(text), 20000);
  assert.equal(
    parseOpenFileLimit("Max open files            unlimited            unlimited            files"),
    Infinity,
  );
});
