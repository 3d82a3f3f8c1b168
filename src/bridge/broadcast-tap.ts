/**
 * Sees the broadcasts of a namespace on the node where they are emitted:
 * `io.of(N).to(room).emit(event, ...args)` reaches `adapter.broadcast` here
 * and only here (another node's copy arrives through the hub and is
 * delivered without it), which is what makes "bridged once per cluster"
 * hold. The adapter's own `broadcast` runs first and unchanged; taps run
 * after it, and a throwing tap never fails the emit.
 *
 * Emits made inside {@link untapped} (the bridge's own, from Bayeux) are not
 * shown to any tap, so a bridged message is never bridged back.
 */
import type { Packet } from "../codec/socketio/index.js";
import { createDebug } from "../shared/debug.js";
import type { Adapter, BroadcastOptions } from "../socketio/adapter.js";

const debug = createDebug("bridge:tap");

/**
 * Called with each broadcast's event, its packet data (`[event, ...args]`,
 * not to be changed) and options.
 */
export type BroadcastTap = (
  event: string,
  data: readonly unknown[],
  opts: BroadcastOptions,
) => void;

interface Tapped {
  readonly original: Adapter["broadcast"];
  /** Whether the adapter had its own `broadcast` (not the class's) before the tap. */
  readonly own: boolean;
  readonly taps: Set<BroadcastTap>;
}

const tapped = new WeakMap<Adapter, Tapped>();
let quiet = 0;

/** Runs `fn` (an emit) without showing its broadcasts to any tap. */
export function untapped<T>(fn: () => T): T {
  quiet++;
  try {
    return fn();
  } finally {
    quiet--;
  }
}

/**
 * Adds `tap` to the broadcasts of `adapter`; returns the remover. The last
 * remover puts the adapter's own `broadcast` back.
 */
export function tapBroadcasts(adapter: Adapter, tap: BroadcastTap): () => void {
  let entry = tapped.get(adapter);
  if (entry === undefined) {
    const original = adapter.broadcast;
    const taps = new Set<BroadcastTap>();
    entry = { original, own: Object.hasOwn(adapter, "broadcast"), taps };
    tapped.set(adapter, entry);
    adapter.broadcast = function broadcast(this: Adapter, packet: Packet, opts: BroadcastOptions) {
      original.call(this, packet, opts);
      if (quiet > 0 || taps.size === 0) return;
      const data = packet.data;
      if (!Array.isArray(data) || typeof data[0] !== "string") return;
      for (const each of taps) {
        try {
          each(data[0], data, opts);
        } catch (err) {
          debug("a broadcast tap failed: %O", err);
        }
      }
    };
  }
  const { taps } = entry;
  taps.add(tap);
  return () => {
    taps.delete(tap);
    const current = tapped.get(adapter);
    if (current === undefined || current.taps.size > 0) return;
    tapped.delete(adapter);
    if (current.own) adapter.broadcast = current.original;
    else delete (adapter as { broadcast?: unknown }).broadcast;
  };
}
