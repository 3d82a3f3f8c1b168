/** The hot path's reading of a polling request's sid, against the general query reading. */
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { pollingSid, queryOf } from "../../src/engine/request.js";

const cases: [string, string | null | undefined][] = [
  ["/socket.io/?EIO=4&transport=polling&sid=abc", "abc"],
  ["/socket.io/?EIO=4&transport=polling&t=Pxyz&sid=abc", "abc"],
  ["/socket.io/?sid=abc&transport=polling", "abc"],
  ["/socket.io/?EIO=4&transport=polling", undefined],
  ["/socket.io/?EIO=4&transport=polling&t=1", undefined],
  ["/socket.io/?EIO=4&transport=websocket&sid=abc", null],
  ["/socket.io/?EIO=4&sid=abc", null],
  ["/socket.io/?EIO=4&transport=pollingx&sid=abc", null],
  ["/socket.io/?EIO=4&transport=polling&sid=abc&sid=def", null],
  ["/socket.io/?EIO=4&transport=polling&transport=polling&sid=abc", null],
  ["/socket.io/?EIO=4&transport=polling&sid=a%62c", null],
  ["/socket.io/?EIO=4&transport=polling&sid=a+c", null],
  ["/socket.io/?EIO=4&transport=polling&j=0&sid=abc", null],
  ["/socket.io/?EIO=4&transport=polling&__proto__=x&sid=abc", null],
  ["/socket.io/?EIO=4&transport=polling&sid=", null],
  ["/socket.io/?EIO=4&transport=polling&sid", null],
  ["/socket.io/?EIO=4&&transport=polling&&sid=abc&", "abc"],
  ["/socket.io/?EIO=4&transport=polling&sids=abc", undefined],
  ["/socket.io/?EIO=4&transport=polling&xsid=abc", undefined],
];

describe("pollingSid", () => {
  for (const [url, expected] of cases) {
    it(`${url} → ${String(expected)}`, () => {
      const sid = pollingSid(url, url.indexOf("?") + 1);
      assert.equal(sid, expected);
      if (typeof sid === "string") {
        // Where it answers, the general reading agrees.
        const query = queryOf({ url } as IncomingMessage);
        assert.equal(query.sid, sid);
        assert.equal(query.transport, "polling");
        assert.equal(query.j, undefined);
      }
    });
  }
});
