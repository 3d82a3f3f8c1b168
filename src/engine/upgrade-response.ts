/**
 * The part of `http.ServerResponse` that middlewares touch, for a websocket
 * upgrade request (which has no response object): headers set here are added
 * to the 101 response, and ending it refuses the upgrade.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";

export class UpgradeResponse extends EventEmitter {
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly headers: OutgoingHttpHeaders = {};
  statusCode = 101;
  ended = false;
  headersSent = false;

  constructor(req: IncomingMessage, socket: Duplex) {
    super();
    this.req = req;
    this.socket = socket;
  }

  setHeader(name: string, value: OutgoingHttpHeader): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    return this.headers[name.toLowerCase()];
  }

  removeHeader(name: string): void {
    delete this.headers[name.toLowerCase()];
  }

  writeHead(): this {
    return this;
  }

  write(): boolean {
    return true;
  }

  /** A middleware answering the request itself: the upgrade is refused. */
  end(): this {
    if (!this.ended) {
      this.ended = true;
      this.emit("finish");
      this.socket.destroy();
    }
    return this;
  }
}
