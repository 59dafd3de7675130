/**
 * The web client in a real headless Chromium, against a real server: a user
 * in the browser and users over TCP in the same rooms. Screenshots go to
 * tests/artifacts/ (git-ignored).
 * @module
 */

import { NO_FLOOD_LIMITS } from "../server/flood_control.ts";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { ServerHandle } from "../server/server.ts";
import { RawConnection } from "./helpers.ts";
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

/** Opens a room with one click, as a new user would. */
async function joinByClick(page: Page, room: string): Promise<void> {
  await page.locator(".room", { hasText: room }).first().click();
  await waitForTitle(page, `# ${room}`);
}

/** Waits until the page title (which names the room) starts with `prefix`. */
async function waitForTitle(page: Page, prefix: string): Promise<void> {
  // runs in the page (these tests are type-checked without DOM types; the page's
  // Content-Security-Policy forbids evaluating strings)
  await page.waitForFunction(
    (start) =>
      (globalThis as unknown as { document: { title: string } }).document.title
        .startsWith(start),
    prefix,
  );
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
    assert.deepEqual(
      await page.locator(".room .room-name").allTextContents(),
      ["lobby", "random", "香港记者招待会"],
    );
    const lobbyCount = page.locator(".room", { hasText: "lobby" }).locator(".room-count");
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
    await page.locator("#room-list").focus();
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowDown");
    await screenshot(page, "web_phone_rooms.png");
    await page.keyboard.press("Enter");
    await waitForTitle(page, "# random");
    assert.equal(await page.locator("#rooms-panel").isVisible(), false, "the drawer closes");
    await page.fill("#message-input", "Anyone in random?");
    await page.press("#message-input", "Enter");
    await waitForText(page, "Anyone in random?");
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
    await bob.nextOf("EVT_LEAVE");
    for (let i = 1; i <= 5; i++) await post(bob, `while away ${i}`);
    await screenshot(page, "web_reconnecting.png");
    proxy.refusing = false;

    await page.waitForSelector("#status[data-state=online]", { timeout: 30_000 });
    await waitForText(page, "while away 5");
    await bob.nextOf("EVT_JOIN");
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
    assert.match(await desk.page.textContent("#rooms-help") ?? "", /^Click or press Enter/);

    const phone = await openPage(browser, httpUrl(server), {
      viewport: { width: 390, height: 844 },
      touch: true,
    });
    await signIn(phone.page, "bob", "bob-pw");
    await phone.page.tap("#toggle-rooms");
    await phone.page.locator(".room", { hasText: "lobby" }).tap();
    await waitForTitle(phone.page, "# lobby");
    assert.equal(await phone.page.locator("#rooms-panel").isVisible(), false, "the drawer closes");

    assert.deepEqual([...desk.problems, ...phone.problems], []);
    await browser.close();
    await server.close();
  },
});
