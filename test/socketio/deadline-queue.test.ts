import assert from "node:assert/strict";
import { it } from "node:test";
import { DeadlineQueue } from "../../src/socketio/deadline-queue.js";
import { sleep } from "./helpers.js";

it("expires items in order with one timer, and clear() forgets them", {
  timeout: 2000,
}, async () => {
  const expired: string[] = [];
  const queue = new DeadlineQueue<string>(40, (item) => expired.push(item));
  queue.push("a");
  await sleep(15);
  queue.push("b");
  await sleep(35);
  assert.deepEqual(expired, ["a"]);
  await sleep(30);
  assert.deepEqual(expired, ["a", "b"]);
  queue.push("c");
  queue.clear();
  await sleep(60);
  assert.deepEqual(expired, ["a", "b"]);
});
