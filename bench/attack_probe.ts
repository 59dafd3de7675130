/**
 * An honest client of the attack scenarios, in a worker of its own so that
 * the attackers' work in the main thread does not count in its latencies.
 * Told a {@link Probe}, it times its requests until told `"stop"`, then
 * answers with a {@link ProbeReport}.
 * @module
 */

/// <reference lib="deno.worker" />

import { Client, honestLoop } from "./attack_client.ts";

/** What the honest client does, again and again. */
export interface Probe {
  port: number;
  /** `ping`: PING as carol; `post`: SEND_MSG in lobby as honest; `login`: LOGIN and LOGOUT as honest. */
  kind: "ping" | "post" | "login";
  /** Pause between requests, in ms. */
  pauseMs: number;
}

/** Latencies in ms, and the error that stopped the client early, if any. */
export interface ProbeReport {
  samples: number[];
  error: string | null;
}

async function steps(probe: Probe): Promise<() => Promise<unknown>> {
  const client = await Client.open(probe.port);
  const user = probe.kind === "ping" ? "carol" : "honest";
  const credentials = { Username: user, Password: `${user}-pw` };
  if (probe.kind === "login") {
    return async () => {
      const status = (await client.request("LOGIN", credentials)).params.Status;
      if (status !== "OK") throw new Error(`LOGIN: ${status}`);
      await client.request("LOGOUT");
    };
  }
  await client.request("LOGIN", credentials);
  if (probe.kind === "ping") return () => client.request("PING");
  await client.request("JOIN_ROOM", { "Room-Name": "lobby" });
  return async () => {
    const status = (await client.request("SEND_MSG", {}, "hello")).params.Status;
    if (status !== "OK") throw new Error(`SEND_MSG: ${status}`);
  };
}

let stopped = false;
self.onmessage = async (event: MessageEvent<Probe | "stop">) => {
  if (event.data === "stop") {
    stopped = true;
    return;
  }
  const report: ProbeReport = { samples: [], error: null };
  try {
    report.samples = await honestLoop(await steps(event.data), () => stopped, event.data.pauseMs);
  } catch (error) {
    report.error = (error as Error).message;
  }
  self.postMessage(report);
};
