/**
 * The web client in a real headless Chromium, against a real server: a user
 * in the browser and users over TCP in the same rooms. Screenshots go to
 * tests/artifacts/ (git-ignored).
 * @module
 */

import { NO_FLOOD_LIMITS } from "../core/limits/flood_control.ts";
import { DEFAULT_SEARCH_LIMITS } from "../core/search.ts";
import assert from "node:assert/strict";
import type { Browser, Page } from "./playwright.ts";
import type { ServerHandle } from "../server/server.ts";
import { ChatClient } from "../client/chat_client.ts";
import { tcp } from "../client/tcp_transport.ts";
import { ACCOUNTS, RawConnection } from "./helpers.ts";
import { httpUrl, launchChromium, startWebTestServer, TcpProxy } from "./web_helpers.ts";

const ARTIFACTS = new URL("./artifacts/", import.meta.url);

// playwright keeps timers and pipes of its own between calls
const browserTest = { sanitizeOps: false, sanitizeResources: false };

/** A page that fails the test on a script error or a Content-Security-Policy violation. */
async function openPage(
  browser: Browser,
  url: string,
  options: {
    viewport?: { width: number; height: number };
    touch?: boolean;
    /** Runs before the page loads (e.g. to route its WebSocket). */
    beforeLoad?: (page: Page) => Promise<void>;
  } = {},
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    hasTouch: options.touch,
    isMobile: options.touch,
    locale: "en-GB",
    timezoneId: "UTC",
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  await options.beforeLoad?.(page);
  await page.goto(url);
  return { page, problems };
}

async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.fill("#login-user", user);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.waitForSelector("#login-dialog", { state: "hidden" });
  await page.waitForSelector("#status[data-state=online]");
}

/**
 * Opens a room with one click, as a new user would: in the sidebar when one
 * is in it, else in the room directory (opened first when closed).
 */
async function joinByClick(page: Page, room: string): Promise<void> {
  const mine = page.locator("#room-list .room", { hasText: room });
  if (await mine.count() > 0) await mine.first().click();
  else {
    if (await page.locator("#directory[open]").count() === 0) {
      await page.click("#directory summary");
    }
    await page.locator("#directory-list .directory-room", { hasText: room }).first().click();
  }
  await waitForTitle(page, `# ${room}`);
}

/**
 * Waits until the page title (which names the room, after the unread count
 * if any) starts with `prefix`.
 */
async function waitForTitle(page: Page, prefix: string): Promise<void> {
  // runs in the page (these tests are type-checked without DOM types; the page's
  // Content-Security-Policy forbids evaluating strings)
  await page.waitForFunction(
    (start) =>
      (globalThis as unknown as { document: { title: string } }).document.title
        .replace(/^\(\d+\) /, "").startsWith(start),
    prefix,
  );
}

/** Types a message and sends it with Enter. */
async function send(page: Page, text: string): Promise<void> {
  await page.fill("#message-input", text);
  await page.press("#message-input", "Enter");
}

/** The document of the page, in functions that run there (see waitForTitle). */
type PageDocument = {
  getElementById(id: string): {
    scrollTop: number;
    scrollHeight: number;
    clientHeight: number;
    hidden: boolean;
  };
};

/**
 * Where the message list is scrolled: whether at its end, and the id of the
 * first message the reader sees.
 */
function view(page: Page): Promise<{ atEnd: boolean; firstId: number }> {
  return page.locator("#messages").evaluate((box) => {
    const top = box.getBoundingClientRect().top;
    const first = [...box.querySelectorAll(".message[data-id]")]
      .find((item) => item.getBoundingClientRect().bottom > top);
    return {
      atEnd: box.scrollHeight - box.scrollTop - box.clientHeight < 120,
      firstId: Number(first?.getAttribute("data-id")),
    };
  });
}

/** Whether an element is inside the visible part of the message list. */
function inView(page: Page, selector: string): Promise<boolean> {
  return page.locator("#messages").evaluate((box, selector) => {
    const item = box.querySelector(selector);
    if (!item) return false;
    const [outer, inner] = [box.getBoundingClientRect(), item.getBoundingClientRect()];
    return inner.top >= outer.top && inner.bottom <= outer.bottom;
  }, selector);
}

