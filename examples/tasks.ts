// Tasks live in a module of their own, so that workers in threads, child
// processes and other machines can load them by name.
import { currentTask, defineTask, NonRetryableError } from "omniq";

export const multiply = defineTask("multiply", async (x: number, y: number) => x * y);

export const greet = defineTask(
  { name: "greet", retries: 2, timeout: "5s" },
  (name: string) => `hello, ${name}`,
);

/** Fails on its first two attempts, then succeeds: for the retries example. */
export const flaky = defineTask(
  { name: "flaky", retries: 3, backoff: { type: "exponential", base: "50ms", jitter: false } },
  () => {
    const attempt = currentTask()?.attempt ?? 1;
    if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
    return `succeeded on attempt ${attempt}`;
  },
);

/** A bad input no retry can fix. */
export const parseAge = defineTask({ name: "parseAge", retries: 5 }, (text: string) => {
  const age = Number(text);
  if (!Number.isInteger(age)) throw new NonRetryableError(`"${text}" is not a whole number`);
  return age;
});

/** Waits until its signal fires (cancel or timeout), then says why it stopped. */
export const waitForever = defineTask("waitForever", () => {
  const signal = currentTask()?.signal;
  return new Promise<never>((_resolve, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason));
  });
});

/** CPU-bound work: counts primes below `limit`. Runs in a thread pool. */
export const countPrimes = defineTask(
  { name: "countPrimes", worker: "thread" },
  (limit: number) => {
    let count = 0;
    for (let n = 2; n < limit; n++) {
      let prime = true;
      for (let d = 2; d * d <= n; d++) {
        if (n % d === 0) {
          prime = false;
          break;
        }
      }
      if (prime) count++;
    }
    return count;
  },
);

export const add = defineTask("add", (x: number, y: number) => x + y);

/** Adds up a list: the final task of a group gets its members' results as one. */
export const total = defineTask("total", (values: number[]) => values.reduce((a, b) => a + b, 0));

/** What a schedule runs: says when it ran, by its tick's task id (`schedule@time`). */
export const report = defineTask("report", (what: string) => {
  const tick = Number(currentTask()?.id.split("@")[1]);
  return `${what} for ${new Date(tick).toISOString()}`;
});
