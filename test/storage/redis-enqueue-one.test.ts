// The one-task enqueue script must leave exactly what the batch script
// leaves for the same task: every key, field, event and index. Both run on
// fresh prefixes with the same clock, and their keys are compared whole.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { createClient, runScript, type ScriptArg } from "../../src/storage/redis/connection.js";
import { enqueueValues } from "../../src/storage/redis/hash.js";
import { USE_BATCH_SCRIPT } from "../../src/storage/redis/scripts/enqueue-one.js";
import type { ScriptName } from "../../src/storage/redis/scripts/index.js";
import { parseRedisUrl } from "../../src/storage/redis/url.js";
import type { NewTask } from "../../src/task/record.js";
import { newTask, START } from "../contract/builders.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";

const skip = await skipUnless(REDIS);
const NOW = START + 1_000;

/** Every key under `prefix` with its whole content, the prefix replaced by "P". */
async function dump(client: Redis, prefix: string): Promise<Record<string, unknown>> {
  const keys = (await client.keys(`${prefix}:*`)).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await client.type(key);
    const name = `P${key.slice(prefix.length)}`;
    if (type === "hash") out[name] = await client.hgetall(key);
    else if (type === "zset") out[name] = await client.zrange(key, 0, -1, "WITHSCORES");
    else if (type === "set") out[name] = (await client.smembers(key)).sort();
    else if (type === "list") out[name] = await client.lrange(key, 0, -1);
    else out[name] = await client.get(key);
  }
  return out;
}

describe("redis backend: the one-task enqueue", { skip }, () => {
  let client: Redis;
  const prefixes: string[] = [];

  before(() => {
    client = new Redis(REDIS_URL);
  });
  after(async () => {
    client.disconnect();
    for (const prefix of prefixes) await deleteKeys(REDIS_URL, prefix);
  });

  type Run = (name: ScriptName, args: ScriptArg[], origin?: string) => Promise<unknown>;

  /** Runs scripts on a fresh prefix as handle "origin-a" (or `origin`), with the clock at NOW. */
  async function onFreshPrefix<T>(body: (run: Run, prefix: string) => Promise<T>): Promise<T> {
    const prefix = testPrefix("one");
    prefixes.push(prefix);
    const target = parseRedisUrl(REDIS_URL, prefix);
    const scripts = createClient(target, { maxRetriesPerRequest: 1 }, "commands");
    try {
      return await body(
        (name, args, origin = "origin-a") =>
          runScript(scripts, name, [prefix, origin, NOW, ...args]),
        prefix,
      );
    } finally {
      scripts.disconnect();
    }
  }

  /** Stores `task` after `setup` with each script on a prefix of its own: both answers and dumps. */
  async function bothWays(task: NewTask, setup: (run: Run) => Promise<unknown> = async () => {}) {
    const results = [];
    for (const script of ["omniqEnqueueOne", "omniqEnqueue"] as const) {
      results.push(
        await onFreshPrefix(async (run, prefix) => {
          await setup(run);
          const answer = await run(script, ["batch-1", 1, ...enqueueValues(task)]);
          return { answer, keys: await dump(client, prefix) };
        }),
      );
    }
    return results;
  }

  /** A claim by `owner` on queue `default` for async workers, from handle `origin`. */
  const claimAs = (run: Run, owner: string, origin = "origin-a") =>
    run(
      "omniqClaim",
      [1, owner, NOW + 30_000, 1, "default", 1, "async", 30_000, 0, NOW + 1_000],
      origin,
    );

  for (const [label, task] of [
    ["a task due now", newTask({ id: "now", runAt: NOW })],
    ["a scheduled task", newTask({ id: "later", runAt: NOW + 5_000 })],
    ["a task with a time-to-live", newTask({ id: "ttl", runAt: NOW, expiresAt: NOW + 60_000 })],
    ["a task with a priority", newTask({ id: "urgent", runAt: NOW, priority: 7 })],
  ] as const) {
    test(`${label}: the same keys either way`, async () => {
      const [one, batch] = await bothWays(task);
      assert.deepEqual(one?.keys, batch?.keys);
      assert.deepEqual(one?.answer, batch?.answer);
    });
  }

  for (const [label, origin] of [
    ["this handle's waiting claim (a handover in the answer)", "origin-a"],
    ["another handle's waiting claim (a handover in its inbox)", "origin-b"],
  ] as const) {
    test(`a task taken by ${label}: the same keys either way`, async () => {
      const [one, batch] = await bothWays(newTask({ id: "handed", runAt: NOW }), (run) =>
        claimAs(run, "w", origin),
      );
      assert.equal((one?.keys["P:task:handed"] as Record<string, string>)?.state, "running");
      assert.deepEqual(one?.keys, batch?.keys);
      assert.deepEqual(one?.answer, batch?.answer);
    });
  }

  test("with a ready task before it, the one-task script writes nothing and defers to the batch script", async () => {
    await onFreshPrefix(async (run, prefix) => {
      await run("omniqEnqueue", ["b0", 1, ...enqueueValues(newTask({ id: "first", runAt: NOW }))]);
      // A claim answers its meta list (runAt, attempts, token, ...) first.
      const [[meta]] = (await claimAs(run, "p")) as [[string]];
      const [[, , token]] = JSON.parse(meta) as [[number, number, number]];
      // Released, "first" waits in its ready set while w's offer stands.
      await claimAs(run, "w");
      await run("omniqRelease", ["first", token]);
      const before = await dump(client, prefix);

      const task = newTask({ id: "second", runAt: NOW });
      const answer = (await run("omniqEnqueueOne", ["b1", 1, ...enqueueValues(task)])) as unknown[];

      assert.equal(answer[0], USE_BATCH_SCRIPT);
      assert.deepEqual(await dump(client, prefix), before);
    });
  });
});