/** The texts of the messages shown, in order. */
function shownTexts(page: Page): Promise<string[]> {
  return page.locator("#message-list .message .message-text").allTextContents();
}

/** Waits for a message whose whole text is `text` (or matches the pattern). */
async function waitForText(page: Page, text: string | RegExp): Promise<void> {
  const pattern = typeof text === "string"
    ? new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`)
    : text;
  await page.locator("#message-list .message-text", { hasText: pattern }).first().waitFor();
}

async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname });
}

/** Posts over TCP and checks the answer, skipping events that come first. */
async function post(tcp: RawConnection, text: string): Promise<void> {
  await tcp.send("SEND_MSG", {}, text);
  assert.equal((await tcp.nextOf("RESP_SEND_MSG")).params.Status, "OK");
}

async function inRoom(server: ServerHandle, user: string, room: string): Promise<RawConnection> {
  const tcp = await RawConnection.open(server);
  await tcp.login(user, { push: true });
  assert.equal((await tcp.request("JOIN_ROOM", { "Room-Name": room })).params.Status, "OK");
  return tcp;
}

Deno.test({
  name: "in Chromium: register, sign in, see history, chat both ways with TCP, text stays text",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer();
    const browser = await launchChromium();
    const bob = await inRoom(server, "bob", "lobby");
    const carol = await inRoom(server, "carol", "lobby");
    const attack = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`;
    const earlier = [
      "Morning all. The build is green again.",
      "Nice! Was it the flaky socket test?",
      attack,
      "Lunch at 12:30? 🍜 香港记者招待会 is booked",
    ];
    for (const [i, text] of earlier.entries()) {
      await post(i % 2 === 0 ? bob : carol, text);
    }
    const { page, problems } = await openPage(browser, httpUrl(server));

    // register a new account in the dialog, which then signs in
    await page.click("#login-mode");
    await page.fill("#login-user", "dora");
    await page.fill("#login-password", "tulip-garden-42");
    await page.fill("#login-password2", "tulip-garden-42");
    await page.click("#login-submit");
    await page.waitForSelector("#status[data-state=online]");
    assert.equal(await page.textContent("#me"), "dora");
    // someone new is in no room: the directory of every room, with who is in each, is open
    assert.equal(await page.locator("#room-list .room").count(), 0);
    // the directory comes in its own answer after the sign-in: wait for its third room
    await page.locator("#directory[open] .directory-room").nth(2).waitFor();
    assert.deepEqual(
      await page.locator("#directory[open] .directory-room .room-name").allTextContents(),
      ["lobby", "random", "香港记者招待会"],
    );
    const lobbyCount = page.locator(".directory-room", { hasText: "lobby" }).locator(".room-count");
    assert.match(await lobbyCount.first().innerText(), /^2\s+members$/, "count and its label");

    // joining shows the history, the <script> message as text
    await joinByClick(page, "lobby");
    await waitForText(page, earlier[3]);
    assert.deepEqual(await shownTexts(page), earlier);
    assert.equal(await page.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator("#message-list script, #message-list img").count(), 0);
    const joined = await bob.nextOf("EVT_JOIN");
    assert.equal(joined.params.User, "dora");

    // Enter sends; Shift+Enter is a new line; Ctrl+Enter sends too
    await page.fill("#message-input", "Hello from the browser 👋");
    await page.press("#message-input", "Enter");
    const first = await bob.nextOf("EVT_MSG");
    assert.deepEqual([first.params.From, first.content], ["dora", "Hello from the browser 👋"]);
    await page.type("#message-input", "line one");
    await page.press("#message-input", "Shift+Enter");
    await page.type("#message-input", "line two");
    await page.press("#message-input", "Control+Enter");
    const second = await bob.nextOf("EVT_MSG");
    assert.equal(second.content, "line one\nline two");
    assert.equal(await page.inputValue("#message-input"), "");

    // TCP to browser
    await post(bob, "Welcome, dora! <b>not bold</b>");
    await waitForText(page, "Welcome, dora! <b>not bold</b>");
    await post(carol, "Two lines\n  and an indent");
    await waitForText(page, /^Two lines/);
    const texts = await shownTexts(page);
    assert.deepEqual(texts.slice(earlier.length), [
      "Hello from the browser 👋",
      "line one\nline two",
      "Welcome, dora! <b>not bold</b>",
      "Two lines\n  and an indent",
    ]);
    assert.equal(await page.locator("#message-list b").count(), 0);
    const members = await page.locator("#member-list .member.here .member-name")
      .allTextContents();
    assert.deepEqual(members, ["dora", "bob", "carol"]);

    await screenshot(page, "web_chat.png");

    // search
    await page.fill("#search-input", "build");
    await page.press("#search-input", "Enter");
    await page.locator("#search-results .result").first().waitFor();
    assert.equal(await page.locator("#search-results mark").first().textContent(), "build");
    await screenshot(page, "web_search.png");
    await page.click("#search-close");

    // at phone width, the rooms are a drawer reached by button and keyboard
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await page.locator("#rooms-panel").isVisible(), false);
    await page.click("#toggle-rooms");
    await page.locator(".directory-room", { hasText: "random" }).click();
    await waitForTitle(page, "# random");
    assert.equal(await page.locator("#rooms-panel").isVisible(), false, "the drawer closes");
    await page.click("#toggle-rooms");
    await page.locator("#room-list").focus();
    await page.keyboard.press("End");
    await page.keyboard.press("ArrowUp");
    await screenshot(page, "web_phone_rooms.png");
    await page.keyboard.press("Enter");
    await waitForTitle(page, "# lobby");
    assert.equal(await page.locator("#rooms-panel").isVisible(), false, "the drawer closes");
    await page.fill("#message-input", "Anyone in lobby?");
    await page.press("#message-input", "Enter");
    await waitForText(page, "Anyone in lobby?");
    await screenshot(page, "web_phone_chat.png");

    assert.deepEqual(problems, []);
    await browser.close();
    await Promise.all([bob.close(), carol.close()]);
    await server.close();
  },
});

