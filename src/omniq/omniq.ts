import type { OmniQLogger } from "../config/logger.js";
import { resolveConfig } from "../config/resolve.js";
import type { OmniQConfig, OmniQConfigInput } from "../config/types.js";
import {
  InvalidArgumentError,
  ResultTimeoutError,
  toErrorInfo,
  UnknownTaskError,
} from "../errors.js";
import { EventFollower, type EventListener } from "../events/follower.js";
import type { TaskEvent } from "../events/types.js";
import type {
  CancelOutcome,
  Clock,
  QueueControl,
  RequeueOutcome,
  Storage,
  TaskCounts,
  TaskFilter,
} from "../storage/contract.js";
import { systemClock } from "../storage/contract.js";
import type { TaskCall, TaskDefinition } from "../task/define.js";
import type { TaskRecord } from "../task/record.js";
import { type Duration, toMs } from "../util/duration.js";
import type { WorkerStatus } from "../workers/liveness.js";
import type { Worker } from "../workers/worker.js";
import { buildTask } from "./build-task.js";
import {
  type ChainStep,
  chainCalls,
  checkDependencies,
  type GroupIds,
  groupCalls,
} from "./flows.js";
import { makeWorkers, openStores, unpack } from "./open.js";
import {
  type PurgeOptions,
  purgeAll,
  type QueueLimits,
  updateControl,
  withLimits,
} from "./queues.js";
import { type Answer, ResultWaiter } from "./result-waiter.js";
import * as schedules from "./schedules.js";
import { taskInfo, writeTasks } from "./tasks.js";
import type { Enqueueable, OmniQHealth, OpenOptions, TaskId, TaskInfo } from "./types.js";
import { Unfinished } from "./unfinished.js";

/** The id `enqueue` answers: the only one of its one-task `enqueueMany`. */
function firstId<R>(ids: TaskId[]): TaskId<R> {
  return ids[0] as TaskId<R>;
}

/** What `getResult` answers for a wait's end: the result, or the error it throws. */
function toResult(id: string, answer: Answer, timeoutMs: number): unknown {
  if (answer === "timeout") throw new ResultTimeoutError(id, timeoutMs);
  return unpack(id, answer);
}

/**
 * The application's handle on omniq: enqueue tasks, wait for their results,
 * inspect and cancel them, and (unless `worker: false`) run them.
 *
 * ```ts
 * await using omniq = await OmniQ.open();
 * const id = await omniq.enqueue(multiply, 5, 6);
 * const product = await omniq.getResult(id, { timeout: "5s" });
 * ```
 */
export class OmniQ implements AsyncDisposable {
  private readonly results: ResultWaiter<unknown>;
  private readonly follower: EventFollower;
  private readonly unsubscribe: (() => void) | undefined;
  /** Tasks enqueued here not yet heard to finish, where the backend can say so. */
  private readonly unfinished: Unfinished | null;
  private closed = false;

  private constructor(
    /** The resolved configuration. */
    readonly config: OmniQConfig,
    /** The queue's backend, with results and events where the configuration puts them. */
    readonly storage: Storage,
    private readonly ownsStorage: boolean,
    private readonly clock: Clock,
    private readonly workers: Worker[],
  ) {
    const log: OmniQLogger = config.logger;
    this.results = new ResultWaiter(storage, config.pollIntervalMs, toResult);
    this.follower = new EventFollower(storage, config.pollIntervalMs, (error) =>
      log.warn({ err: toErrorInfo(error) }, "reading the event log failed"),
    );
    this.unsubscribe = storage.subscribe?.((signal) => {
      if (signal.type === "finished") {
        this.unfinished?.forget(signal.ids);
        this.results.finished(signal.ids, signal.outcomes);
      }
      if (signal.type !== "cancel") this.follower.wake();
    });
    const epoch = storage.signalEpoch?.bind(storage);
    this.unfinished = this.unsubscribe && epoch ? new Unfinished(epoch) : null;
  }

  /**
   * Opens omniq. With no configuration: SQLite in `./.omniq/omniq.db` and an
   * in-process async worker reading the `default` queue. Configuration is
   * merged from defaults, a file (`configFile` or `OMNIQ_CONFIG`), the object
   * given, and `OMNIQ_*` variables, later ones winning.
   */
  static async open(input: OmniQConfigInput = {}, options: OpenOptions = {}): Promise<OmniQ> {
    const config = await resolveConfig(input);
    const clock = options.clock ?? systemClock;
    const { storage, owned } = await openStores(config, options, clock);

    const workers = makeWorkers(config, storage, clock);
    const omniq = new OmniQ(config, storage, owned, clock, workers);
    try {
      for (const worker of workers) await worker.start();
    } catch (error) {
      await omniq.close();
      throw error;
    }
    return omniq;
  }

  /**
   * Stores a task and returns its id. Arguments are checked against the
   * task's function type; per-call options go through `task.with({...})` or
   * `withOptions(fn, {...})`, so they can never clash with the arguments.
   */
  enqueue<A extends unknown[], R>(
    task: Enqueueable<A, R>,
    ...args: A
  ): Promise<TaskId<Awaited<R>>> {
    // A then rather than an async function: one promise less per task enqueued.
    return this.enqueueMany([{ task: task as TaskCall["task"], args }]).then(firstId<Awaited<R>>);
  }

