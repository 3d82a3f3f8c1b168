/**
 * Entry of the browser bundle: exposes the client as
 * `window.Switchboard.BayeuxClient`, next to whatever else a page already
 * put under `window.Switchboard`.
 */
import * as api from "./index.js";

export * from "./index.js";

const root = globalThis as { Switchboard?: Record<string, unknown> };
root.Switchboard = Object.assign(root.Switchboard ?? {}, api);