Deno.test({
  name: "in Chromium: after a dropped connection the page reconnects, nothing lost or repeated",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer({ floodLimits: NO_FLOOD_LIMITS });
    const proxy = new TcpProxy(server.httpAddr!.port);
    const browser = await launchChromium();
    const bob = await inRoom(server, "bob", "lobby");
    for (let i = 1; i <= 60; i++) await post(bob, `before ${i}`);
    const { page, problems } = await openPage(browser, `http://127.0.0.1:${proxy.port}/`);
    await signIn(page, "ann", "ann-pw");
    await joinByClick(page, "lobby");
    await waitForText(page, "before 60");
    assert.equal((await shownTexts(page)).length, 50, "one page of history");

    // scrolling up fetches older messages
    await page.locator("#messages").evaluate((box) => box.scrollTop = 0);
    await waitForText(page, "before 1");
    assert.deepEqual(
      await shownTexts(page),
      Array.from({ length: 60 }, (_, i) => `before ${i + 1}`),
    );

    await post(bob, "live 1");
    await waitForText(page, "live 1");

    // the network drops; while it is down, bob goes on writing
    proxy.refusing = true;
    await proxy.cut();
    await page.waitForSelector("#status[data-state=reconnecting]");
    for (let i = 1; i <= 5; i++) await post(bob, `while away ${i}`);
    await screenshot(page, "web_reconnecting.png");
    proxy.refusing = false;

    await page.waitForSelector("#status[data-state=online]", { timeout: 30_000 });
    await waitForText(page, "while away 5");
    await post(bob, "live 2");
    await waitForText(page, "live 2");

    const texts = await shownTexts(page);
    const expected = [
      ...Array.from({ length: 60 }, (_, i) => `before ${i + 1}`),
      "live 1",
      ...Array.from({ length: 5 }, (_, i) => `while away ${i + 1}`),
      "live 2",
    ];
    assert.deepEqual(texts, expected, "every message once, in order");
    const ids = await page.locator("#message-list .message").evaluateAll((items) =>
      items.map((item) => Number(item.getAttribute("data-id")))
    );
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));

    // and the browser can still write
    await page.fill("#message-input", "back again");
    await page.press("#message-input", "Enter");
    assert.equal((await bob.nextOf("EVT_MSG")).content, "back again");

    assert.deepEqual(problems.filter((p) => !/WebSocket|ERR_CONNECTION|net::/.test(p)), []);
    await browser.close();
    await bob.close();
    await proxy.close();
    await server.close();
  },
});

