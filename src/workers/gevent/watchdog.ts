/**
 * Finds the tasks that keep the event loop busy. An async hook times each
 * callback the loop runs (timers, I/O, promise continuations); one that runs
 * longer than a listener's threshold is reported with the task it ran for,
 * which `currentTask()` still names when the callback ends.
 */
import { createHook } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { currentTask, type TaskContext } from "../../task/context.js";

/** Told of each stretch of `ms` milliseconds that `task`'s code kept the loop busy. */
export type BlockListener = (task: TaskContext, ms: number) => void;

interface Watcher {
  listener: BlockListener;
  thresholdMs: number;
}

const watchers = new Set<Watcher>();
let lowestMs = Number.POSITIVE_INFINITY;
let depth = 0;
let enteredAt = 0;

// One hook for the process, enabled while anyone watches: it costs a clock
// read on entering and leaving every callback.
const hook = createHook({
  before() {
    depth += 1;
    if (depth === 1) enteredAt = performance.now();
  },
  // An "after" without its "before" (the hook was enabled inside a callback) is skipped.
  after() {
    if (depth === 0) return;
    depth -= 1;
    if (depth !== 0) return;
    const ms = performance.now() - enteredAt;
    if (ms > lowestMs) reportBlock(ms);
  },
});

/** Reports a block of the loop by `task` to every listener whose threshold it passes. */
export function reportBlock(ms: number, task: TaskContext | undefined = currentTask()): void {
  if (!task) return;
  for (const watcher of watchers) {
    if (ms > watcher.thresholdMs) watcher.listener(task, ms);
  }
}

/** Starts telling `listener` of blocks longer than `thresholdMs`; returns what stops it. */
export function watchBlocks(listener: BlockListener, thresholdMs: number): () => void {
  const watcher = { listener, thresholdMs };
  watchers.add(watcher);
  if (watchers.size === 1) {
    depth = 0;
    hook.enable();
  }
  lowestMs = Math.min(lowestMs, thresholdMs);

  return () => {
    if (!watchers.delete(watcher)) return;
    lowestMs = Math.min(...[...watchers].map((w) => w.thresholdMs), Number.POSITIVE_INFINITY);
    if (watchers.size === 0) hook.disable();
  };
}
