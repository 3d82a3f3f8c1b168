/**
 * A delivery: one published message as every subscriber receives it. It is
 * serialised once; long-polling replies splice {@link Delivery.json} into
 * their array and websocket recipients share the bytes of
 * {@link Delivery.frame}, so a broadcast to N clients costs one
 * `JSON.stringify` and one buffer, not N.
 */
import { BayeuxEncodeError, type BayeuxMessage } from "../../codec/bayeux/index.js";
import { encodeFrame } from "../../transport/ws-frame.js";

/** Anything that can receive deliveries: a client session or an in-process listener. */
export interface ChannelSubscriber {
  deliver(delivery: Delivery): void;
}

export class Delivery {
  /** The message delivered: `channel`, `data`, and `id` / `ext` when the publisher set them. */
  readonly message: BayeuxMessage;
  #json: string | null = null;
  /** The node that published it, when another node did (undefined: this one). */
  origin: string | undefined = undefined;
  /**
   * Its offset in the channel log (option `channelLog`), when it was
   * delivered from there: what an ack-extension session's floor is made of.
   */
  offset: string | undefined = undefined;
  #frame: Buffer | null = null;
  #wsFrame: Buffer[] | null = null;

  constructor(message: BayeuxMessage) {
    this.message = message;
  }

  /**
   * A delivery of a message from server code, encoded now: a value that
   * cannot be encoded throws {@link BayeuxEncodeError} to the caller even
   * when nobody is subscribed.
   */
  static encoded(message: BayeuxMessage): Delivery {
    const delivery = new Delivery(message);
    delivery.json;
    return delivery;
  }

  /**
   * A delivery whose JSON is already known (a message another node
   * published, read from that JSON): it is not encoded again.
   */
  static fromJson(message: BayeuxMessage, json: string, origin?: string): Delivery {
    const delivery = new Delivery(message);
    delivery.#json = json;
    delivery.origin = origin;
    return delivery;
  }

  /**
   * The message as JSON, computed once, on first use: a publish to a channel
   * nobody listens to is never encoded. A message a client published was
   * decoded within maxPayloadDepth and always encodes; one from server code
   * (or reshaped by an extension) may not: it fails here, at publish time,
   * before any subscriber is written to.
   */
  get json(): string {
    if (this.#json === null) {
      try {
        this.#json = JSON.stringify(this.message);
      } catch (err) {
        throw new BayeuxEncodeError(err);
      }
    }
    return this.#json;
  }

  /** The websocket frame payload `[<json>]`, built on first use and shared. */
  get frame(): Buffer {
    this.#frame ??= Buffer.from(`[${this.json}]`, "utf8");
    return this.#frame;
  }

  /** The complete websocket text frame of {@link frame}, built once and written as is. */
  get wsFrame(): Buffer[] {
    this.#wsFrame ??= encodeFrame(this.frame, false);
    return this.#wsFrame;
  }
}

/**
 * Builds the delivered form of a published message: only the fields a
 * subscriber should see (no `clientId` of the publisher, Bayeux 1.0 section
 * 5.2 "Deliver event message").
 */
export function deliveryOf(message: BayeuxMessage): BayeuxMessage {
  const out: BayeuxMessage = { channel: message.channel, data: message.data };
  if (message.id !== undefined) out.id = message.id;
  if (message.ext !== undefined) out.ext = message.ext;
  return out;
}
