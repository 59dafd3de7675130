/**
 * The client side of the attack scenarios (`bench/attack.ts`): a protocol
 * connection from a chosen loopback address, through node:net, whose
 * `localAddress` Deno.connect lacks (Linux lets a socket bind any address
 * of 127.0.0.0/8), and latency summaries.
 * @module
 */

import net from "node:net";
import { FrameDecoder } from "../protocol/frame.ts";
import { encodeMessage, type Message, parseMessage } from "../protocol/message.ts";

/** A protocol connection from a chosen loopback address; events are counted and dropped. */
export class Client {
  readonly #socket: net.Socket;
  readonly #decoder = new FrameDecoder({ maxFrameSize: 256 * 1024 * 1024 });
  readonly #answers: Message[] = [];
  #waiting: (() => void) | null = null;
  #closed = false;
  events = 0;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      for (const payload of this.#decoder.push(chunk)) {
        const message = parseMessage(payload);
        if (message.method.startsWith("EVT_")) this.events++;
        else this.#answers.push(message);
      }
      this.#wake();
    });
    const end = () => {
      this.#closed = true;
      this.#wake();
    };
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Connects from `from` (default 127.0.0.1) and says HELLO 2.0. */
  static async open(port: number, from = "127.0.0.1"): Promise<Client> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port, localAddress: from }, () => resolve(s));
      s.once("error", reject);
    });
    const client = new Client(socket);
    await client.request("HELLO", { Version: "2.0" });
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(method: string, params: Record<string, string> = {}, content?: string): void {
    if (!this.#closed) this.#socket.write(encodeMessage({ method, params, content }));
  }

  /** The next response; rejects when the server closed the connection first. */
  async next(): Promise<Message> {
    while (this.#answers.length === 0) {
      if (this.#closed) throw new Error("closed by the server");
      await new Promise<void>((resolve) => this.#waiting = resolve);
    }
    return this.#answers.shift()!;
  }

  request(method: string, params: Record<string, string> = {}, content?: string) {
    this.send(method, params, content);
    return this.next();
  }

  close(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    const wake = this.#waiting;
    this.#waiting = null;
    wake?.();
  }
}

/** Latencies in ms, summarised. */
export function summary(samples: number[]): string {
  if (samples.length === 0) return "no samples";
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `n=${sorted.length} p50=${at(0.5).toFixed(1)} p99=${at(0.99).toFixed(1)} max=${
    sorted[sorted.length - 1].toFixed(1)
  } ms`;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<unknown> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Timed requests of an honest client until `until()`: latencies in ms. */
export async function honestLoop(
  step: () => Promise<unknown>,
  until: () => boolean,
  pauseMs: number,
): Promise<number[]> {
  const samples: number[] = [];
  while (!until()) {
    const start = performance.now();
    try {
      await step();
    } catch (error) {
      console.log(`the honest client failed: ${(error as Error).message}`);
      break;
    }
    samples.push(performance.now() - start);
    await sleep(pauseMs);
  }
  return samples;
}
