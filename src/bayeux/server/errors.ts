/** Errors the Bayeux server API throws at its caller (wire errors are data in the codec table). */
import { SwitchboardError } from "../../shared/errors.js";

/** A server-side API call named a channel it cannot use. */
export class BayeuxChannelError extends SwitchboardError {
  readonly channel: string;

  constructor(
    code: "ERR_BAYEUX_CHANNEL_INVALID" | "ERR_BAYEUX_CHANNEL_FORBIDDEN",
    channel: string,
  ) {
    super(code, `cannot use channel ${JSON.stringify(channel)} here`);
    this.channel = channel;
  }
}

/** The server was used after `close()`. */
export class BayeuxClosedError extends SwitchboardError {
  constructor() {
    super("ERR_BAYEUX_CLOSED", "the Bayeux server is closed");
  }
}

/**
 * An extension hook neither called back nor settled within `extensionTimeout`;
 * the message it held fails with `500::Extension timed out`.
 */
export class BayeuxExtensionTimeoutError extends SwitchboardError {
  readonly channel: string;

  constructor(direction: string, channel: string, timeout: number) {
    super(
      "ERR_BAYEUX_EXTENSION_TIMEOUT",
      `${direction} extension gave no answer for ${JSON.stringify(channel)} within ${timeout} ms`,
    );
    this.channel = channel;
  }
}