Deno.test({
  name: "in Chromium: one click, or one tap on a phone, opens a room",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer();
    const browser = await launchChromium();
    const desk = await openPage(browser, httpUrl(server));
    await signIn(desk.page, "ann", "ann-pw");
    await joinByClick(desk.page, "random");
    assert.match(
      await desk.page.textContent("#rooms-help") ?? "",
      /Click or press Enter to open one/,
    );

    const phone = await openPage(browser, httpUrl(server), {
      viewport: { width: 390, height: 844 },
      touch: true,
    });
    await signIn(phone.page, "bob", "bob-pw");
    await phone.page.tap("#toggle-rooms");
    await phone.page.locator(".directory-room", { hasText: "lobby" }).tap();
    await waitForTitle(phone.page, "# lobby");
    assert.equal(await phone.page.locator("#rooms-panel").isVisible(), false, "the drawer closes");

    assert.deepEqual([...desk.problems, ...phone.problems], []);
    await browser.close();
    await server.close();
  },
});

Deno.test({
  name:
    "in Chromium: a direct message is a conversation with an unread mark, its history and a reply box",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer({ floodLimits: NO_FLOOD_LIMITS });
    const browser = await launchChromium();
    // carol wrote to ann before ann opened the page
    const annTcp = await RawConnection.open(server);
    await annTcp.login("ann");
    const carol = await RawConnection.open(server);
    await carol.login("carol");
    assert.equal((await carol.request("DM", { To: "ann" }, "from the store")).params.Status, "OK");
    assert.equal((await annTcp.request("LOGOUT")).params.Status, "OK");
    await annTcp.close();

    const ann = await openPage(browser, httpUrl(server));
    await signIn(ann.page, "ann", "ann-pw");
    await ann.page.locator("#direct-list .conversation", { hasText: "carol" }).waitFor();
    await joinByClick(ann.page, "lobby");
    const bob = await openPage(browser, httpUrl(server));
    await signIn(bob.page, "bob", "bob-pw");
    await joinByClick(bob.page, "lobby");

    // bob starts a conversation from ann's name among the members
    await bob.page.locator("#member-list button.member-name", { hasText: "ann" }).click();
    await waitForTitle(bob.page, "@ ann");
    await bob.page.locator("#empty-room", { hasText: "No messages yet" }).waitFor();
    await send(bob.page, "hello ann");
    await waitForText(bob.page, "hello ann");

    // ann, reading the lobby, sees the conversation with an unread mark; nothing covers the room
    const bobAtAnn = ann.page.locator("#direct-list .conversation", { hasText: "bob" });
    await bobAtAnn.locator(".unread-count").waitFor();
    assert.match(await bobAtAnn.innerText(), /1\s+unread/);
    assert.deepEqual(await ann.page.locator("#direct-list .room-name").allTextContents(), [
      "bob",
      "carol",
    ]);
    // the tab's title counts what is unread: carol's message from before, and bob's
    assert.equal(await ann.page.title(), "(2) # lobby · Claptrap");
    assert.equal(await ann.page.locator("#notice").isVisible(), false);

    // the conversations open with their history from the store; the mark goes
    await ann.page.locator("#direct-list .conversation", { hasText: "carol" }).click();
    await waitForTitle(ann.page, "@ carol");
    await waitForText(ann.page, "from the store");
    await bobAtAnn.click();
    await waitForTitle(ann.page, "@ bob");
    await waitForText(ann.page, "hello ann");
    assert.equal(await bobAtAnn.locator(".unread-count").count(), 0);
    await screenshot(ann.page, "web_direct.png");

    // the composer writes to bob while his conversation is open
    await send(ann.page, "hi bob");
    await waitForText(bob.page, "hi bob");
    await joinByClick(bob.page, "lobby");
    await send(ann.page, "are you there?");
    const annAtBob = bob.page.locator("#direct-list .conversation", { hasText: "ann" });
    await annAtBob.locator(".unread-count").waitFor();
    assert.equal(await bob.page.title(), "(1) # lobby · Claptrap");
    await carol.close();

    // after a reload, still signed in, the conversations and their history are back
    await ann.page.reload();
    await ann.page.waitForSelector("#status[data-state=online]");
    await ann.page.locator("#direct-list .conversation", { hasText: "bob" }).click();
    await waitForText(ann.page, "are you there?");
    assert.deepEqual(await shownTexts(ann.page), ["hello ann", "hi bob", "are you there?"]);
    assert.deepEqual(await ann.page.locator("#direct-list .room-name").allTextContents(), [
      "bob",
      "carol",
    ]);

    // the "new message" control; a message to someone offline says why it was not sent
    await ann.page.fill("#new-direct", "江主席");
    await ann.page.press("#new-direct", "Enter");
    await waitForTitle(ann.page, "@ 江主席");
    await send(ann.page, "are you online?");
    await ann.page.locator("#pending-list .failed", { hasText: "江主席 is not online" }).waitFor();

    assert.deepEqual([...ann.problems, ...bob.problems], []);
    await browser.close();
    await server.close();
  },
});

