import assert from "node:assert/strict";
import { AcceptLoop } from "./accept_loop.ts";

/** A listener whose accepts fail or succeed as the test says. */
class ScriptedListener {
  readonly addr = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const;
  readonly rid = 0;
  closed = false;
  #steps: (() => Deno.Conn)[];
  #fail: ((error: Error) => void) | null = null;

  constructor(steps: (() => Deno.Conn)[]) {
    this.#steps = steps;
  }

  accept(): Promise<Deno.Conn> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("Listener has been closed"));
    const step = this.#steps.shift();
    if (step) {
      try {
        return Promise.resolve(step());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((_, reject) => this.#fail = reject);
  }

  close(): void {
    this.closed = true;
    this.#fail?.(new Deno.errors.BadResource("Listener has been closed"));
  }
}

const conn = (name: string) => ({ name, close() {} }) as unknown as Deno.Conn;

Deno.test("the accept loop goes on after reset connections and EMFILE, logging each kind once a second", async () => {
  const steps: (() => Deno.Conn)[] = [];
  for (let i = 0; i < 5; i++) {
    steps.push(() => {
      throw new Deno.errors.NotConnected("Transport endpoint is not connected (os error 107)");
    });
  }
  steps.push(() => {
    throw new Error("Too many open files (os error 24)");
  });
  steps.push(() => conn("honest"));
  const listener = new ScriptedListener(steps);
  const served: unknown[] = [];
  const log: string[] = [];
  let arrived!: () => void;
  const honest = new Promise<void>((resolve) => arrived = resolve);
  const loop = new AcceptLoop(
    listener as unknown as Deno.Listener,
    (c) => {
      served.push((c as unknown as { name: string }).name);
      arrived();
    },
    "tcp",
    (line) => log.push(line),
  );
  await honest;
  assert.deepEqual(served, ["honest"]);
  assert.deepEqual(log, [
    'accept-error listener=tcp error="Transport endpoint is not connected (os error 107)"',
    'accept-error listener=tcp error="Too many open files (os error 24)"',
  ]);
  await loop.close();
  assert.ok(listener.closed);
});

Deno.test("the accept loop ends when closed, even while it backs off", async () => {
  const listener = new ScriptedListener([() => {
    throw new Error("Too many open files (os error 24)");
  }]);
  const loop = new AcceptLoop(listener as unknown as Deno.Listener, () => {}, "http", () => {});
  await new Promise((resolve) => setTimeout(resolve, 0));
  await loop.close();
  await loop.done;
});
