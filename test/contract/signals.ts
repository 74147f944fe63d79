import assert from "node:assert/strict";
import type { StorageSignal } from "../../src/storage/contract.js";
import { claimRequest, completed, failed, newTask, START } from "./builders.js";
import type { ContractEnv, Harness, SignalLog } from "./harness.js";
import { recordSignals } from "./harness.js";

const NO_SUBSCRIBE = "the backend does not implement subscribe";

const readyFor = (queue: string) => (s: StorageSignal) => s.type === "ready" && s.queue === queue;
const finishedFor = (id: string) => (s: StorageSignal) =>
  s.type === "finished" && s.ids.includes(id);

/** Repeats `act` until `log` holds a signal that matches, for at most ~5 s. */
async function untilHeard(
  log: SignalLog,
  match: (s: StorageSignal) => boolean,
  act: () => Promise<unknown>,
): Promise<void> {
  for (let round = 1; ; round += 1) {
    await act();
    try {
      await log.waitFor(match, 250);
      return;
    } catch (error) {
      if (round === 20) throw error;
    }
  }
}

/** Wraps a signal test so that it skips on a backend without `subscribe`. */
function withSubscribe(body: (env: ContractEnv) => Promise<void>) {
  return async (env: ContractEnv) => {
    if (!env.storage.subscribe) {
      env.t.skip(NO_SUBSCRIBE);
      return;
    }
    await body(env);
  };
}

export function signalTests({ it, fixture }: Harness): void {
  it(
    "enqueue sends a ready signal for each queue of the batch",
    withSubscribe(async ({ storage }) => {
      const log = recordSignals(storage);

      await storage.enqueue([newTask({ queue: "q1" }), newTask({ queue: "q2" })]);

      await log.waitFor(readyFor("q1"));
      await log.waitFor(readyFor("q2"));
      log.stop();
    }),
  );

  it(
    "settling sends a finished signal with the ids that ended",
    withSubscribe(async ({ storage }) => {
      await storage.enqueue([newTask({ id: "ok" }), newTask({ id: "bad" })]);
      const [ok, bad] = await storage.claim(claimRequest());
      assert.ok(ok && bad);
      const log = recordSignals(storage);

      await storage.settle([completed(ok), failed(bad, null)]);

      await log.waitFor(finishedFor("ok"));
      await log.waitFor(finishedFor("bad"));
      log.stop();
    }),
  );

  it(
    "a failure that will retry sends ready for its queue, not finished",
    withSubscribe(async ({ storage }) => {
      await storage.enqueue([newTask({ id: "a", queue: "q" })]);
      const [held] = await storage.claim(claimRequest({ queues: ["q"] }));
      assert.ok(held);
      const log = recordSignals(storage);

      await storage.settle([failed(held, START)]);

      await log.waitFor(readyFor("q"));
      assert.equal(log.received.find(finishedFor("a")), undefined);
      log.stop();
    }),
  );

  it(
    "a lease that runs out sends ready for its queue",
    withSubscribe(async ({ storage, clock }) => {
      await storage.enqueue([newTask({ id: "a", queue: "q" })]);
      await storage.claim(claimRequest({ queues: ["q"], leaseMs: 100 }));
      clock.advance(100);
      const log = recordSignals(storage);

      await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 86_400_000 });

      await log.waitFor(readyFor("q"));
      log.stop();
    }),
  );

  it(
    "cancelling a running task sends a cancel signal",
    withSubscribe(async ({ storage }) => {
      await storage.enqueue([newTask({ id: "a" })]);
      await storage.claim(claimRequest());
      const log = recordSignals(storage);

      await storage.cancel("a", "stop");

      await log.waitFor((s) => s.type === "cancel" && s.id === "a");
      log.stop();
    }),
  );

  // Not spelled out in README's cancel section, but a `getResult` caller
  // waiting on the task needs to wake up when it is cancelled before it ran.
  it(
    "cancelling a waiting task sends a finished signal",
    withSubscribe(async ({ storage }) => {
      await storage.enqueue([newTask({ id: "a" })]);
      const log = recordSignals(storage);

      await storage.cancel("a", "not needed");

      await log.waitFor(finishedFor("a"));
      log.stop();
    }),
  );

  it(
    "an unsubscribed listener hears nothing more",
    withSubscribe(async ({ storage }) => {
      const stopped = recordSignals(storage);
      const still = recordSignals(storage);
      stopped.stop();

      await storage.enqueue([newTask({ queue: "q" })]);

      await still.waitFor(readyFor("q"));
      assert.deepEqual(stopped.received, []);
      still.stop();
    }),
  );

  it(
    "a handle hears the changes made through another handle",
    withSubscribe(async ({ storage, another, t }) => {
      if (!fixture.signalsAcrossHandles) {
        t.skip("the backend signals only its own handle's changes");
        return;
      }
      const other = await another();
      const log = recordSignals(other);

      // A subscription to a server may take a moment to start listening, and
      // signals sent before then are lost: enqueue until one is heard.
      await untilHeard(log, readyFor("warm-up"), () =>
        storage.enqueue([newTask({ queue: "warm-up" })]),
      );

      await storage.enqueue([newTask({ id: "a", queue: "q" })]);
      await log.waitFor(readyFor("q"));

      const [held] = await storage.claim(claimRequest({ queues: ["q"] }));
      assert.ok(held);
      await storage.cancel("a", "stop");
      await log.waitFor((s) => s.type === "cancel" && s.id === "a");

      await storage.settle([completed(held)]);
      await log.waitFor(finishedFor("a"));
      log.stop();
    }),
  );
}
