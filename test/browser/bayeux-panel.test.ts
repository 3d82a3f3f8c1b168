/**
 * The demo page's Bayeux panel in a real headless Chromium (playwright-core,
 * Debian's /usr/bin/chromium): the page loads /bayeux-client.js, handshakes,
 * subscribes to /chat/lobby and shows what a Faye client in Node publishes
 * there (also bridged into the chat room "lobby"); what the panel publishes
 * reaches the Faye client.
 *
 * Skipped without /usr/bin/chromium (`apt-get install chromium`) or without
 * the built bundle (`npm run build`), except under CI=true where either is a
 * failure.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CHROMIUM,
  CHROMIUM_MISSING,
  type ChromiumProfile,
  hasChromium,
  launchChromiumProfile,
  skipUnless,
} from "../helpers/chromium.js";
import { type FayeClient, fayeClient, shutdownFaye, until } from "../mount/faye.js";
import { type CliServer, repo, startCliServer, stopCliServer } from "./cli-server.js";

const BUNDLE = join(repo, "dist", "bayeux-client.browser.js");
const hasBundle = existsSync(BUNDLE);
const skip = skipUnless(
  [hasChromium, CHROMIUM_MISSING],
  [hasBundle, `${BUNDLE} missing: run npm run build`],
);

describe("demo Bayeux panel in Chromium", { skip }, () => {
  let server: CliServer;
  let browser: ChromiumProfile;
  let faye: FayeClient | undefined;

  before(async () => {
    assert.ok(hasChromium, `${CHROMIUM} is missing (CI=true): apt-get install chromium`);
    assert.ok(hasBundle, `${BUNDLE} is missing (CI=true): run npm run build`);
    server = await startCliServer();
    browser = await launchChromiumProfile();
  });

  after(async () => {
    if (faye) await shutdownFaye(faye);
    await browser?.close();
    if (server) await stopCliServer(server);
  });

  it("subscribes, receives a Faye publish and publishes back", { timeout: 60_000 }, async () => {
    const errors: string[] = [];
    const page = await browser.context.newPage();
    page.on("pageerror", (err) => errors.push(err.message));
    // Every request the page makes must succeed (the browser's own favicon probe aside).
    page.on("response", (response) => {
      if (response.status() >= 400 && !response.url().endsWith("/favicon.ico")) {
        errors.push(`${response.status()} ${response.url()}`);
      }
    });
    await page.goto(`${server.base}/`);
    await page.waitForSelector('body[data-bayeux="connected"]', { timeout: 15_000 });
    assert.equal(await page.isVisible("#bayeux-panel"), true);

    // The chat side joins "lobby" too, to see the bridge at work.
    await page.fill("#nickname-input", "Ada");
    await page.click("#nickname-form button[type=submit]");
    await page.waitForSelector('body[data-nickname="Ada"]');
    await page.fill("#room-input", "lobby");
    await page.click("#join-form button[type=submit]");
    await page.waitForSelector('body[data-room="lobby"]');

    await page.fill("#bayeux-channel-input", "/chat/lobby");
    await page.click("#bayeux-subscribe-button");
    await page.waitForSelector('#bayeux-subscriptions li[data-channel="/chat/lobby"]');

    faye = fayeClient(`${server.base}/bayeux`, "websocket");
    const heard: unknown[] = [];
    await faye.subscribe("/chat/lobby", (data) => heard.push(data));
    await faye.publish("/chat/lobby", { from: "node-faye", text: "hello <i>panel</i>" });

    // In the Bayeux panel, as text…
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll("#bayeux-messages li")).some(
          (li) =>
            li.querySelector(".channel")?.textContent === "/chat/lobby" &&
            li.querySelector(".text")?.textContent === "node-faye: hello <i>panel</i>",
        ),
      undefined,
      { timeout: 10_000 },
    );
    assert.equal(await page.locator("#bayeux-messages i").count(), 0);
    // …and bridged into the chat room.
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#messages li.message[data-via="bayeux"]')).some(
          (li) => li.querySelector(".from")?.textContent === "node-faye",
        ),
      undefined,
      { timeout: 10_000 },
    );

    // The panel publishes; the Faye client in Node hears it.
    await page.fill("#bayeux-publish-channel", "/chat/lobby");
    await page.fill("#bayeux-publish-input", "hello node");
    await page.click("#bayeux-publish-button");
    await until(() => heard.some((d) => (d as { text?: string }).text === "hello node"), 10_000);
    assert.deepEqual(
      heard.find((d) => (d as { text?: string }).text === "hello node"),
      { text: "hello node", from: "Ada" },
    );
    assert.deepEqual(errors, []);
  });
});