Deno.test({
  name:
    "in Chromium: after a reconnection the reader stays where they were, and a message typed meanwhile is sent once",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer({ floodLimits: NO_FLOOD_LIMITS });
    const proxy = new TcpProxy(server.httpAddr!.port);
    const browser = await launchChromium();
    const bob = await inRoom(server, "bob", "lobby");
    for (let i = 1; i <= 250; i++) await post(bob, `m ${i}`);
    // ann stays at the newest message; carol scrolls back into older messages
    const url = `http://127.0.0.1:${proxy.port}/`;
    const [ann, carol] = [await openPage(browser, url), await openPage(browser, url)];
    for (const [{ page }, user] of [[ann, "ann"], [carol, "carol"]] as const) {
      await signIn(page, user, `${user}-pw`);
      await joinByClick(page, "lobby");
      await waitForText(page, "m 250");
      assert.equal((await view(page)).atEnd, true);
    }
    await carol.page.locator("#messages").evaluate((box) => box.scrollTop = 0);
    await waitForText(carol.page, "m 151");
    await carol.page.locator("#messages").evaluate((box) => {
      const item = [...box.querySelectorAll(".message")]
        .find((item) => item.textContent?.endsWith("m 180"))!;
      box.scrollTop += item.getBoundingClientRect().top - box.getBoundingClientRect().top - 5;
    });
    const carolWas = await view(carol.page);
    assert.equal(carolWas.atEnd, false);

    // the network drops; bob writes meanwhile, and so does ann
    proxy.refusing = true;
    await proxy.cut();
    for (const { page } of [ann, carol]) {
      await page.waitForSelector("#status[data-state=reconnecting]");
    }
    for (let i = 1; i <= 3; i++) await post(bob, `away ${i}`);
    await send(ann.page, "typed while away");
    await ann.page.locator("#composer-error", { hasText: "Not connected" }).waitFor();
    proxy.refusing = false;
    for (const { page } of [ann, carol]) {
      await page.waitForSelector("#status[data-state=online]", { timeout: 30_000 });
      await waitForText(page, "away 3");
    }

    // carol sees the same messages where they were; nothing older was fetched
    assert.deepEqual(await view(carol.page), carolWas);
    assert.equal((await shownTexts(carol.page))[0], "m 151");

    // ann is at the newest message, and what she typed went once the connection was back
    assert.equal((await bob.nextOf("EVT_MSG")).content, "typed while away");
    await waitForText(ann.page, "typed while away");
    assert.equal(await ann.page.textContent("#composer-error"), "");
    assert.equal(await ann.page.inputValue("#message-input"), "");
    const texts = await shownTexts(ann.page);
    assert.deepEqual(texts.slice(-4), ["away 1", "away 2", "away 3", "typed while away"]);
    assert.equal(texts[0], "m 201", "no older messages fetched");
    assert.equal((await view(ann.page)).atEnd, true);

    // nothing twice: the next message bob gets is the next one ann writes
    await send(ann.page, "back again");
    assert.equal((await bob.nextOf("EVT_MSG")).content, "back again");
    assert.equal((await shownTexts(ann.page)).filter((t) => t === "typed while away").length, 1);

    const problems = [...ann.problems, ...carol.problems];
    assert.deepEqual(problems.filter((p) => !/WebSocket|ERR_CONNECTION|net::/.test(p)), []);
    await browser.close();
    await bob.close();
    await proxy.close();
    await server.close();
  },
});

