import assert from "node:assert/strict";
import { RawConnection, withTimeout } from "./helpers.ts";
import { SECOND_POEM, writePoemCorpus } from "./poem_corpus.ts";
import {
  peakRssKiB,
  runServer,
  serverCommand,
  spawnServer,
  writeTestGlobals,
} from "./server_process.ts";

async function tempFile(content: string | Uint8Array): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".txt" });
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

Deno.test("server.ts --help prints usage and exits 0", async () => {
  const { code, stdout } = await runServer(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /Usage: server.ts \[PORT\] \[MAX_ONLINE\]/);
});

Deno.test("server.ts refuses a bad argument with the reason and exit code 2", async () => {
  const { code, stderr } = await runServer(["--port", "http"]);
  assert.equal(code, 2);
  assert.match(stderr, /claptrap: --port must be a whole number/);
});

Deno.test("a malformed globals file stops start-up with the file name and line number", async () => {
  const path = await tempFile("ann pw\nbob\n\nlobby\n");
  const { code, stderr } = await runServer(["--globals", path, "--port", "0"]);
  assert.equal(code, 2);
  assert.ok(
    stderr.includes(`${path}:2: expected "username password [admin]", got 1 fields`),
    stderr,
  );
  await Deno.remove(path);
});

Deno.test("a globals file that is not UTF-8 stops start-up with the line number", async () => {
  const path = await tempFile(
    new Uint8Array([...new TextEncoder().encode("ann pw\n\n"), 0xc4, 0xe3, 0x0a]),
  );
  const { code, stderr } = await runServer(["--globals", path, "--port", "0"]);
  assert.equal(code, 2);
  assert.ok(stderr.includes(`${path}:3: not valid UTF-8`), stderr);
  await Deno.remove(path);
});

Deno.test("a missing globals file stops start-up with a clear message", async () => {
  const { code, stderr } = await runServer([
    "--globals",
    "/nonexistent/globals.txt",
    "--port",
    "0",
  ]);
  assert.equal(code, 2);
  assert.match(stderr, /cannot read \/nonexistent\/globals.txt: no such file/);
});

Deno.test("server.ts listens on 127.0.0.1 by default and logs the web page's address for a person", async () => {
  const globals = await writeTestGlobals();
  const child = serverCommand([
    "--port",
    "0",
    "--http-port",
    "0",
    "--db",
    ":memory:",
    "--globals",
    globals,
  ]).spawn();
  let log = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      log += chunk;
      if (/ web-client .*\n/.test(log)) break;
    }
  })();
  try {
    await withTimeout(reading, 30_000, "the web-client log line");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel();
    await Deno.remove(globals);
  }
  // the machine-readable lines stay as they were; the URL is one a person can open
  assert.match(log, /^\S+ listening addr=127\.0\.0\.1:\d+\n/m);
  const http = log.match(/^\S+ listening http=127\.0\.0\.1:(\d+)\n/m);
  assert.ok(http, log);
  assert.match(log, new RegExp(`^\\S+ web-client url=http://localhost:${http[1]}/\n`, "m"));
});

Deno.test("server.ts refuses to serve the network while globals.txt keeps the sample passwords", async () => {
  // run from the repository, whose globals.txt holds the sample accounts
  const { code, stderr } = await runServer(["--host", "0.0.0.0", "--port", "0", "--no-http"]);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /^claptrap: refusing to listen on 0\.0\.0\.0, which other machines can reach, while globals\.txt gives alice, bob, carol, dave, 江主席, 记者 the sample passwords .*--allow-sample-passwords\n$/,
  );
});

Deno.test("server.ts --poems serves POEM from a corpus file in the AllSonnets.txt layout", async () => {
  const corpus = await writePoemCorpus();
  const server = await spawnServer(["--poems", corpus]);
  try {
    const ann = await RawConnection.open(server.port);
    await ann.login("ann");
    const two = await ann.request("POEM", { Number: "2" });
    assert.deepEqual([two.params.Status, two.params.Title, two.content], [
      "OK",
      "II.",
      SECOND_POEM,
    ]);
    await ann.close();
  } finally {
    server.kill();
    await server.exited;
    await Deno.remove(corpus);
  }
});

Deno.test("SIGTERM stops the server: push clients are told, everyone is closed, exit 0", async () => {
  const server = await spawnServer([]);
  const pushed = await RawConnection.open(server.port);
  await pushed.login("ann", { push: true });
  const polled = await RawConnection.open(server.port);
  await polled.login("bob");
  server.kill("SIGTERM");
  const [notice] = await pushed.untilClosed();
  assert.deepEqual([notice.method, notice.params.Reason], ["EVT_CLOSE", "server shutting down"]);
  assert.deepEqual(await polled.untilClosed(), [], "a polling client gets no unrequested frame");
  await pushed.close();
  await polled.close();
  assert.equal(await withTimeout(server.exited, 10_000, "server exit"), 0);
  assert.ok(server.log.some((line) => line.endsWith(" stopped")));
});

Deno.test("server memory stays bounded while a client that never reads is flooded", async () => {
  // messages go to a database file, so that only the send queue could hold them in memory
  const db = await Deno.makeTempFile({ suffix: ".db" });
  const server = await spawnServer([
    "--send-queue-bytes",
    String(1 << 20),
    "--db",
    db,
    "--db-sync",
    "normal",
    "--msg-rate",
    "0",
    "--max-message-chars",
    String(1 << 20),
  ]);
  const sleeper = await RawConnection.open(server.port);
  await sleeper.login("carol", { push: true });
  await sleeper.request("JOIN_ROOM", { "Room-Name": "lobby" });
  sleeper.pause();
  const flooder = await RawConnection.open(server.port);
  await flooder.login("ann", { push: true });
  await flooder.request("JOIN_ROOM", { "Room-Name": "lobby" });
  const message = "lorem ipsum dolor sit amet ".repeat(38_000); // 1 MB
  const offer = async (count: number) => {
    for (let i = 0; i < count; i += 16) {
      for (let j = 0; j < 16; j++) await flooder.send("SEND_MSG", {}, message);
      for (let j = 0; j < 16; j++) {
        assert.equal((await flooder.nextOf("RESP_SEND_MSG")).params.Status, "OK");
      }
    }
  };
  // The first 64 MB take the heap to its working size (garbage awaiting
  // collection included); if the server kept what it cannot deliver, the
  // next 256 MB would add as much again. Collection timing varies (growths
  // of 15 to 141 MiB were seen for one and the same server), so the bound
  // is three quarters of that.
  await offer(64);
  const settled = await peakRssKiB(server.pid);
  await offer(256);
  const growthMiB = ((await peakRssKiB(server.pid)) - settled) / 1024;
  assert.ok(
    growthMiB < 192,
    `peak RSS grew by ${growthMiB.toFixed(1)} MiB while another 256 MB were offered`,
  );
  assert.ok(
    server.log.some((line) => /reason="send queue exceeded 1048576 bytes"/.test(line)),
    server.log.join("\n"),
  );
  server.kill("SIGTERM");
  await server.exited;
  await sleeper.close();
  await flooder.close();
  for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(db + suffix).catch(() => {});
});
