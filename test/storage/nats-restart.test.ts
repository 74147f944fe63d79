// A NATS server killed (SIGKILL) and restarted in the middle of claim/settle
// loops: operations during the outage fail with StorageError instead of
// hanging, the same storage objects work again once the server is back, and
// every task is completed, none lost, none completed twice. Runs against a
// private server on a port of its own.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { StorageError } from "../../src/errors.js";
import type { Storage } from "../../src/storage/contract.js";
import { openNatsStorage } from "../../src/storage/nats/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTasks, START } from "../contract/builders.js";
import { NATS, skipUnless } from "../helpers/services.js";
import { natsServerInstalled, startPrivateNats } from "./fixtures/nats-server.js";

const skip = (await skipUnless(NATS)) || missingServerBinary();

/** A skip message when the nats-server binary is absent (a failure under OMNIQ_REQUIRE_SERVICES=1). */
function missingServerBinary(): string | false {
  if (natsServerInstalled()) return false;
  const message = "the nats-server binary is not installed (apt-get install nats-server)";
  if (process.env.OMNIQ_REQUIRE_SERVICES === "1") throw new Error(message);
  return message;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fails the test if `operation` neither settles nor fails within 20 s. */
async function bounded<T>(name: string, operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} hung`)), 20_000);
  });
  try {
    return await Promise.race([operation, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe("nats storage: server restart", { skip }, () => {
  test("claim/settle loops lose no task across a server restart", async () => {
    const server = await startPrivateNats();
    const clock = new ManualClock(START);
    const prefix = `restart-${randomBytes(4).toString("hex")}`;
    const handles: Storage[] = [];
    try {
      for (let i = 0; i < 2; i += 1) {
        handles.push(await openNatsStorage(server.url, { clock, prefix, timeoutMs: 2_000 }));
      }
      const [first, second] = handles as [Storage, Storage];
      const total = 1_500;
      for (let start = 0; start < total; start += 100) {
        // Kept for a day: the clock moves on while lost claims expire.
        await first.enqueue(newTasks(100, `r${start / 100}`, { resultTtlMs: 86_400_000 }));
      }

      // A settle whose answer was lost in the outage may still have been applied, so
      // the store, not the answers, says when everything is done.
      const completions = new Map<string, number>();
      let failures = 0;
      let finished = false;
      const loop = async (storage: Storage, owner: string) => {
        while (!finished) {
          try {
            const tasks = await bounded("claim", storage.claim(claimRequest({ owner, limit: 10 })));
            if (tasks.length === 0) {
              const counts = await bounded("countTasks", storage.countTasks());
              finished = counts.default?.completed === total;
              // Claims whose answer was lost hold tasks nobody runs: let their leases run out.
              clock.advance(31_000);
              await bounded(
                "maintain",
                storage.maintain({ maxLeaseLosses: 100, eventTtlMs: 86_400_000 }),
              );
              continue;
            }
            const applied = await bounded(
              "settle",
              storage.settle(
                tasks.map((t) => ({ id: t.id, token: t.token, outcome: "completed", result: "1" })),
              ),
            );
            tasks.forEach((t, i) => {
              if (applied[i]) completions.set(t.id, (completions.get(t.id) ?? 0) + 1);
            });
          } catch (error) {
            assert.ok(error instanceof StorageError, `not a StorageError: ${error}`);
            failures += 1;
            await sleep(50);
          }
        }
      };
      const outage = async () => {
        while (completions.size < total / 3) await sleep(5);
        await server.stop("SIGKILL");
        await sleep(500);
        await server.start();
      };

      await Promise.all([loop(first, "one"), loop(second, "two"), outage()]);

      assert.ok(failures > 0, "the outage was noticed");
      assert.deepEqual(await second.countTasks(), { default: { completed: total } });
      assert.ok(completions.size > total / 2, "the loops did the work");
      assert.deepEqual([...new Set(completions.values())], [1], "no task completed twice");
    } finally {
      for (const handle of handles) await handle.close();
      await server.remove();
    }
  });
});
