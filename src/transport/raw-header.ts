/**
 * Reading one request header from `req.rawHeaders`. Node builds the
 * `req.headers` object on first access, one entry per header line; a
 * long-polling session's every request needs one or two headers, so the hot
 * paths scan the raw list instead and leave that object unbuilt.
 */
import type { IncomingMessage } from "node:http";

/**
 * The value of the first `name` header of `req` (`name` in lower case), as
 * `req.headers[name]` gives it for the headers Node keeps once
 * (`content-type`, `user-agent`, ...); undefined when absent.
 *
 * @example
 * rawHeader(req, "user-agent"); // "Mozilla/5.0 ..."
 */
export function rawHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  const length = name.length;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i];
    if (field.length === length && field.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}

/**
 * Whether any `name` header of `req` passes `test`: what a check of the
 * joined `req.headers[name]` finds, for a test that a comma and a space
 * cannot change (Node joins repeated headers with ", ").
 */
export function someRawHeader(
  req: IncomingMessage,
  name: string,
  test: (value: string) => boolean,
): boolean {
  const raw = req.rawHeaders;
  const length = name.length;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i];
    if (field.length === length && field.toLowerCase() === name && test(raw[i + 1])) return true;
  }
  return false;
}

/**
 * Every `name` header of `req` joined with ", ", as `req.headers[name]`
 * gives a header Node joins (`origin`, `accept`, ...); undefined when absent.
 *
 * @example
 * joinedRawHeader(req, "origin"); // "https://app.example"
 */
export function joinedRawHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  const length = name.length;
  let out: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const field = raw[i];
    if (field.length !== length || field.toLowerCase() !== name) continue;
    out = out === undefined ? raw[i + 1] : `${out}, ${raw[i + 1]}`;
  }
  return out;
}
