// Task definitions for the shared peer benchmark (../shared/bench). They live
// in a module of their own so that thread and process workers load them by path.
import { performance } from "node:perf_hooks";
import { defineTask } from "../dist/index.js";

const nowMs = () => performance.timeOrigin + performance.now();

export const noop = defineTask("bench.noop", () => 0);

/** Returns the enqueue-to-start latency in ms; `t` was taken just before the enqueue call. */
export const stamp = defineTask("bench.stamp", (t) => nowMs() - t);

/** The shared benchmark's CPU unit: the same loop as ../shared/bench/lib/cpu.mjs. */
export const cpu = defineTask("bench.cpu", (iters) => {
  let x = 0;
  for (let i = 0; i < iters; i++) {
    x = (Math.imul(x, 31) + i) | 0;
    x ^= x >>> 13;
  }
  return x;
});
