/**
 * Target `switchboard`: the bench application on Switchboard's built
 * `dist/index.js` (what `npm run build` produces), with the same code as the
 * socket.io target. Loaded at run time so the bench type-checks before a build.
 * `BENCH_SWITCHBOARD_ENTRY` points at another build of the entry file. In the
 * cluster scenarios the server gets a `RedisBroker` as its `broker`.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { switchboardBroker } from "./cluster.js";
import { host } from "./host.js";
import { type ClusterSetup, type ServerClass, startSocketIoApp } from "./sio-app.js";

const entry = pathToFileURL(
  resolve(import.meta.dirname, "../..", process.env.BENCH_SWITCHBOARD_ENTRY ?? "dist/index.js"),
).href;

await host(async (config) => {
  const module = (await import(entry)) as { Server?: ServerClass };
  if (typeof module.Server !== "function") throw new Error(`${entry} exports no Server class`);
  let cluster: ClusterSetup = {};
  if (config.cluster !== undefined) {
    const broker = await switchboardBroker(config.cluster);
    cluster = { options: { broker }, close: () => broker.close() };
  }
  return startSocketIoApp(module.Server, config, cluster);
});