  /**
   * Stores many tasks at once, all or none; returns their ids in order.
   *
   * With `within`, the tasks are written through the application's own
   * connection inside its open transaction, and exist only if it commits
   * (PostgreSQL: pass the `pg` client that ran `BEGIN`).
   */
  async enqueueMany(
    calls: readonly TaskCall[],
    options: { within?: unknown } = {},
  ): Promise<TaskId[]> {
    this.checkOpen();
    const now = this.clock.now();
    const context = this.buildContext(now);
    const tasks = calls.map((call) => buildTask(call, context));
    // Most batches have no dependencies: they skip the check and its await.
    const dependent = tasks.some((task) => task.dependencies);
    if (dependent) await checkDependencies(this.storage, tasks);

    const ids = await writeTasks(this.storage, tasks, options.within, this.unfinished);
    if (dependent) {
      for (const worker of this.workers) worker.dependentsEnqueued();
    }
    return ids as TaskId[];
  }

  /**
   * Enqueues a chain in one batch: each step waits for the one before and
   * gets its result as its first argument. A step is `task.after(...rest)`
   * (its own arguments follow the previous result) or a bare task; the
   * first step is `task.call(...args)`. If a step
   * fails for good, the steps after it are cancelled. Answers the ids in
   * order; the last one's result is the chain's.
   */
  async chain(steps: readonly ChainStep[]): Promise<TaskId[]> {
    this.checkOpen();
    return this.enqueueMany(chainCalls(steps, this.clock.now()));
  }

  /**
   * Enqueues a group in one batch: the members run independently; `final`,
   * if given, waits for all of them and gets their results as an array, as
   * its first argument (fan-out, then fan-in).
   */
  async group(members: readonly TaskCall[], final?: ChainStep): Promise<GroupIds> {
    this.checkOpen();
    const { calls, ids } = groupCalls(members, final, this.clock.now());
    await this.enqueueMany(calls);
    return ids;
  }

  /**
   * Waits for a task's result. Throws `TaskFailedError`, `TaskCancelledError`,
   * `TaskExpiredError`, `UnknownTaskError`, or `ResultTimeoutError` after
   * `timeout` (default: wait as long as it takes).
   */
  getResult<R>(id: TaskId<R>, options: { timeout?: Duration } = {}): Promise<R> {
    let timeoutMs: number;
    try {
      this.checkOpen();
      timeoutMs =
        options.timeout === undefined ? Infinity : toMs(options.timeout, "getResult timeout");
    } catch (error) {
      return Promise.reject(error);
    }

    // The waiter's own promise rather than an async function or a then: an
    // application may wait on tens of thousands at once, and each of those
    // would hold another promise per wait.
    return this.results.wait(id, timeoutMs, this.unfinished?.has(id) === true) as Promise<R>;
  }

  /** The task's record with decoded arguments; throws `UnknownTaskError` for an unknown id. */
  async getTask(id: string): Promise<TaskInfo> {
    this.checkOpen();
    const record = await this.storage.getTask(id);
    if (!record) throw new UnknownTaskError(id);
    return taskInfo(record);
  }

  /**
   * Cancels a task: a waiting one at once; a running one has its
   * `AbortSignal` fired by its worker and ends as cancelled.
   */
  async cancel(id: string, reason = "cancelled by request"): Promise<CancelOutcome> {
    this.checkOpen();
    return this.storage.cancel(id, reason);
  }

  /** The recorded lifecycle events of one task, oldest first. */
  async taskEvents(id: string): Promise<TaskEvent[]> {
    this.checkOpen();
    return this.storage.taskEvents(id);
  }

  /**
   * Calls `listener` with every event stored from now on, from any process
   * sharing the storage. Resolves, once listening, to a function that stops it.
   */
  async subscribe(listener: EventListener, filter: { taskId?: string } = {}): Promise<() => void> {
    this.checkOpen();
    const { taskId } = filter;
    const filtered: EventListener = taskId
      ? (event) => {
          if (event.taskId === taskId) listener(event);
        }
      : listener;
    return this.follower.add(filtered);
  }

