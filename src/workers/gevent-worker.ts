import { performance } from "node:perf_hooks";
import type { Storage } from "../storage/contract.js";
import type { TaskContext } from "../task/context.js";
import { AsyncWorker } from "./async-worker.js";
import { reportBlock, watchBlocks } from "./gevent/watchdog.js";
import type { WorkerOptions, WorkerSettings } from "./options.js";
import { fromArguments } from "./options.js";
import type { TaskFunction } from "./task-function.js";

/**
 * Runs thousands of tasks at once on one event loop (default concurrency
 * 1,000), claiming them in large batches: for very high-concurrency I/O.
 * Tasks share the loop cooperatively, so a watchdog logs a warning naming
 * any task that keeps the loop busy longer than `blockWarning` (100 ms).
 */
export class GeventWorker extends AsyncWorker {
  private readonly contexts = new WeakSet<TaskContext>();
  private stopWatching: (() => void) | undefined;

  constructor(options: WorkerOptions);
  /** @internal Used by `OmniQ`, which shares its storage and settings. */
  constructor(storage: Storage, settings: WorkerSettings);
  constructor(optionsOrStorage: WorkerOptions | Storage, settings?: WorkerSettings) {
    const args = fromArguments(optionsOrStorage, settings);
    super(args.source, args.settings, "gevent");
  }

  protected override async prepare(): Promise<void> {
    await super.prepare();
    this.stopWatching = watchBlocks(
      (task, ms) => this.blocked(task, ms),
      this.settings.blockWarningMs,
    );
  }

  protected override async dispose(): Promise<void> {
    this.stopWatching?.();
    await super.dispose();
  }

  // The hook sees continuations; the first stretch of a task runs inside
  // the worker's own callback, so it is timed here.
  protected override call(context: TaskContext, fn: TaskFunction, args: unknown[]): unknown {
    this.contexts.add(context);
    const start = performance.now();
    try {
      return super.call(context, fn, args);
    } finally {
      reportBlock(performance.now() - start, context);
    }
  }

  private blocked(task: TaskContext, ms: number): void {
    if (!this.contexts.has(task)) return;
    this.log.warn(
      { task: task.id, name: task.name, blockedMs: Math.round(ms) },
      `task "${task.name}" (${task.id}) blocked the event loop for ${Math.round(ms)} ms; ` +
        "move CPU-bound work to a thread or process worker, or enable syncInThreads",
    );
  }
}
