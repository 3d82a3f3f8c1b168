/** Socket.IO messages between nodes: what their headers leave out, and the envelopes on the wire. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeEnvelope, encodeEnvelope } from "../../src/core/index.js";
import {
  headerOf,
  readFlags,
  readNamespace,
  readTargets,
} from "../../src/socketio/cluster-messages.js";

const set = (...items: string[]): Set<string> => new Set(items);

describe("Socket.IO cluster message headers", () => {
  const cases: {
    name: string;
    nsp: string;
    opts: { rooms?: Set<string>; except?: Set<string> };
    topicRoom: boolean;
    flags?: { volatile?: boolean; compress?: boolean; local?: boolean };
    header: Record<string, unknown>;
  }[] = [
    {
      name: "a plain broadcast to one room of / on its topic",
      nsp: "/",
      opts: { rooms: set("lobby") },
      topicRoom: true,
      header: {},
    },
    {
      name: "the whole main namespace",
      nsp: "/",
      opts: { rooms: set() },
      topicRoom: true,
      header: {},
    },
    {
      name: "one room, not on its topic (a control message)",
      nsp: "/",
      opts: { rooms: set("lobby") },
      topicRoom: false,
      header: { rooms: ["lobby"] },
    },
    {
      name: "two rooms, an exception, another namespace, flags that travel",
      nsp: "/chat",
      opts: { rooms: set("a", "b"), except: set("c") },
      topicRoom: true,
      flags: { volatile: true, compress: false, local: false },
      header: {
        nsp: "/chat",
        rooms: ["a", "b"],
        except: ["c"],
        flags: { volatile: true, compress: false },
      },
    },
    {
      name: "default flags say nothing",
      nsp: "/",
      opts: { rooms: set("a") },
      topicRoom: true,
      flags: { volatile: false, compress: true },
      header: {},
    },
  ];
  for (const c of cases) {
    it(`writes ${c.name}`, () => {
      assert.deepEqual(headerOf(c.nsp, c.opts, c.topicRoom, c.flags), c.header);
    });
  }

  it("reads absent fields as their defaults", () => {
    assert.equal(readNamespace({}), "/");
    assert.equal(readNamespace({ nsp: "/chat" }), "/chat");
    assert.deepEqual(readTargets({}, "lobby"), { rooms: ["lobby"], except: [] });
    assert.deepEqual(readTargets({}), { rooms: [], except: [] });
    assert.deepEqual(readTargets({ rooms: ["a", "b"], except: ["c"] }, "a"), {
      rooms: ["a", "b"],
      except: ["c"],
    });
    assert.deepEqual(readFlags({}), {});
    assert.deepEqual(readFlags({ flags: { volatile: true, compress: false, x: 1 } }), {
      volatile: true,
      compress: false,
    });
  });

  it("refuses malformed recipients", () => {
    assert.equal(readTargets({ rooms: "a" }), undefined);
    assert.equal(readTargets({ rooms: [1] }), undefined);
    assert.equal(readTargets({ except: [null] }, "a"), undefined);
    assert.equal(readTargets({ except: {} }), undefined);
  });

  it("a plain broadcast of / is 6 bytes plus its packet on the wire", () => {
    const packet = '2["m",{"n":1}]';
    const bytes = encodeEnvelope({
      type: "b",
      header: headerOf("/", { rooms: set("bench") }, true),
      frames: [packet],
    });
    assert.equal(
      bytes.toString("hex"),
      `4802620001${(packet.length * 2).toString(16)}${Buffer.from(packet).toString("hex")}`,
    );
    const back = decodeEnvelope(bytes);
    assert.deepEqual(readTargets(back.header, "bench"), { rooms: ["bench"], except: [] });
    assert.equal(readNamespace(back.header), "/");
  });
});
