/**
 * Target `switchboard`: the bench application on Switchboard's built
 * `dist/index.js` (what `npm run build` produces), with the same code as the
 * socket.io target. Loaded at run time so the bench type-checks before a build.
 * `BENCH_SWITCHBOARD_ENTRY` points at another build of the entry file.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { host } from "./host.js";
import { type ServerClass, startSocketIoApp } from "./sio-app.js";

const entry = pathToFileURL(
  resolve(import.meta.dirname, "../..", process.env.BENCH_SWITCHBOARD_ENTRY ?? "dist/index.js"),
).href;

await host(async (config) => {
  const module = (await import(entry)) as { Server?: ServerClass };
  if (typeof module.Server !== "function") throw new Error(`${entry} exports no Server class`);
  return startSocketIoApp(module.Server, config);
});
