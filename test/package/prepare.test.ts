/**
 * `prepare` runs on a git install, on `npm pack`, and also on `npm ci` /
 * `npm install` in a checkout, including `--omit=dev`, where no compiler is
 * installed: there it must skip the build and succeed, not fail the install.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));

it("prepare without devDependencies skips the build, says so, and exits 0", async () => {
  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const [command, script, ...args] = pkg.scripts.prepare.split(" ");
  assert.equal(command, "node");
  const checkout = mkdtempSync(join(tmpdir(), "sb-prepare-"));
  try {
    // A checkout with no node_modules, as `npm ci --omit=dev` leaves it when prepare runs.
    cpSync(join(repo, "scripts"), join(checkout, "scripts"), { recursive: true });
    cpSync(join(repo, "package.json"), join(checkout, "package.json"));
    const { stdout } = await run(process.execPath, [script, ...args], {
      cwd: checkout,
      timeout: 30_000,
    });
    assert.match(stdout, /devDependencies not installed, dist\/ not built/);
    assert.equal(existsSync(join(checkout, "dist")), false);
  } finally {
    rmSync(checkout, { recursive: true, force: true });
  }
});
