#!/usr/bin/env node
/**
 * Copies the Socket.IO browser client that `serveClient` serves into the
 * package, so that the server needs no `socket.io-client` at run time (it is a
 * devDependency, read only here):
 *
 *   dist/client-dist/<file>.gz   each bundle and map of socket.io-client's dist/, gzip level 9
 *   dist/client-dist/client.json { "version": "<socket.io-client version>", "files": [...] }
 *
 * Only the gzip form is shipped: it is what browsers ask for, and it keeps the
 * installed package small (1.2 MB of bundles and maps become 0.3 MB). The
 * server derives the plain and brotli forms from it on first request.
 *
 * Usage: node scripts/build-socketio-client.mjs [--outdir <dir>]
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { constants, gzip } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const gzipAsync = promisify(gzip);

/** The files served, as socket.io 4.8 serves them from its client-dist/. */
export const CLIENT_FILES = [
  "socket.io.js",
  "socket.io.min.js",
  "socket.io.esm.min.js",
  "socket.io.msgpack.min.js",
].flatMap((f) => [f, `${f}.map`]);

/**
 * Writes the gzipped client files and `client.json` into `outdir`.
 * @param {{ outdir?: string }} [options]
 * @returns {Promise<{ outdir: string, version: string }>}
 */
export async function buildSocketIoClient(options = {}) {
  const outdir = resolve(options.outdir ?? join(root, "dist", "client-dist"));
  const require = createRequire(join(root, "package.json"));
  const manifest = require.resolve("socket.io-client/package.json");
  const { version } = JSON.parse(await readFile(manifest, "utf8"));
  const source = join(dirname(manifest), "dist");
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  for (const file of CLIENT_FILES) {
    const bytes = await readFile(join(source, file));
    const gz = await gzipAsync(bytes, { level: constants.Z_BEST_COMPRESSION });
    await writeFile(join(outdir, `${file}.gz`), gz);
  }
  await writeFile(
    join(outdir, "client.json"),
    `${JSON.stringify({ version, files: CLIENT_FILES }, null, 2)}\n`,
  );
  return { outdir, version };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--outdir");
  const { outdir, version } = await buildSocketIoClient({
    outdir: at >= 0 ? args[at + 1] : undefined,
  });
  console.log(`copied socket.io-client ${version} to ${outdir}`);
}
