/**
 * What the node-death test's clients and its node process
 * (test/fixtures/kill-node.ts) agree on: the room and channel, the events
 * and the messages.
 */

/** The Socket.IO room the Socket.IO publisher's messages go to. */
export const ROOM = "kill";
/** The Bayeux channel the Bayeux publisher's messages go to. */
export const CHANNEL = "/kill";
/** The Socket.IO event a message arrives as. */
export const MESSAGE_EVENT = "m";
/**
 * The event that joins a room (`(room, ack)`): not `join`, which the CLI's
 * demo chat answers (with an error, before a nickname).
 */
export const JOIN_EVENT = "kill:join";
/** The event that publishes a message to {@link ROOM} (`(message, ack)`). */
export const PUBLISH_EVENT = "publish";

/** A message of the test's publishers. */
export interface KillMessage {
  /** Unique per message, the same on every retry of it. */
  id: string;
  /** Publish order within its publisher, from 0. */
  seq: number;
  publisher: string;
}

/** What the publish ack carries. */
export type PublishReply =
  | { ok: true; offset: string | null; duplicate: boolean }
  | { ok: false; error: string };
