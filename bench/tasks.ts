// Task definitions used by bench/run.ts.
import { performance } from "node:perf_hooks";
import { defineTask } from "../src/index.js";

const nowMs = () => performance.timeOrigin + performance.now();

export const noop = defineTask("bench.local.noop", () => 0);

/** Returns the ms from `t` (taken just before the enqueue call) to the start of the task. */
export const stamp = defineTask("bench.local.stamp", (t: number) => nowMs() - t);
