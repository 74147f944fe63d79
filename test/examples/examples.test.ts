// Every example runs as a user would run it, in a temp dir, and prints what it promises.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runExample } from "../helpers/examples.js";
import { freshPlace, skipUnlessServed } from "../helpers/places.js";
import { tempDir } from "../helpers/temp.js";

async function run(name: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const dir = tempDir();
  try {
    const { status, stdout, stderr } = await runExample(name, dir.path, env);
    assert.equal(status, 0, stderr);
    return stdout;
  } finally {
    dir.remove();
  }
}

describe("examples", async () => {
  test("retries: backoff until success, and NonRetryableError stops at once", async () => {
    const out = await run("retries");
    assert.match(out, /succeeded on attempt 3/);
    assert.match(
      out,
      /enqueued → executing → error → retry → executing → error → retry → executing → completed/,
    );
    assert.match(out, /failed for good after 1 attempt: "forty" is not a whole number/);
  });

  test("scheduling: queues in priority order, priorities within, delays last", async () => {
    assert.match(await run("scheduling"), /ran in this order: urgent, high, low, later/);
  });

  test("cancel: a running task is cancelled through its signal", async () => {
    const out = await run("cancel");
    assert.match(out, /cancel: requested/);
    assert.match(out, /state: cancelled/);
  });

  test("events: a subscriber sees the lifecycle", async () => {
    assert.match(
      await run("events"),
      /enqueued\(attempt 0\), executing\(attempt 1\), completed\(attempt 1\)/,
    );
  });

  test("workflows: a chain, a group, and a dependent of a failure", async () => {
    const out = await run("workflows");
    assert.match(out, /chain: 2 × 3 \+ 4 = 10/);
    assert.match(out, /group: 2 \+ 12 \+ 30 = 44/);
    assert.match(out, /dependent: cancelled \(dependency <id> failed for good\)/);
  });

  test("schedules: ticks of a cron with seconds, pause, delete, and their events", async () => {
    const out = await run("schedules");
    assert.match(out, /fired 3 times; latest: sales for <time>/);
    assert.match(out, /sales-report: paused/);
    assert.match(out, /schedule-created, schedule-paused, schedule-deleted/);
  });

  test("flow-control: keys, pause, limits and dead letters", async () => {
    const out = await run("flow-control");
    assert.match(out, /same key, same task: true; result 42/);
    assert.match(out, /while paused: pending\nresumed: 42/);
    assert.match(
      out,
      /limits: \{"paused":false,"concurrency":2,"rateLimit":\{"max":100,"intervalMs":60000\}\}/,
    );
    assert.match(out, /dead letter: parseAge after 1 attempt: "forty" is not a whole number/);
    assert.match(out, /retry: requeued\npurged: 1/);
  });

  test("threads: CPU tasks in threads beside async tasks", async () => {
    assert.match(await run("threads"), /primes below 100k and 200k: 9592, 17984; 6 × 7 = 42/);
  });
});

describe("the same example on every backend, by URL", async () => {
  // A place of its own per run: a schema or prefix left by another version
  // of omniq (an older migration, say) must not decide the outcome.
  const servers = ["redis", "postgres", "nats"] as const;

  test("sqlite (the default)", async () => {
    assert.match(await run("backends"), /^sqlite: 1, 4, 9$/m);
  });

  test("files", async () => {
    assert.match(
      await run("backends", { OMNIQ_STORAGE: "file://./.omniq/files" }),
      /^file: 1, 4, 9$/m,
    );
  });

  for (const name of servers) {
    const skip = await skipUnlessServed(name);
    test(name, { skip }, async () => {
      const place = freshPlace(name, "example");
      try {
        assert.match(
          await run("backends", { OMNIQ_STORAGE: place.url }),
          new RegExp(`^${name}: 1, 4, 9$`, "m"),
        );
      } finally {
        await place.cleanup();
      }
    });
  }
});
