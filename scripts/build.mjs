#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`, so a git install and `npm pack` build too):
 * a clean dist/ with the compiled server and the declarations its entry points
 * reach (no source maps: the package ships no src/ for them to point at), the
 * Bayeux browser bundles and the Socket.IO browser client that `serveClient`
 * serves.
 */
import { spawnSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildClientBundle } from "./build-client-bundle.mjs";
import { buildSocketIoClient } from "./build-socketio-client.mjs";
import { pruneDeclarations } from "./prune-declarations.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));

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
