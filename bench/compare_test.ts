import assert from "node:assert/strict";
import { rotation, runArgs, type RunSetting, SHAPES, type Side } from "./compare.ts";
import { parseBenchArgs } from "./options.ts";

const SETTING: RunSetting = {
  duration: "5",
  workers: "2",
  serverRoot: "/src/now",
  baselineRoot: "/src/before",
  serverArgs: ["--db-max-batch", "64"],
  ngircd: "/usr/sbin/ngircd",
};

Deno.test("every shape runs on every side with arguments bench.ts accepts", () => {
  for (const shape of SHAPES) {
    for (const side of ["claptrap", "baseline", "anchor"] as Side[]) {
      const options = parseBenchArgs(runArgs(shape, side, SETTING));
      const websocket = shape.transport === "websocket";
      const claptrap = side !== "anchor" || websocket;
      assert.equal(options.protocol, claptrap ? "claptrap" : "irc", `${shape.name} ${side}`);
      assert.equal(options.transport, websocket && side !== "anchor" ? "websocket" : "tcp");
      if (claptrap) {
        assert.equal(options.serverRoot, side === "baseline" ? "/src/before" : "/src/now");
        assert.deepEqual(options.serverArgs, ["--db-max-batch", "64"]);
      } else {
        assert.equal(options.ngircd, "/usr/sbin/ngircd");
        assert.deepEqual(options.serverArgs, []);
      }
      assert.ok(options.quiet);
    }
  }
  assert.throws(
    () => runArgs(SHAPES[0], "baseline", { ...SETTING, baselineRoot: null }),
    TypeError,
  );
});

Deno.test("the shapes include WebSocket at 10x1 and 100x1 and latency after a 10 s warm-up", () => {
  const byName = new Map(SHAPES.map((shape) => [shape.name, shape]));
  for (const name of ["ws-10x1", "ws-100x1"]) {
    const shape = byName.get(name)!;
    assert.equal(shape.transport, "websocket");
    const tcp = byName.get(name.slice(3))!;
    assert.deepEqual(shape.args, tcp.args, `${name} has the load of ${tcp.name}`);
  }
  const latency = parseBenchArgs(runArgs(byName.get("100x1-5k/s")!, "claptrap", SETTING));
  assert.equal(latency.warmup, 10);
  assert.equal(latency.rate, 5000);
  const idle = parseBenchArgs(runArgs(byName.get("idle-5000")!, "claptrap", SETTING));
  assert.ok(idle.settle > 0);
});

Deno.test("rotation puts each side first once in as many runs as there are sides", () => {
  const sides = ["claptrap", "baseline", "anchor"];
  const firsts = [0, 1, 2].map((run) => rotation(sides, run)[0]);
  assert.deepEqual(firsts.sort(), [...sides].sort());
  for (let run = 0; run < 4; run++) {
    assert.deepEqual(rotation(sides, run).sort(), [...sides].sort());
  }
  assert.deepEqual([0, 1, 2].map((run) => rotation(["a", "b"], run)[0]), ["a", "b", "a"]);
});