Deno.test({
  name:
    "in Chromium: a search result opens its conversation at the matched message, read on to the live ones",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer({ floodLimits: NO_FLOOD_LIMITS });
    const browser = await launchChromium();
    const bob = await inRoom(server, "bob", "random");
    for (let i = 1; i <= 200; i++) await post(bob, i === 40 ? "r 40 with a needle" : `r ${i}`);
    let toPage: (text: string) => void = () => {
      throw new Error("the page has no WebSocket");
    };
    const { page, problems } = await openPage(browser, httpUrl(server), {
      // a route in the middle of the page's WebSocket, to send it events of a later version
      beforeLoad: (page) =>
        page.routeWebSocket(/\/ws$/, (ws) => {
          ws.connectToServer();
          toPage = (text) => ws.send(text);
        }),
    });
    await signIn(page, "ann", "ann-pw");
    await joinByClick(page, "random"); // search reads the rooms one has been in
    await joinByClick(page, "lobby");
    // events the page does not know are ignored
    toPage(JSON.stringify({ method: "EVT_PEER_INVITE", params: { From: "bob", Room: "x" } }));
    toPage(JSON.stringify({ method: "EVT_FROM_THE_FUTURE", params: {}, content: "?" }));

    await page.fill("#search-input", "needle");
    await page.press("#search-input", "Enter");
    await page.getByRole("button", { name: "Open #random at this message" }).click();
    await waitForTitle(page, "# random");
    const matched = "#message-list .message.highlight";
    assert.equal(
      await page.locator(`${matched} .message-text`).textContent(),
      "r 40 with a needle",
    );
    assert.equal(await inView(page, matched), true);
    await page.locator("#jump-newest").waitFor();
    assert.equal((await shownTexts(page)).includes("r 200"), false);

    // scrolling down reads on, page by page, until the newest message; then it is live
    await page.waitForFunction(
      () => {
        const { document } = globalThis as unknown as { document: PageDocument };
        const box = document.getElementById("messages");
        box.scrollTop = box.scrollHeight;
        return document.getElementById("jump-newest").hidden;
      },
      null,
      { polling: 100, timeout: 20_000 },
    );
    assert.deepEqual(
      await shownTexts(page),
      Array.from({ length: 200 }, (_, i) => `r ${i + 1}`).map((t) =>
        t === "r 40" ? "r 40 with a needle" : t
      ),
    );
    await post(bob, "r live");
    await waitForText(page, "r live");

    // opened there again, "jump to the newest" goes straight back to the live messages
    await page.fill("#search-input", "needle");
    await page.press("#search-input", "Enter");
    await page.getByRole("button", { name: "Open #random at this message" }).click();
    await page.locator(matched).waitFor();
    await page.click("#jump-newest");
    await page.locator("#jump-newest").waitFor({ state: "hidden" });
    await waitForText(page, "r live");
    assert.deepEqual(await shownTexts(page), [
      ...Array.from({ length: 49 }, (_, i) => `r ${i + 152}`),
      "r live",
    ]);
    assert.equal((await view(page)).atEnd, true);

    // a direct message found opens its conversation there; "jump" goes to the newest
    const carol = await RawConnection.open(server);
    await carol.login("carol");
    for (const text of ["a needle for ann", "and more", "the newest"]) {
      assert.equal((await carol.request("DM", { To: "ann" }, text)).params.Status, "OK");
    }
    await page.fill("#search-input", "needle for");
    await page.press("#search-input", "Enter");
    await page.getByRole("button", { name: "Open the conversation with carol at this message" })
      .click();
    await waitForTitle(page, "@ carol");
    assert.equal(await page.locator(`${matched} .message-text`).textContent(), "a needle for ann");
    await waitForText(page, "the newest");
    await screenshot(page, "web_search_opened.png");

    assert.deepEqual(problems, []);
    await browser.close();
    await Promise.all([bob.close(), carol.close()]);
    await server.close();
  },
});

