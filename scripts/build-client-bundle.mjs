#!/usr/bin/env node
/**
 * Builds the browser bundles of the Bayeux client with esbuild:
 *
 *   dist/bayeux-client.browser.js   IIFE, sets window.Switchboard.BayeuxClient
 *   dist/bayeux-client.browser.mjs  ES module with the same exports
 *
 * `ws` and `node:fs` are only ever loaded dynamically by the client (Node
 * websocket fallback, log file), so they stay out of the bundles.
 *
 * No source maps by default: the package does not ship src/, and maps holding
 * their sources would double the bundles' size. `--sourcemap` writes
 * `<bundle>.map` files that carry their sources (esbuild's sourcesContent).
 *
 * Usage: node scripts/build-client-bundle.mjs [--outdir <dir>] [--no-minify] [--sourcemap]
 */
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Builds both bundles into `outdir`; returns their paths.
 * @param {{ outdir?: string, minify?: boolean, sourcemap?: boolean }} [options]
 */
export async function buildClientBundle(options = {}) {
  const outdir = resolve(options.outdir ?? join(root, "dist"));
  const minify = options.minify ?? true;
  await mkdir(outdir, { recursive: true });
  const common = {
    bundle: true,
    platform: "browser",
    target: ["es2020"],
    minify,
    sourcemap: options.sourcemap ?? false,
    sourcesContent: true,
    legalComments: "none",
    external: ["ws", "node:*"],
    logLevel: "warning",
  };
  const iife = join(outdir, "bayeux-client.browser.js");
  const esm = join(outdir, "bayeux-client.browser.mjs");
  await build({
    ...common,
    entryPoints: [join(root, "src/bayeux/client/browser.ts")],
    format: "iife",
    outfile: iife,
  });
  await build({
    ...common,
    entryPoints: [join(root, "src/bayeux/client/index.ts")],
    format: "esm",
    outfile: esm,
  });
  return { iife, esm };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--outdir");
  const outdir = at >= 0 ? args[at + 1] : undefined;
  const { iife, esm } = await buildClientBundle({
    outdir,
    minify: !args.includes("--no-minify"),
    sourcemap: args.includes("--sourcemap"),
  });
  console.log(`built ${iife}\nbuilt ${esm}`);
}
