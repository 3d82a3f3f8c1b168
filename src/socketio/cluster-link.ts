/**
 * What one namespace says to, and answers from, the same namespace on other
 * nodes, through its hub space (the adapter never touches the broker).
 *
 * A broadcast to rooms `[r1, r2]` is published once per room topic, each
 * message carrying the whole room list: a node receiving it on `r2` delivers
 * to its sockets in `r2` that are in no room listed before `r2` (and in no
 * `except` room), so a socket in both rooms gets it once with no state kept
 * per message. A broadcast to the whole namespace goes to the namespace
 * topic, which every node with the namespace listens to, and so do the
 * `socketsJoin` / `socketsLeave` / `disconnectSockets` operations.
 *
 * Cluster queries (fetchSockets, broadcasts with acknowledgements,
 * serverSideEmit with an acknowledgement) are hub requests: they never wait
 * past their timeout, and report the nodes that did not answer.
 */
import type { Packet } from "../codec/socketio/index.js";
import type { DecodedEnvelope, Envelope, HubSpace } from "../core/index.js";
import { LogLimiter } from "../shared/log-limiter.js";
import type { Adapter, BroadcastFlags, BroadcastOptions, Room, SocketId } from "./adapter.js";
import {
  ackTopic,
  headerOf,
  namespaceTopic,
  packValues,
  readFlags,
  readNamespace,
  readTargets,
  requestTopic,
  type TargetHeader,
  unpackValues,
} from "./cluster-messages.js";
import type { Handshake } from "./socket-types.js";

/** A socket of another node as `fetchSockets` receives it. */
export interface SocketDetails {
  id: SocketId;
  handshake: Handshake;
  rooms: Room[];
  data: unknown;
}

/** What a cluster query gathered. */
export interface Gathered<T> {
  items: T[];
  /** Nodes that did not answer in time. */
  missing: string[];
}

function optsOf(targets: TargetHeader, flags?: BroadcastFlags): BroadcastOptions {
  return { rooms: new Set(targets.rooms), except: new Set(targets.except), flags };
}

export class ClusterLink {
  readonly #adapter: Adapter;
  readonly #space: HubSpace<SocketId>;
  readonly #nsp: string;
  #stops: (() => void)[] = [];
  /** Broadcasts with acknowledgements this node waits for, by request id. */
  readonly #acks = new Map<number, (response: unknown) => void>();
  #nextRequest = 0;
  /** Malformed messages from other nodes are warned of once per 10 s. */
  readonly #drops = new LogLimiter();

  constructor(adapter: Adapter, space: HubSpace<SocketId>) {
    this.#adapter = adapter;
    this.#space = space;
    this.#nsp = adapter.nsp.name;
  }