Deno.test({
  name:
    "in Chromium: a search page that found nothing among the newest messages searched offers to search older ones",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer({
      floodLimits: NO_FLOOD_LIMITS,
      searchLimits: { ...DEFAULT_SEARCH_LIMITS, scanLimit: 5 },
    });
    const browser = await launchChromium();
    const bob = await inRoom(server, "bob", "lobby");
    await post(bob, "zq is the older match");
    for (let i = 1; i <= 8; i++) await post(bob, `filler ${i}`);
    const { page, problems } = await openPage(browser, httpUrl(server));
    await signIn(page, "ann", "ann-pw");
    await joinByClick(page, "lobby"); // search reads the rooms one has been in

    // a two-letter word is looked for in every message: the first page looks through five
    await page.fill("#search-input", "zq");
    await page.press("#search-input", "Enter");
    const searchOn = page.getByRole("button", { name: "Search older messages" });
    await searchOn.waitFor();
    assert.equal(await page.locator("#search-results .result").count(), 0);
    assert.match(
      await page.locator("#search-results .search-note").first().innerText(),
      /^No matches among the newest messages searched/,
    );
    await searchOn.click();
    await page.locator("#search-results .result").first().waitFor();
    assert.equal(await page.locator("#search-results .result mark").textContent(), "zq");
    assert.equal(await searchOn.count(), 0, "nothing older is left to search");

    assert.deepEqual(problems, []);
    await browser.close();
    await bob.close();
    await server.close();
  },
});

Deno.test({
  name:
    "in Chromium: the network coming back while the page reconnects starts no second reconnection",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer();
    const proxy = new TcpProxy(server.httpAddr!.port);
    const browser = await launchChromium();
    const sockets: string[] = [];
    let socketOpened = () => {};
    const { page, problems } = await openPage(browser, `http://127.0.0.1:${proxy.port}/`, {
      beforeLoad: (page) => {
        page.on("websocket", (socket) => {
          sockets.push(socket.url());
          socketOpened();
        });
        return Promise.resolve();
      },
    });
    await signIn(page, "ann", "ann-pw");
    await joinByClick(page, "lobby");
    assert.equal(sockets.length, 1);

    // the network drops; the page's next try at reconnecting hangs on a slow network
    proxy.holding = true;
    const tried = new Promise<void>((resolve) => socketOpened = resolve);
    await proxy.cut();
    await page.waitForSelector("#status[data-state=reconnecting]");
    await tried;
    assert.equal(sockets.length, 2);

    // meanwhile the browser says it is online again: the try under way goes on alone
    await page.evaluate(() => globalThis.dispatchEvent(new Event("online")));
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    await proxy.release();
    await page.waitForSelector("#status[data-state=online]", { timeout: 30_000 });
    assert.equal(sockets.length, 2, "one WebSocket for the sign-in, one for the reconnection");

    // and it is really online: what it sends arrives
    const bob = await inRoom(server, "bob", "lobby");
    await send(page, "still here");
    assert.equal((await bob.nextOf("EVT_MSG")).content, "still here");
    assert.equal(await page.getAttribute("#status", "data-state"), "online");

    assert.deepEqual(problems.filter((p) => !/WebSocket|ERR_CONNECTION|net::/.test(p)), []);
    await browser.close();
    await bob.close();
    await proxy.close();
    await server.close();
  },
});

/** The notifications a page showed, recorded by a stand-in for the Notification API. */
async function recordNotifications(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const shown: { title: string; body?: string }[] = [];
    (globalThis as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
    (globalThis as unknown as { Notification: unknown }).Notification = class {
      static permission = "granted";
      static requestPermission() {
        return Promise.resolve("granted");
      }
      onclick: unknown = null;
      constructor(title: string, options?: { body?: string }) {
        shown.push({ title, body: options?.body });
      }
      close() {}
    };
  });
}

