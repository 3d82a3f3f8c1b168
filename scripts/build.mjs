#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`, so a git install and `npm pack` build too):
 * a clean dist/ with the compiled server and the declarations its entry points
 * reach (no source maps: the package ships no src/ for them to point at), the
 * Bayeux browser bundles and the Socket.IO browser client that `serveClient`
 * serves.
 *
 * `--if-dev-deps` (the `prepare` script's flag) skips the build, saying so, when
 * the devDependencies are not installed: `npm ci --omit=dev` in a checkout runs
 * `prepare` too, and has no compiler to build with.
 */
import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));

if (process.argv.includes("--if-dev-deps")) {
  try {
    require.resolve("typescript/bin/tsc");
  } catch {
    console.log("switchboard: devDependencies not installed, dist/ not built (npm run build)");
    process.exit(0);
  }
}

// Loaded only now: the bundler is a devDependency too.
const { buildClientBundle } = await import("./build-client-bundle.mjs");
const { buildSocketIoClient } = await import("./build-socketio-client.mjs");
const { pruneDeclarations } = await import("./prune-declarations.mjs");

// Files of an earlier build (renamed modules, old maps) would otherwise be packed.
await rm(join(root, "dist"), { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [require.resolve("typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")],
  { cwd: root, stdio: "inherit" },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
await pruneDeclarations(root);
await buildClientBundle();
const { version } = await buildSocketIoClient();
console.log(`built dist/ (socket.io-client ${version} for serveClient)`);
