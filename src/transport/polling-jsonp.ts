/**
 * JSONP long-polling, for clients that cannot make cross-origin XHRs: the
 * GET response is a script `___eio[<j>]("<payload>");` and the POST body is a
 * form field `d=<payload>` (Engine.IO protocol, JSONP section). `j` is
 * checked to be digits only before this transport is built, so it can never
 * inject script.
 */
import type { ProtocolVersion } from "../codec/engineio/index.js";
import { decodePayload, decodePayloadV3, type Packet } from "../codec/engineio/index.js";
import type { BodyReader } from "./body-reader.js";
import { PollingTransport } from "./polling.js";
import type { TransportConfig } from "./transport.js";

/** Whether a JSONP index (`j` query parameter) is acceptable. */
export function isValidJsonpIndex(j: string): boolean {
  return j.length > 0 && j.length <= 16 && /^[0-9]+$/.test(j);
}

/**
 * Clients escape newlines in the form field: `\n` (backslash, n) stands for a
 * newline and `\\n` for a literal backslash-n.
 */
export function unescapeJsonpData(data: string): string {
  return data
    .replace(/(\\)?\\n/g, (match, slash: string | undefined) => (slash ? match : "\n"))
    .replace(/\\\\n/g, "\\n");
}

export class JsonpTransport extends PollingTransport {
  readonly #head: string;

  constructor(protocol: ProtocolVersion, config: TransportConfig, index: string) {
    // Scripts carry text only: binary always travels as base64.
    super(protocol, config, false);
    this.#head = `___eio[${index}](`;
  }

  protected override get wrapsPayload(): boolean {
    return true;
  }

  protected override wrap(payload: string): string {
    // JSON is not quite a JavaScript subset: U+2028/U+2029 must be escaped.
    const js = JSON.stringify(payload)
      .replace(/\u2028/g, "\\u2028")
      .replace(/\u2029/g, "\\u2029");
    return `${this.#head}${js});`;
  }

  protected override decodeBody(reader: BodyReader, _binary: boolean): Packet[] {
    const data = new URLSearchParams(reader.text()).get("d");
    // A form without the d field carries no packet: engine.io ignores it.
    if (data === null) return [];
    const payload = unescapeJsonpData(data);
    return this.protocol === 3 ? decodePayloadV3(payload) : decodePayload(payload);
  }
}
