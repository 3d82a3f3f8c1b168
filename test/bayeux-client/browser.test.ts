/**
 * The browser bundle in a real headless Chromium (playwright-core driving
 * Debian's /usr/bin/chromium). A page served from one origin loads the IIFE
 * bundle (built by scripts/build-client-bundle.mjs) and uses
 * `window.Switchboard.BayeuxClient` to subscribe, publish and receive:
 * against Faye on the same origin (websocket, long-polling), against Faye on
 * another origin with `crossDomain` (callback-polling, JSONP), and against
 * Switchboard's own server on another origin (websocket, CORS long-polling).
 *
 * Without /usr/bin/chromium the test is skipped, except under CI=true where
 * that is a failure.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import type { ConnectionType } from "../../src/bayeux/client/index.js";
import {
  CHROMIUM,
  CHROMIUM_MISSING,
  hasChromium,
  launchChromium,
  skipUnless,
} from "../helpers/chromium.js";
import { type FayeServer, type SwitchboardServer, startFaye, startSwitchboard } from "./helpers.js";

const skip = skipUnless([hasChromium, CHROMIUM_MISSING]);

type ClientModule = typeof import("../../src/bayeux/client/index.js");

const repo = fileURLToPath(new URL("../../", import.meta.url));

interface PageResult {
  connectionType: string | null;
  data: unknown;
  replySuccessful: boolean;
}

// Runs inside the page: one client subscribes, publishes, and reports what came back.
async function roundTrip(page: Page, url: string, transports: string[], crossDomain = false) {
  return page.evaluate(
    async ({ url, transports, crossDomain }) => {
      const { BayeuxClient } = (window as unknown as { Switchboard: ClientModule }).Switchboard;
      const client = new BayeuxClient(url, {
        transports: transports as ConnectionType[],
        crossDomain,
        maxNetworkDelay: 5000,
      });
      try {
        await client.init();
        const received = new Promise((resolve) => {
          void client.subscribe("/browser/**", (message: { data: unknown }) =>
            resolve(message.data),
          );
        });
        await new Promise((r) => setTimeout(r, 50));
        const reply = await client.publish("/browser/test", { hello: transports[0] });
        const data = await Promise.race([
          received,
          new Promise((_, reject) => setTimeout(() => reject(new Error("no delivery")), 5000)),
        ]);
        return { connectionType: client.connectionType, data, replySuccessful: reply.successful };
      } finally {
        await client.disconnect();
      }
    },
    { url, transports, crossDomain },
  ) as Promise<PageResult>;
}

describe("browser bundle in headless Chromium", { skip, timeout: 60_000 }, () => {
  let outdir: string;
  let bundle: string;
  let home: FayeServer;
  let other: FayeServer;
  let ours: SwitchboardServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    assert.ok(hasChromium, `${CHROMIUM} is required when CI=true`);
    outdir = mkdtempSync(join(tmpdir(), "sb-bayeux-bundle-"));
    execFileSync(process.execPath, [
      join(repo, "scripts/build-client-bundle.mjs"),
      "--outdir",
      outdir,
    ]);
    bundle = readFileSync(join(outdir, "bayeux-client.browser.js"), "utf8");
    home = await startFaye({
      extra(req, res) {
        if (req.url === "/bayeux-client.browser.js") {
          res.writeHead(200, { "content-type": "text/javascript" });
          res.end(bundle);
          return;
        }
        res.writeHead(200, { "content-type": "text/html" });
        res.end(
          '<!doctype html><title>bayeux</title><script src="/bayeux-client.browser.js"></script>',
        );
      },
    });
    other = await startFaye();
    // Cross-origin long-polling needs the page's origin allowed (same origin only by default).
    ours = await startSwitchboard({ timeout: 2000, cors: { origin: [new URL(home.url).origin] } });
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(home.url.replace("/bayeux", "/"));
    await page.waitForFunction(() => "Switchboard" in window);
  });

  after(async () => {
    await browser?.close();
    await Promise.all([home?.close(), other?.close(), ours?.close()]);
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it("exposes window.Switchboard.BayeuxClient", async () => {
    const type = await page.evaluate(
      () =>
        typeof (window as unknown as { Switchboard: { BayeuxClient: unknown } }).Switchboard
          .BayeuxClient,
    );
    assert.equal(type, "function");
  });

  for (const transport of ["websocket", "long-polling"]) {
    it(`faye, same origin, ${transport}`, async () => {
      const result = await roundTrip(page, home.url, [transport]);
      assert.deepEqual(result, {
        connectionType: transport,
        data: { hello: transport },
        replySuccessful: true,
      });
    });
  }

  it("faye on another origin with crossDomain: callback-polling (JSONP)", async () => {
    const result = await roundTrip(page, other.url, ["callback-polling"], true);
    assert.deepEqual(result, {
      connectionType: "callback-polling",
      data: { hello: "callback-polling" },
      replySuccessful: true,
    });
  });

  for (const transport of ["websocket", "long-polling", "callback-polling"]) {
    it(`switchboard's server on another origin, ${transport}`, async () => {
      const result = await roundTrip(page, ours.url, [transport], transport === "callback-polling");
      assert.deepEqual(result, {
        connectionType: transport,
        data: { hello: transport },
        replySuccessful: true,
      });
    });
  }
});
