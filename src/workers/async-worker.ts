import { availableParallelism } from "node:os";
import { encodeValue } from "../codec/value.js";
import type { Storage } from "../storage/contract.js";
import { runAsTask, runPlainAsTask, type TaskContext } from "../task/context.js";
import { knownTaskNames } from "../task/define.js";
import type { ClaimedTask } from "../task/record.js";
import type { WorkerType } from "../task/state.js";
import type { AttemptHandle } from "./attempt.js";
import { fromArguments, type WorkerOptions, type WorkerSettings } from "./options.js";
import type { Pool } from "./pool/pool.js";
import { threadSpawner } from "./pool/thread-member.js";
import { makePool, taskSpec } from "./pool-worker.js";
import { findTsxApi } from "./runtime/entry.js";
import {
  decodeArgs,
  findTaskFunction,
  isAsyncFunction,
  knownFunction,
  type TaskFunction,
} from "./task-function.js";
import { importTaskModules } from "./task-modules.js";
import { Worker } from "./worker.js";

/**
 * Runs tasks on the event loop of this process, up to `concurrency` at once:
 * the worker for I/O-bound async tasks. Sync functions run here too, and
 * block the loop while they run, unless `syncInThreads` sends them to threads.
 */
export class AsyncWorker extends Worker {
  private threads: Pool | undefined;

  constructor(options: WorkerOptions);
  /**
   * @internal Used by `OmniQ` and the gevent worker: a storage (or its URL) and complete settings.
   */
  constructor(source: string | Storage, settings: WorkerSettings, type?: WorkerType);
  constructor(
    optionsOrStorage: WorkerOptions | Storage | string,
    settings?: WorkerSettings,
    type: WorkerType = "async",
  ) {
    const args = fromArguments(optionsOrStorage, settings);
    super(type, args.source, args.settings);
  }

  /** Names of the tasks defined in this process. */
  override taskNames(): string[] {
    return knownTaskNames();
  }

  protected override async prepare(): Promise<void> {
    await importTaskModules(this.settings.tasks);
    if (this.settings.syncInThreads) this.threads = await this.startThreads();
  }

  // Tasks on this event loop cannot be ended from outside; those in threads can.
  protected override async endInterrupted(): Promise<void> {
    await this.threads?.close(this.hurry ? 0 : this.settings.abortGraceMs);
  }

  protected override hurryEnding(): void {
    void this.threads?.close(0);
  }

  protected override async dispose(): Promise<void> {
    await this.threads?.close(this.hurry ? 0 : this.settings.abortGraceMs);
  }

  protected override execute(task: ClaimedTask, attempt: AttemptHandle): string | Promise<string> {
    const fn = knownFunction(task.name);
    if (fn === undefined) {
      return findTaskFunction(task).then((found) => this.runFunction(task, found, attempt));
    }
    return this.runFunction(task, fn, attempt);
  }

  /** Runs `fn` for `task`; what a plain function returns is encoded at once, in this turn. */
  private runFunction(
    task: ClaimedTask,
    fn: TaskFunction,
    attempt: AttemptHandle,
  ): string | Promise<string> {
    if (this.threads && task.module && !isAsyncFunction(fn)) {
      return this.threads.run(taskSpec(task), attempt.signal, () => attempt.started());
    }

    attempt.started();
    const args = decodeArgs(task);
    const result = this.call(new RunningTask(task, attempt), fn, args);
    if (isThenable(result)) {
      return Promise.resolve(result).then((value) => encodeValue(value, "result"));
    }
    return encodeValue(result, "result");
  }

  /**
   * Calls the task's function as the current task; the gevent worker times
   * it. Only an `async` function needs the task to follow it through its
   * awaits (see `runPlainAsTask`).
   */
  protected call(context: TaskContext, fn: TaskFunction, args: unknown[]): unknown {
    const run = isAsyncFunction(fn) ? runAsTask : runPlainAsTask;
    return run(context, () => fn(...args));
  }

  private async startThreads(): Promise<Pool> {
    const { settings } = this;
    const size = Math.min(settings.concurrency, availableParallelism());
    const spawn = threadSpawner({ memoryLimitMb: settings.memoryLimitMb, tsxApi: findTsxApi() });
    const pool = makePool(settings, size, spawn, this.log.child({ pool: "syncInThreads" }));
    await pool.start();
    return pool;
  }
}

/** What `currentTask()` answers inside a task run here. */
class RunningTask implements TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly #handle: AttemptHandle;

  constructor(task: ClaimedTask, handle: AttemptHandle) {
    this.#handle = handle;
    this.id = task.id;
    this.name = task.name;
    this.queue = task.queue;
    this.attempt = task.attempts;
  }

  /** Made only if the task asks for it. */
  get signal(): AbortSignal {
    return this.#handle.signal;
  }
}

/** True for what `await` would wait for: a promise, or an object with a `then` method. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  return typeof (value as { then?: unknown }).then === "function";
}
