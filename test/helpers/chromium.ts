/**
 * Headless Chromium for the browser tests: playwright-core driving Debian's
 * /usr/bin/chromium. A test whose requirements are missing is skipped with
 * the reason, except under CI=true, where its `before()` asserts them and so
 * fails instead.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

/** Flags for a quiet headless run: no sandbox (containers), no GPU, no background traffic. */
const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The `skip` option of a browser `describe`: the reason of the first missing
 * requirement (`[present, reason]` pairs), or false when all are present or
 * under CI=true (a missing requirement is a failure there, never a skip).
 *
 * @example
 * describe("page", { skip: skipUnless([hasChromium, "apt-get install chromium"]) }, () => {});
 */
export function skipUnless(...requirements: [present: boolean, reason: string][]): string | false {
  if (process.env.CI === "true") return false;
  for (const [present, reason] of requirements) if (!present) return reason;
  return false;
}

/** Why the tests skip without Chromium. */
export const CHROMIUM_MISSING = `${CHROMIUM} missing: apt-get install chromium`;

/** Launches a headless browser; close it with `browser.close()`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}

/** A browser context on a fresh profile directory, removed again by `close()`. */
export interface ChromiumProfile {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with a persistent context on a new temporary profile. */
export async function launchChromiumProfile(): Promise<ChromiumProfile> {
  const profile = mkdtempSync(join(tmpdir(), "switchboard-chromium-"));
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
  } catch (err) {
    removeProfile();
    throw err;
  }
  return {
    context,
    async close() {
      await context.close();
      removeProfile();
    },
  };
}
