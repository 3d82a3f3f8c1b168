/**
 * A real `IncomingMessage` for a request the front read itself, when the
 * request reaches code that keeps it or shows it to an application (a
 * handshake's request becomes `socket.request`, is passed to `allowRequest`
 * and to `initial_headers` listeners): the head's fields, the connection's
 * socket, and the body already read, pushed into the stream.
 */
import { IncomingMessage } from "node:http";
import type { Exchange } from "./exchange.js";

export function toIncomingMessage(exchange: Exchange): IncomingMessage {
  const req = new IncomingMessage(exchange.socket);
  req.method = exchange.method;
  req.url = exchange.url;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = "1.1";
  // What node's parser calls with a head's lines: `headers` is built from them on first use.
  (req as IncomingMessage & { _addHeaderLines(raw: string[], n: number): void })._addHeaderLines(
    exchange.rawHeaders,
    exchange.rawHeaders.length,
  );
  if (exchange.body.length > 0) req.push(exchange.body);
  req.push(null);
  req.complete = true;
  return req;
}
