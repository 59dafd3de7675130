import assert from "node:assert/strict";
import type { Whereabouts } from "./chat.ts";
import type { ClaimStatus, ClusterPresence } from "./presence_claims.ts";
import { Session } from "./session.ts";
import { RecordingSink, testChat } from "./testing.ts";

/**
 * Claims as another server would see them: a name held by one session at
 * a time; each claim answers when the test lets it.
 */
class Claims implements ClusterPresence {
  readonly node = "here";
  readonly held = new Map<string, number>();
  /** Names held on "another server". */
  readonly elsewhere = new Set<string>();
  readonly log: string[] = [];
  #waiting: (() => void)[] = [];

  claim(user: string, session: Session): Promise<ClaimStatus> {
    this.log.push(`claim ${user} ${session.id}`);
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        if (this.elsewhere.has(user)) return resolve("ALREADY_ONLINE");
        this.held.set(user, session.id);
        resolve("OK");
      })
    );
  }

  release(user: string, session: Session): void {
    this.log.push(`release ${user} ${session.id}`);
    if (this.held.get(user) === session.id) this.held.delete(user);
  }

  /** Answers the claims made so far, and those made in the next few turns of the event loop. */
  async answer(): Promise<void> {
    for (let turn = 0; turn < 20; turn++) {
      for (const answer of this.#waiting.splice(0)) answer();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  who(): Promise<Whereabouts[]> {
    return Promise.resolve([]);
  }
  membersOf(): Promise<string[]> {
    return Promise.resolve([]);
  }
  isOnline(user: string): Promise<boolean> {
    return Promise.resolve(this.elsewhere.has(user) || this.held.has(user));
  }
  serversIn(): Promise<string[]> {
    return Promise.resolve([]);
  }
  onlineOf(): Promise<Set<string>> {
    return Promise.resolve(new Set());
  }
  pushed(): Promise<number> {
    return Promise.resolve(0);
  }
  arrived(): void {}
}

async function clusterChat(options: { duplicateLogin?: "refuse" | "replace" } = {}) {
  const claims = new Claims();
  const { chat } = await testChat({ users: ["ann", "bob"], presence: () => claims, ...options });
  const session = () => new Session(new RecordingSink());
  return { chat, claims, session };
}

Deno.test("a login in a cluster is let in only once its name is claimed, and a logout gives the claim up", async () => {
  const { chat, claims, session } = await clusterChat();
  const ann = session();
  let done = false;
  const login = chat.login(ann, "ann", "pw-ann", true).finally(() => done = true);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(done, false, "waits for the claim");
  assert.equal(ann.user, null);
  await claims.answer();
  assert.deepEqual(await login, { status: "OK" });
  assert.equal(ann.user, "ann");
  assert.equal(claims.held.get("ann"), ann.id);
  chat.logout(ann);
  assert.equal(claims.held.has("ann"), false);
});

Deno.test("a name held on another server is refused, and nothing is left claimed", async () => {
  const { chat, claims, session } = await clusterChat();
  claims.elsewhere.add("bob");
  const login = chat.login(session(), "bob", "pw-bob", true);
  await claims.answer();
  assert.deepEqual(await login, { status: "ALREADY_ONLINE" });
  assert.equal(chat.onlineCount, 0);
});

Deno.test("two logins of one name on one server claim it one after the other: the second is refused", async () => {
  const { chat, claims, session } = await clusterChat();
  const [first, second] = [session(), session()];
  const logins = [
    chat.login(first, "ann", "pw-ann", true),
    chat.login(second, "ann", "pw-ann", true),
  ];
  await claims.answer();
  assert.deepEqual(await Promise.all(logins), [{ status: "OK" }, { status: "ALREADY_ONLINE" }]);
  assert.equal(claims.held.get("ann"), first.id, "the first keeps its claim");
  assert.deepEqual(claims.log, [`claim ann ${first.id}`]);
});

Deno.test("under replace, a second login takes the claim and closes the first without giving the name up", async () => {
  const { chat, claims, session } = await clusterChat({ duplicateLogin: "replace" });
  const [first, second] = [session(), session()];
  const logins = [
    chat.login(first, "ann", "pw-ann", true),
    chat.login(second, "ann", "pw-ann", true),
  ];
  await claims.answer();
  assert.deepEqual(await Promise.all(logins), [{ status: "OK" }, { status: "OK" }]);
  assert.equal((first.sink as RecordingSink).closedFor, "logged in from elsewhere");
  assert.equal(claims.held.get("ann"), second.id);
});

Deno.test("a session whose connection ends while its name is being claimed is not let in, and gives the claim up", async () => {
  const { chat, claims, session } = await clusterChat();
  const ann = session();
  const login = chat.login(ann, "ann", "pw-ann", true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  chat.disconnect(ann, "connection reset");
  await claims.answer();
  assert.deepEqual(await login, { status: "AUTH_FAILED" });
  assert.equal(ann.user, null);
  assert.equal(claims.held.has("ann"), false);
});

Deno.test("a direct message reaches a user online on another server", async () => {
  const { chat, claims, session } = await clusterChat();
  const ann = session();
  const login = chat.login(ann, "ann", "pw-ann", true);
  await claims.answer();
  await login;
  assert.equal((await chat.direct(ann, "bob", "hi")).status, "PEER_OFFLINE");
  claims.elsewhere.add("bob");
  assert.equal((await chat.direct(ann, "bob", "hi")).status, "OK");
});