/** Makes the page believe its tab is hidden (or visible again), as a switch of tabs would. */
function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((hidden) => {
    const { document } = globalThis as unknown as {
      document: { dispatchEvent(event: Event): boolean };
    };
    Object.defineProperty(document, "visibilityState", {
      value: hidden ? "hidden" : "visible",
      configurable: true,
    });
    Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

Deno.test({
  name:
    "in Chromium: two rooms with unread and mention badges that rise and clear on both devices, a notification while hidden, a reload that stays signed in, sign out everywhere",
  ...browserTest,
  async fn() {
    const server = await startWebTestServer({ floodLimits: NO_FLOOD_LIMITS });
    const browser = await launchChromium();
    const bob = await ChatClient.connect(tcp({ port: server.addr.port }), { v21: true });
    await bob.login("bob", ACCOUNTS.get("bob")!);
    await bob.join("lobby");
    await bob.join("random");
    const desk = await openPage(browser, httpUrl(server));
    await signIn(desk.page, "ann", "ann-pw");
    await joinByClick(desk.page, "lobby");
    await joinByClick(desk.page, "random");
    const sidebar = (page: Page) => page.locator("#room-list .room .room-name").allTextContents();
    assert.deepEqual(await sidebar(desk.page), ["lobby", "random"]);

    // a second device of the same user, side by side (no longer "signed in elsewhere")
    const phone = await openPage(browser, httpUrl(server), {
      beforeLoad: recordNotifications,
    });
    await signIn(phone.page, "ann", "ann-pw");
    assert.deepEqual(await sidebar(phone.page), ["lobby", "random"]);
    await phone.page.locator("#notify-toggle").check();

    // bob writes in the lobby while ann reads random: the lobby's badges rise on both devices
    await bob.send("anyone?", { room: "lobby" });
    await bob.send("lunch, @Ann?", { room: "lobby" });
    for (const { page } of [desk, phone]) {
      const lobby = page.locator("#room-list .room", { hasText: "lobby" });
      await lobby.locator(".unread-count", { hasText: /^2/ }).waitFor();
      await lobby.locator(".mention-count", { hasText: /^@1/ }).waitFor();
    }
    assert.equal(await desk.page.title(), "(2) # random · Claptrap");

    // opening the lobby on the desk reads it there and on the phone; the mention stands out
    await joinByClick(desk.page, "lobby");
    await waitForText(desk.page, "lunch, @Ann?");
    assert.deepEqual(
      await desk.page.locator("#message-list .message.mention .message-text").allTextContents(),
      ["lunch, @Ann?"],
    );
    for (const { page } of [desk, phone]) {
      await page.locator("#room-list .room .unread-count").waitFor({ state: "detached" });
      assert.equal(await page.locator("#room-list .mention-count").count(), 0);
    }
    assert.equal(await desk.page.title(), "# lobby · Claptrap");

    // with the phone's tab hidden, a mention is a desktop notification there
    await setHidden(phone.page, true);
    await bob.send("@ann did you see this?", { room: "random" });
    await phone.page.waitForFunction(() =>
      (globalThis as unknown as { shownNotifications: unknown[] }).shownNotifications.length > 0
    );
    assert.deepEqual(
      await phone.page.evaluate(() =>
        (globalThis as unknown as { shownNotifications: unknown[] }).shownNotifications
      ),
      [{ title: "bob in # random", body: "@ann did you see this?" }],
    );
    await screenshot(desk.page, "web_badges.png");

    // a reload keeps the desk signed in, in its rooms, with the badge of what it has not read
    await desk.page.reload();
    await desk.page.waitForSelector("#status[data-state=online]");
    assert.equal(await desk.page.locator("#login-dialog").isVisible(), false);
    assert.deepEqual(await sidebar(desk.page), ["lobby", "random"]);
    await desk.page.locator("#room-list .room", { hasText: "random" })
      .locator(".mention-count", { hasText: /^@1/ }).waitFor();

    // signing out everywhere signs out the phone too, and the next reload asks to sign in
    await desk.page.click("#logout-everywhere");
    await desk.page.waitForSelector("#login-dialog", { state: "visible" });
    await phone.page.waitForSelector("#login-dialog", { state: "visible", timeout: 30_000 });
    await desk.page.reload();
    await desk.page.waitForSelector("#login-dialog", { state: "visible" });

    assert.deepEqual([...desk.problems, ...phone.problems].filter((p) => !/WebSocket/.test(p)), []);
    await browser.close();
    await bob.close();
    await server.close();
  },
});
