import assert from "node:assert/strict";
import net from "node:net";
import { RawConnection, withTimeout } from "./helpers.ts";
import { RawWebSocket } from "./raw_websocket.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";

/**
 * Opens `count` connections to `port` and resets each (RST, not FIN). With
 * the server stopped meanwhile, they wait in its backlog already reset, and
 * accepting them fails with NotConnected.
 */
async function resetConnections(port: number, count: number): Promise<void> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
        socket.on("error", reject);
      })),
  );
  for (const socket of sockets) socket.resetAndDestroy();
}

/** Waits until a log line matches. */
async function logged(server: ServerProcess, pattern: RegExp): Promise<string> {
  return await withTimeout(
    (async () => {
      while (true) {
        const line = server.log.find((line) => pattern.test(line));
        if (line) return line;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })(),
    20_000,
    `a log line matching ${pattern}`,
  );
}

/** Whether the child is still running. */
async function running(server: ServerProcess): Promise<boolean> {
  const exited = await Promise.race([
    server.exited.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50)),
  ]);
  return !exited;
}

/** A new client logs in on the chat port, and the web page and its WebSocket are served. */
async function stillServes(server: ServerProcess): Promise<void> {
  const tcp = await RawConnection.open(server.port);
  await withTimeout(tcp.login("ann"), 10_000, "login on the chat port");
  await tcp.close();
  if (server.httpPort === 0) return;
  const page = await withTimeout(
    fetch(`http://127.0.0.1:${server.httpPort}/`).then((response) => response.text()),
    10_000,
    "the page",
  );
  assert.match(page, /<title>Claptrap<\/title>/);
  const socket = await RawWebSocket.open(server.httpPort);
  assert.ok(socket.upgraded, socket.response);
  socket.close();
}

Deno.test("connections reset before they are accepted do not stop either accept loop", async () => {
  const server = await spawnServer(["--max-connections-per-ip", "0"], { http: true });
  try {
    // stopped, the server accepts nothing: the resets all wait in its backlogs
    Deno.kill(server.pid, "SIGSTOP");
    try {
      await resetConnections(server.port, 100);
      await resetConnections(server.httpPort, 100);
    } finally {
      Deno.kill(server.pid, "SIGCONT");
    }
    await logged(server, /accept-error listener=tcp error=".*os error 107/);
    await logged(server, /accept-error listener=http error=".*os error 107/);
    await stillServes(server);
    const lines = server.log.filter((line) => line.includes("accept-error")).length;
    assert.ok(
      lines <= 4,
      `the errors are logged at most once a second per kind, not ${lines} times`,
    );
  } finally {
    server.kill();
    await server.exited;
  }
});

/**
 * Opens connections to `port` (sending `greeting` on each) until the server
 * logs that it ran out of descriptors; returns them.
 */
async function exhaustDescriptors(
  server: ServerProcess,
  port: number,
  greeting: string,
): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  const bytes = new TextEncoder().encode(greeting);
  // the limit is 256: 400 connections are more than the server can take
  for (let i = 0; i < 400; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(conn);
    if (bytes.length > 0) await conn.write(bytes);
  }
  await logged(server, /accept-error listener=\w+ error="Too many open files \(os error 24\)"/);
  return conns;
}

for (const http of [false, true]) {
  const attacked = http ? "half-sent HTTP requests" : "idle chat connections (--no-http)";
  Deno.test(`running out of descriptors to ${attacked} refuses connections and never ends the server`, async () => {
    const server = await spawnServer(["--max-connections-per-ip", "0"], {
      http,
      descriptorLimit: 256,
      allowAll: true, // to read /proc/self/limits
    });
    try {
      await logged(server, /^\S+ fd-limit soft=256 hard=256$/);
      await logged(server, /fd-limit-low soft=256 needed=10064 /);
      const conns = http
        ? await exhaustDescriptors(server, server.httpPort, "GET / HTTP/1.1\r\nHost: x\r\n")
        : await exhaustDescriptors(server, server.port, "");
      assert.ok(await running(server), server.log.join("\n"));
      for (const conn of conns) conn.close();
      await stillServes(server);
      assert.ok(await running(server), server.log.join("\n"));
    } finally {
      server.kill();
      await server.exited;
    }
  });
}
