// The frame every contract test runs in: a fresh store on a ManualClock,
// cleaned up afterwards, and a way to wait for signals that may arrive
// asynchronously (from another connection or process).
import { type TestContext, test } from "node:test";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { ManualClock } from "../../src/util/clock.js";
import { START } from "./builders.js";
import type { BackendFixture } from "./fixture.js";

/** What one contract test gets. */
export interface ContractEnv {
  storage: Storage;
  clock: ManualClock;
  /** Another handle onto the same store; closed by the fixture's cleanup. */
  another(): Promise<Storage>;
  /** The node:test context, to skip a test a backend's optional feature does not cover. */
  t: TestContext;
}

/** How the suite's parts register tests: the fixture plus the skip message, if any. */
export interface Harness {
  fixture: BackendFixture;
  /** Registers a test that runs `body` against a fresh store. */
  it(name: string, body: (env: ContractEnv) => Promise<void>): void;
}

export function makeHarness(fixture: BackendFixture, skip: string | false): Harness {
  return {
    fixture,
    it(name, body) {
      test(name, { skip }, async (t) => {
        const clock = new ManualClock(START);
        const store = await fixture.create(clock);
        try {
          await body({ storage: store.storage, clock, another: () => store.another(), t });
        } finally {
          await store.cleanup();
        }
      });
    },
  };
}

/** Signals a handle has delivered so far, and a way to wait for one. */
export interface SignalLog {
  received: StorageSignal[];
  /** Resolves with the first signal (already received or to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (signal: StorageSignal) => boolean, timeoutMs?: number): Promise<StorageSignal>;
  stop(): void;
}

/** Starts recording the signals of `storage`, which must implement `subscribe`. */
export function recordSignals(storage: Storage): SignalLog {
  if (!storage.subscribe) throw new Error("recordSignals: the storage has no subscribe");

  const received: StorageSignal[] = [];
  const waiters = new Set<(signal: StorageSignal) => void>();
  const unsubscribe = storage.subscribe((signal) => {
    received.push(signal);
    for (const waiter of waiters) waiter(signal);
  });

  function waitFor(match: (s: StorageSignal) => boolean, timeoutMs = 3_000) {
    const seen = received.find(match);
    if (seen) return Promise.resolve(seen);

    return new Promise<StorageSignal>((resolve, reject) => {
      const waiter = (signal: StorageSignal) => {
        if (!match(signal)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(signal);
      };
      // A real timer: signals from other connections arrive on their own schedule.
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`no matching signal within ${timeoutMs} ms; got ${JSON.stringify(received)}`),
        );
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  return { received, waitFor, stop: unsubscribe };
}
