/**
 * The demo chat in a real headless Chromium (playwright-core driving Debian's
 * /usr/bin/chromium): the CLI server on port 0, two pages, nicknames, the same
 * room, a message from A shown on B and one from B shown on A, member lists
 * and join notices included.
 *
 * Without /usr/bin/chromium the test is skipped (install it with
 * `apt-get install chromium`), except under CI=true where that is a failure.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import {
  CHROMIUM,
  CHROMIUM_MISSING,
  type ChromiumProfile,
  hasChromium,
  launchChromiumProfile,
  skipUnless,
} from "../helpers/chromium.js";
import { type CliServer, startCliServer, stopCliServer } from "./cli-server.js";

const skip = skipUnless([hasChromium, CHROMIUM_MISSING]);

async function setNickname(page: Page, nickname: string): Promise<void> {
  await page.fill("#nickname-input", nickname);
  await page.click("#nickname-form button[type=submit]");
  await page.waitForSelector(`body[data-nickname="${nickname}"]`);
}

async function joinRoom(page: Page, room: string): Promise<void> {
  await page.fill("#room-input", room);
  await page.click("#join-form button[type=submit]");
  await page.waitForSelector(`body[data-room="${room}"]`);
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill("#message-input", text);
  await page.click("#send-button");
}

async function waitForMessage(page: Page, from: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([f, t]) =>
      Array.from(document.querySelectorAll("#messages li.message")).some(
        (li) =>
          li.querySelector(".from")?.textContent === f &&
          li.querySelector(".text")?.textContent === t,
      ),
    [from, text] as const,
    { timeout: 10_000 },
  );
}

describe("demo chat in Chromium", { skip }, () => {
  let server: CliServer;
  let browser: ChromiumProfile;

  before(async () => {
    assert.ok(hasChromium, `${CHROMIUM} is missing (CI=true): apt-get install chromium`);
    server = await startCliServer();
    browser = await launchChromiumProfile();
  });

  after(async () => {
    await browser?.close();
    if (server) await stopCliServer(server);
  });

  it("two pages chat in the same room", { timeout: 60_000 }, async () => {
    const errors: string[] = [];
    const [a, b] = [await browser.context.newPage(), await browser.context.newPage()];
    for (const page of [a, b]) {
      page.on("pageerror", (err) => errors.push(err.message));
      await page.goto(`${server.base}/`);
      await page.waitForSelector('#status[data-state="connected"]', { timeout: 15_000 });
    }

    await setNickname(a, "Ada");
    await setNickname(b, "Bob");
    await joinRoom(a, "lobby");
    await joinRoom(b, "lobby");

    // A sees B arrive and both list the same members.
    await a.waitForFunction(() =>
      Array.from(document.querySelectorAll("#messages li.notice")).some(
        (li) => li.textContent === "Bob joined lobby",
      ),
    );
    for (const page of [a, b]) {
      await page.waitForFunction(
        () =>
          Array.from(document.querySelectorAll("#members li"))
            .map((li) => li.textContent)
            .join(",") === "Ada,Bob",
      );
    }

    await send(a, "hello from A <b>not bold</b>");
    await waitForMessage(b, "Ada", "hello from A <b>not bold</b>");
    await send(b, "hello back from B");
    await waitForMessage(a, "Bob", "hello back from B");
    // The sender sees its own message too, and markup stays text.
    await waitForMessage(a, "Ada", "hello from A <b>not bold</b>");
    assert.equal(await b.locator("#messages b").count(), 0);

    // B leaves: A's member list and notices follow.
    await b.click("#leave-button");
    await a.waitForFunction(
      () =>
        Array.from(document.querySelectorAll("#members li"))
          .map((li) => li.textContent)
          .join(",") === "Ada",
    );
    assert.deepEqual(errors, []);
  });
});
