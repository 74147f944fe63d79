// Tasks of the worker benchmarks, in a module of their own so that threads
// and child processes load them by path.
import { currentTask, defineTask } from "../../src/index.js";

/** The CPU unit of ../shared/bench (lib/cpu.mjs): about 5 ms on one core of the reference machine. */
export const CPU_ITERS = Number(process.env.BENCH_CPU_ITERS) || 2_400_000;

export function burn(iters: number): number {
  let x = 0;
  for (let i = 0; i < iters; i++) {
    x = (Math.imul(x, 31) + i) | 0;
    x ^= x >>> 13;
  }
  return x;
}

export const cpu = defineTask("bench.cpu", (iters: number) => burn(iters));

export const noop = defineTask("bench.noop", () => 0);

export const asyncNoop = defineTask("bench.asyncNoop", async () => 0);

/** Sleeps `ms` on a timer, honouring the task's signal. */
export const sleep = defineTask("bench.sleep", (ms: number) => {
  const signal = currentTask()?.signal;
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => resolve(ms), ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
});

/** Returns a typed array of `length` doubles: the result-transfer bench. */
export const bigResult = defineTask("bench.bigResult", (length: number) =>
  new Float64Array(length).fill(1.5),
);
