/**
 * What every connection does with its socket, whatever its wire: reading
 * until the end with a buffer that grows while reads fill it, and closing
 * once what is queued is written, within a grace time. No chat in here.
 * @module
 */

import type { RequestQueue } from "./request_queue.ts";
import type { SendQueue } from "./send_queue.ts";

/**
 * Reads start with a small buffer, so that an idle connection costs little
 * memory, and double up to the large one while reads keep filling it.
 */
const FIRST_READ_BUFFER = 256;
const LARGEST_READ_BUFFER = 64 * 1024;

/**
 * Reads `conn` until it ends (or `stopped()` says so), handing each chunk to
 * `receive`, and not reading while `requests` is busy. Reads start with a
 * small buffer and double up to the large one while they fill it.
 * @returns null when the peer closed, or the error that ended the connection
 */
export async function readUntilEnd(
  conn: Deno.Conn,
  requests: Pick<RequestQueue<unknown>, "busy" | "ready">,
  stopped: () => boolean,
  receive: (chunk: Uint8Array) => void,
): Promise<string | null> {
  let buffer = new Uint8Array(FIRST_READ_BUFFER);
  while (!stopped()) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      // a TLS peer that just drops the socket ends like a TCP one
      if (error instanceof Deno.errors.UnexpectedEof) return null;
      return `connection error: ${(error as Error).name}`;
    }
    if (n === null) return null;
    receive(buffer.subarray(0, n));
    if (n === buffer.length && buffer.length < LARGEST_READ_BUFFER) {
      buffer = new Uint8Array(buffer.length * 2);
    }
    if (requests.busy) await requests.ready();
  }
  return null;
}

/** How {@link closeWhenFlushed} sees and closes a connection's socket. */
export interface ClosingSocket {
  /** Whether the socket is closed already. */
  closed(): boolean;
  /** Closes the socket (again is harmless). */
  close(): void;
  /** Called before half-closing; false to close at once instead. Default: half-close. */
  halfClosing?(): boolean;
}

/**
 * Once what `queue` holds is written, or `graceMs` pass, half-closes `conn`
 * and waits out the rest of the grace time for the client to close its
 * side, then closes the socket.
 * @returns the grace timer, to clear when the socket closes sooner
 */
export function closeWhenFlushed(
  conn: Deno.Conn,
  queue: SendQueue,
  graceMs: number,
  socket: ClosingSocket,
): ReturnType<typeof setTimeout> {
  let timer!: ReturnType<typeof setTimeout>;
  const graceOver = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
  Promise.race([queue.drained(), graceOver]).then(async () => {
    if (socket.closed()) return;
    if (socket.halfClosing && !socket.halfClosing()) return socket.close();
    try {
      await conn.closeWrite();
    } catch {
      socket.close();
    }
    await graceOver;
    socket.close();
  });
  return timer;
}

/** Closes a connection that may be closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // closed already, by the peer or by us
  }
}

/** The peer's address of a TCP connection as logs and sessions show it, `host:port`. */
export function remoteAddress(conn: Deno.Conn): string {
  const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
  return `${hostname}:${port}`;
}