  #dropped(type: string, msg: string): void {
    const suppressed = this.#drops.take();
    if (suppressed >= 0)
      this.#adapter.nsp.server.logger.warn({ nsp: this.#nsp, type, suppressed }, msg);
  }

  /** Starts listening to the namespace topic and answering requests. */
  start(): void {
    if (this.#stops.length > 0) return;
    const hub = this.#space.hub;
    this.#stops.push(
      hub.listen(namespaceTopic(this.#nsp), (envelope) => this.#onMessage(null, envelope)),
      hub.respond(requestTopic(this.#nsp), (envelope, origin) => this.#onRequest(envelope, origin)),
      hub.listen(ackTopic(this.#nsp, hub.nodeId), (envelope) => this.#onAck(envelope)),
    );
  }

  /** Stops listening and answering. */
  stop(): void {
    const stops = this.#stops;
    this.#stops = [];
    for (const stop of stops) stop();
  }

  /** A message on one of this namespace's room topics (the space's handler). */
  onRoomMessage(room: string, envelope: DecodedEnvelope): void {
    this.#onMessage(room, envelope);
  }

  /**
   * Sends a broadcast's encoded packet to the other nodes: once per room
   * topic (one encoding for all), or on the namespace topic for the whole
   * namespace. A broadcast to one room with no exception or flag has no
   * header: the envelope is its type and the packet.
   */
  publish(frames: readonly (string | Buffer)[], opts: BroadcastOptions): void {
    const bytes = this.#space.hub.encode({
      type: "b",
      header: headerOf(this.#nsp, opts, true, opts.flags),
      frames,
    });
    const rooms = opts.rooms;
    if (rooms === undefined || rooms.size === 0) {
      this.#space.hub.publish(namespaceTopic(this.#nsp), bytes);
      return;
    }
    for (const room of rooms) this.#space.publish(room, bytes);
  }

  /** Sends `socketsJoin` (`j`), `socketsLeave` (`l`) or `disconnectSockets` (`d`) to the other nodes. */
  control(type: "j" | "l" | "d", opts: BroadcastOptions, extra: Record<string, unknown>): void {
    const envelope = {
      type,
      header: { ...headerOf(this.#nsp, opts, false), ...extra },
      frames: [],
    };
    this.#space.hub.publish(namespaceTopic(this.#nsp), this.#space.hub.encode(envelope));
  }

  /** Sends a server-side event to the other nodes (no answer expected). */
  serverSideEmit(args: unknown[]): void {
    const envelope = { type: "s", header: this.#own(), frames: packValues(args) };
    this.#space.hub.publish(namespaceTopic(this.#nsp), this.#space.hub.encode(envelope));
  }

  /** A header naming this namespace alone (nothing for the main one). */
  #own(): Record<string, unknown> {
    return headerOf(this.#nsp, {}, false);
  }

  /** Sends a server-side event and gathers each node's answer. */
  async serverSideEmitWithAck(args: unknown[], timeout: number): Promise<Gathered<unknown>> {
    const envelope = { type: "s", header: this.#own(), frames: packValues(args) };
    const { replies, missing } = await this.#request(envelope, timeout);
    const items = [];
    for (const { envelope: reply } of replies) {
      const values = unpackValues(reply.frames);
      if (values !== undefined) items.push(values[0]);
    }
    return { items, missing };
  }

  /** The other nodes' sockets matching `opts`. */
  async fetchSockets(opts: BroadcastOptions, timeout: number): Promise<Gathered<SocketDetails>> {
    const envelope = { type: "f", header: headerOf(this.#nsp, opts, false), frames: [] };
    const { replies, missing } = await this.#request(envelope, timeout);
    const items: SocketDetails[] = [];
    for (const { envelope: reply } of replies) {
      const values = unpackValues(reply.frames);
      if (values !== undefined && Array.isArray(values[0])) {
        items.push(...(values[0] as SocketDetails[]));
      }
    }
    return { items, missing };
  }

  /**
   * A broadcast expecting acknowledgements, on the other nodes, as
   * socket.io's cluster adapters do it: each node reports its number of
   * recipients (`clientCount`, the answer to the request) and then sends each
   * answer as it comes (`ack`), so the answers of quick nodes are in even
   * when another node is silent. A node without this namespace reports 0; a
   * node that does not answer is never counted, so the caller's timeout ends
   * the wait.
   */
  broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    timeout: number,
    clientCount: (count: number) => void,
    ack: (response: unknown) => void,
  ): void {
    const rid = this.#nextRequest++;
    this.#acks.set(rid, ack);
    // Late answers have no one to go to after the timeout.
    setTimeout(() => this.#acks.delete(rid), timeout).unref?.();
    // The packet travels without its id: each node numbers its own acknowledgements.
    const frames = packValues([packet.data]);
    const fields = { ...headerOf(this.#nsp, opts, false, opts.flags), rid, timeout };
    const asked = this.#space.hub.nodes();
    this.#request({ type: "a", header: fields, frames }, timeout).then(({ replies, missing }) => {
      const heard = new Set(missing);
      for (const { node, envelope } of replies) {
        heard.add(node);
        const count = envelope.header.count;
        if (typeof count === "number") clientCount(count);
      }
      for (const node of asked) if (!heard.has(node)) clientCount(0);
      if (missing.length > 0) this.#adapter.emit("missing-nodes", "broadcastWithAck", missing);
    });
  }

  /** One client's answer to a broadcast this node sent, from the node holding the client. */
  #onAck(envelope: DecodedEnvelope): void {
    const { type, header: fields, frames } = envelope;
    if (type !== "k" || readNamespace(fields) !== this.#nsp || typeof fields.rid !== "number") {
      return;
    }
    const ack = this.#acks.get(fields.rid);
    const values = unpackValues(frames);
    if (ack !== undefined && values !== undefined) ack(values[0]);
  }

  #request(envelope: Envelope, timeout: number) {
    return this.#space.hub.request(requestTopic(this.#nsp), envelope, timeout);
  }

  #onMessage(room: string | null, envelope: DecodedEnvelope): void {
    const { type, header: fields, frames } = envelope;
    // A topic two namespaces share by name (room "b" of "/a", namespace "/a/b").
    if (readNamespace(fields) !== this.#nsp) return;
    const adapter = this.#adapter;
    if (type === "s") {
      const args = unpackValues(frames);
      if (args !== undefined && typeof args[0] === "string") adapter.nsp._onServerSideEmit(args);
      return;
    }
    // Only a broadcast leaves its one room unsaid (its topic's room).
    const targets = readTargets(fields, type === "b" ? room : null);
    if (targets === undefined) {
      this.#dropped(type, "dropping a cluster message without recipients");
      return;
    }
    switch (type) {
      case "b": {
        if (room === null) {
          if (targets.rooms.length === 0) {
            adapter._deliverRemote(undefined, targets.except, readFlags(fields), frames);
          }
          return;
        }
        const rooms = targets.rooms;
        if (rooms.length === 1) {
          if (rooms[0] === room)
            adapter._deliverRemote(room, targets.except, readFlags(fields), frames);
          return;
        }
        const index = rooms.indexOf(room);
        if (index === -1) return;
        // Sockets in a room listed earlier got it through that room's message.
        const except = [...targets.except, ...rooms.slice(0, index)];
        adapter._deliverRemote(room, except, readFlags(fields), frames);
        return;
      }
      case "j":
      case "l": {
        const names = fields.names;
        if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) return;
        if (type === "j") adapter._joinLocal(optsOf(targets), names);
        else adapter._leaveLocal(optsOf(targets), names);
        return;
      }
      case "d":
        adapter._disconnectLocal(optsOf(targets), fields.close === true);
        return;
      default:
        this.#dropped(type, "dropping a cluster message of unknown type");
    }
  }

  #onRequest(
    envelope: DecodedEnvelope,
    origin: string,
  ): Envelope | undefined | Promise<Envelope | undefined> {
    const { type, header: fields, frames } = envelope;
    if (readNamespace(fields) !== this.#nsp) return undefined;
    if (type === "s") return this.#answerServerSide(frames);
    const targets = readTargets(fields);
    if (targets === undefined) return undefined;
    if (type === "f") {
      const sockets = this.#adapter._localDetails(optsOf(targets));
      return { type: "r", frames: packValues([sockets]) };
    }
    if (type === "a") {
      const values = unpackValues(frames);
      const { timeout, rid } = fields;
      if (
        values === undefined ||
        !Array.isArray(values[0]) ||
        typeof timeout !== "number" ||
        typeof rid !== "number"
      ) {
        return undefined;
      }
      const opts = optsOf(targets, readFlags(fields));
      return this.#answerBroadcast(values[0], opts, timeout, ackTopic(this.#nsp, origin), rid);
    }
    return undefined;
  }

  #answerServerSide(frames: (string | Buffer)[]): Promise<Envelope> | undefined {
    const args = unpackValues(frames);
    if (args === undefined || typeof args[0] !== "string") return undefined;
    // No answer from a listener: the asking node sees this one as missing at its timeout.
    return new Promise((resolve) => {
      this.#adapter.nsp._onServerSideEmit([
        ...args,
        (answer: unknown) => resolve({ type: "r", frames: packValues([answer]) }),
      ]);
    });
  }

  /**
   * Runs another node's broadcast with acknowledgements here: answers with
   * the number of recipients at once, then sends each answer to the asking
   * node's acknowledgement topic as it comes.
   */
  #answerBroadcast(
    data: unknown[],
    opts: BroadcastOptions,
    timeout: number,
    replyTopic: string,
    rid: number,
  ): Envelope {
    const packet: Packet = { type: 2, nsp: this.#nsp, data };
    const hub = this.#space.hub;
    let count = 0;
    this.#adapter._broadcastWithAckLocal(
      packet,
      opts,
      (n) => {
        count = n;
      },
      (response) => {
        const envelope = {
          type: "k",
          header: { ...this.#own(), rid },
          frames: packValues([response]),
        };
        hub.publish(replyTopic, hub.encode(envelope));
      },
      false,
    );
    // Sockets stop waiting when the asking node does.
    const id = packet.id;
    if (count > 0 && id !== undefined) {
      setTimeout(() => this.#adapter._forgetBroadcastAck(id), timeout).unref?.();
    }
    return { type: "r", header: { count }, frames: [] };
  }
}
