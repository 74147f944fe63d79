// The one-timer deadline of the Redis backend's operations.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Deadlines } from "../../src/storage/redis/deadlines.js";

describe("redis: operation deadlines", () => {
  test("passes results and errors through while in time", async () => {
    const deadlines = new Deadlines(1_000);

    assert.equal(await deadlines.run(Promise.resolve(7), () => new Error("late")), 7);
    await assert.rejects(
      deadlines.run(Promise.reject(new Error("own")), () => new Error("late")),
      /own/,
    );
    deadlines.close();
  });

  test("fails an operation that outlives its deadline, and only that one", async () => {
    const deadlines = new Deadlines(40);
    // Stands for the socket a real operation waits on: the deadline's own
    // timer does not keep the process alive.
    const socket = setTimeout(() => {}, 5_000);
    const never = new Promise<number>(() => {});

    const slow = deadlines.run(never, () => new Error("no reply"));
    const quick = deadlines.run(
      sleep(5).then(() => "quick"),
      () => new Error("no reply"),
    );

    assert.equal(await quick, "quick");
    const started = Date.now();
    await assert.rejects(slow, /no reply/);
    assert.ok(Date.now() - started < 1_000);
    deadlines.close();
    clearTimeout(socket);
  });
});