  /** Tasks matching a filter, in enqueue order. */
  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    this.checkOpen();
    return this.storage.listTasks(filter);
  }

  /** Numbers of tasks per queue and state. */
  async countTasks(): Promise<TaskCounts> {
    this.checkOpen();
    return this.storage.countTasks();
  }

  /** Tasks that failed for good (the dead letters), with their last error and attempts. */
  async listDeadLetters(filter: Omit<TaskFilter, "state"> = {}): Promise<TaskRecord[]> {
    this.checkOpen();
    return this.storage.listTasks({ ...filter, state: "failed" });
  }

  /**
   * Enqueues again a task that failed for good, was cancelled or expired,
   * under its own id, with its attempts counted from zero.
   */
  async retry(id: string): Promise<RequeueOutcome> {
    this.checkOpen();
    return this.storage.requeue(id);
  }

  /** Deletes finished tasks and their results; answers how many. */
  async purge(options: PurgeOptions = {}): Promise<number> {
    this.checkOpen();
    return purgeAll(this.storage, options, this.clock.now());
  }

  /** Stops every worker from starting the queue's tasks; those running go on. */
  async pauseQueue(queue: string): Promise<void> {
    this.checkOpen();
    await updateControl(this.storage, queue, (control) => ({ ...control, paused: true }));
  }

  async resumeQueue(queue: string): Promise<void> {
    this.checkOpen();
    await updateControl(this.storage, queue, (control) => ({ ...control, paused: false }));
  }

  /**
   * Sets a queue's limits, which hold across every worker and process:
   * `{ concurrency: 5, rateLimit: { max: 100, interval: "1m" } }`; null removes one.
   */
  async setQueueLimits(queue: string, limits: QueueLimits): Promise<void> {
    this.checkOpen();
    await updateControl(this.storage, queue, (control) => withLimits(control, limits));
  }

  /** The queues that are paused or limited, with their controls. */
  async queueControls(): Promise<Record<string, QueueControl>> {
    this.checkOpen();
    return this.storage.queueControls();
  }

  /**
   * Enqueues `task` with `args` at every tick of `spec` (a cron expression
   * or an interval), however many workers run: each tick enqueues one task.
   * Per-task options come from `task.with({...})`. Answers the schedule's id.
   */
  async schedule<A extends unknown[], R>(
    task: TaskDefinition<A, R>,
    spec: schedules.ScheduleSpec,
    ...args: A
  ): Promise<string> {
    this.checkOpen();
    if (typeof task === "function") {
      throw new InvalidArgumentError(
        "schedule: a plain function cannot be scheduled, since any worker may fire it; " +
          'define it as a task in a module of its own: defineTask("name", fn)',
      );
    }
    const now = this.clock.now();
    const context = this.buildContext(now);
    const template = buildTask({ task: task as TaskCall["task"], args }, context);
    return schedules.createSchedule(this.storage, spec, template, now);
  }

  /** Stops a schedule's ticks until `resumeSchedule`. */
  async pauseSchedule(id: string): Promise<void> {
    this.checkOpen();
    await schedules.pauseSchedule(this.storage, id);
  }

  /** Resumes a paused schedule at its next tick from now; ticks missed while paused do not fire. */
  async resumeSchedule(id: string): Promise<void> {
    this.checkOpen();
    await schedules.resumeSchedule(this.storage, id, this.clock.now());
  }

  async deleteSchedule(id: string): Promise<void> {
    this.checkOpen();
    await schedules.deleteSchedule(this.storage, id);
  }

  async listSchedules(): Promise<schedules.ScheduleInfo[]> {
    this.checkOpen();
    return schedules.listSchedules(this.storage);
  }

  /** One schedule; throws `UnknownScheduleError` for an unknown id. */
  async getSchedule(id: string): Promise<schedules.ScheduleInfo> {
    this.checkOpen();
    return schedules.getSchedule(this.storage, id);
  }

  /**
   * The result of the newest run of a schedule, waiting for its first run
   * if it has not fired yet; `timeout` as for `getResult`.
   */
  async getScheduleResult(id: string, options: { timeout?: Duration } = {}): Promise<unknown> {
    this.checkOpen();
    const timeoutMs =
      options.timeout === undefined ? Infinity : toMs(options.timeout, "getScheduleResult timeout");
    const deadline = Date.now() + timeoutMs;

    const newest = await schedules.newestRun(
      this.storage,
      id,
      deadline,
      this.config.pollIntervalMs,
    );
    if (newest === null) throw new ResultTimeoutError(id, timeoutMs);
    const left = deadline - Date.now();
    return this.getResult(newest, {
      timeout: Number.isFinite(left) ? Math.max(0, left) : undefined,
    });
  }

  /**
   * Whether this OmniQ's workers claim as they should, one entry per worker
   * type: `stalled` when one does not claim although it has room, `degraded`
   * when one found tasks that no wake-up had announced (see
   * `worker.livenessCheck`). Cheap: it reads what the workers keep, and
   * asks the storage nothing.
   */
  health(): OmniQHealth {
    const workers = this.workers.map((worker) => worker.health());
    const worst = (status: WorkerStatus) => workers.some((w) => w.status === status);
    const status = worst("stalled") ? "stalled" : worst("degraded") ? "degraded" : "ok";
    return { status, workers };
  }

  /**
   * Stops the workers gracefully (see `stopTimeout`) and closes the storage. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;

    for (const worker of [...this.workers].reverse()) await worker.stop();
    this.unsubscribe?.();
    this.follower.close();
    this.results.close();
    if (this.ownsStorage) await this.storage.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What `buildTask` needs from the configuration, at `now`. */
  private buildContext(now: number) {
    return { defaults: this.config.defaults, defaultWorker: this.config.defaultWorker, now };
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgumentError("this OmniQ is closed; open a new one");
  }
}
