/**
 * The `parser` option: socket.io accepts `{ Encoder, Decoder }` classes (the
 * shape of socket.io-parser and its msgpack sibling). Switchboard's codec is
 * the default; a custom decoder may either return packets from `add()` or
 * emit `"decoded"` like socket.io-parser does.
 */
import {
  Decoder,
  type DecoderOptions,
  encodePacket,
  type Packet,
} from "../codec/socketio/index.js";

export interface EncoderLike {
  encode(packet: Packet): (string | Buffer)[];
}

export interface DecoderLike {
  add(chunk: string | Buffer): Packet | null | undefined | unknown;
  on?(event: "decoded", listener: (packet: Packet) => void): unknown;
  destroy?(): void;
}

export interface ParserOption {
  Encoder: new () => EncoderLike;
  Decoder: new (options?: DecoderOptions) => DecoderLike;
}

class DefaultEncoder implements EncoderLike {
  encode(packet: Packet): (string | Buffer)[] {
    return encodePacket(packet);
  }
}

/** Switchboard's own Socket.IO codec in the `parser` option's shape. */
export const defaultParser: ParserOption = { Encoder: DefaultEncoder, Decoder };
