import { decodeValue } from "../codec/value.js";
import type { OmniQLogger } from "../config/logger.js";
import { resolveConfig } from "../config/resolve.js";
import type { OmniQConfig, OmniQConfigInput } from "../config/types.js";
import {
  ConfigError,
  InvalidArgumentError,
  ResultTimeoutError,
  TaskCancelledError,
  TaskExpiredError,
  TaskFailedError,
  toErrorInfo,
  UnknownTaskError,
} from "../errors.js";
import { EventFollower, type EventListener } from "../events/follower.js";
import type { TaskEvent } from "../events/types.js";
import type {
  CancelOutcome,
  Clock,
  Storage,
  TaskCounts,
  TaskFilter,
  TaskOutcome,
} from "../storage/contract.js";
import { systemClock } from "../storage/contract.js";
import { openStorage } from "../storage/open.js";
import { splitStorage } from "../storage/split/open.js";
import type { TaskCall, TaskDefinition } from "../task/define.js";
import type { TaskRecord } from "../task/record.js";
import { type Duration, toMs } from "../util/duration.js";
import { redactUrl } from "../util/redact.js";
import { createWorker } from "../workers/factory.js";
import type { WorkerHealth, WorkerStatus } from "../workers/liveness.js";
import { workerSettingsFromConfig } from "../workers/options.js";
import type { Worker } from "../workers/worker.js";
import { buildTask } from "./build-task.js";
import { ResultWaiter } from "./result-waiter.js";

declare const resultType: unique symbol;

/** A task's id; it remembers the task's result type for `getResult`. */
export type TaskId<R = unknown> = string & { readonly [resultType]?: R };

/** What can be enqueued: a task definition or, for in-process workers, a plain function. */
export type Enqueueable<A extends unknown[], R> = TaskDefinition<A, R> | ((...args: A) => R);

/** A task as `getTask` shows it: the stored record with its arguments decoded. */
export interface TaskInfo extends Omit<TaskRecord, "payload"> {
  /** The arguments, or undefined when they cannot be decoded. */
  args: unknown[] | undefined;
}

/** The health of an `OmniQ`'s workers, from `omniq.health()`. */
export interface OmniQHealth {
  /** The worst of the workers' statuses; `ok` for a producer that runs none. */
  status: WorkerStatus;
  workers: WorkerHealth[];
}

/** Options of `OmniQ.open` beyond the configuration itself. */
export interface OpenOptions {
  /**
   * A storage already open, used instead of the `storage` URL; it is not
   * closed by `close()`. It records events or not as it was opened
   * (`openStorage(url, { recordEvents })`); `results` and `events` still apply.
   */
  storageInstance?: Storage;
  /** The time source; tests pass a manual clock. */
  clock?: Clock;
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
  private readonly results: ResultWaiter;
  private readonly follower: EventFollower;
  private readonly unsubscribe: (() => void) | undefined;
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
    this.results = new ResultWaiter(storage, config.pollIntervalMs);
    this.follower = new EventFollower(storage, config.pollIntervalMs, (error) =>
      log.warn({ err: toErrorInfo(error) }, "reading the event log failed"),
    );
    this.unsubscribe = storage.subscribe?.((signal) => {
      if (signal.type === "finished") this.results.finished(signal.ids, signal.outcomes);
      if (signal.type !== "cancel") this.follower.wake();
    });
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
  async enqueue<A extends unknown[], R>(
    task: Enqueueable<A, R>,
    ...args: A
  ): Promise<TaskId<Awaited<R>>> {
    const [id] = await this.enqueueMany([{ task: task as TaskCall["task"], args }]);
    return id as TaskId<Awaited<R>>;
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
    const context = {
      defaults: this.config.defaults,
      defaultWorker: this.config.defaultWorker,
      now,
    };
    const tasks = calls.map((call) => buildTask(call, context));

    if (options.within === undefined) {
      await this.storage.enqueue(tasks);
    } else if (this.storage.enqueueWithin) {
      await this.storage.enqueueWithin(options.within, tasks);
    } else {
      throw new InvalidArgumentError(
        "enqueueMany within a transaction needs a backend that shares the application's " +
          "database (postgres://); this storage cannot take part in your transaction",
      );
    }
    return tasks.map((task) => task.id);
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

    // A then rather than an async function: an application may wait on tens
    // of thousands at once, and a suspended async call holds twice the memory.
    return this.results.wait(id, timeoutMs).then((outcome) => {
      if (outcome === "timeout") throw new ResultTimeoutError(id, timeoutMs);
      return unpack(id, outcome) as R;
    });
  }

  /** The task's record with decoded arguments; throws `UnknownTaskError` for an unknown id. */
  async getTask(id: string): Promise<TaskInfo> {
    this.checkOpen();
    const record = await this.storage.getTask(id);
    if (!record) throw new UnknownTaskError(id);

    const { payload, ...rest } = record;
    let args: unknown[] | undefined;
    try {
      args = decodeValue(payload, "args") as unknown[];
    } catch {
      args = undefined;
    }
    return { ...rest, args };
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

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgumentError("this OmniQ is closed; open a new one");
  }
}

/**
 * The storage omniq works on: the queue's backend, with results and events
 * where the configuration puts them (see storage/split/). Closing it closes
 * what it opened, never a `storageInstance` given by the application.
 */
async function openStores(config: OmniQConfig, options: OpenOptions, clock: Clock) {
  if (!config.recordEvents && config.events !== config.storage) {
    throw new ConfigError(
      "events",
      `events: a backend for events is set (${redactUrl(config.events)}), but recordEvents is ` +
        "false, so nothing would go there; unset one of the two",
    );
  }

  const given = options.storageInstance;
  const queue =
    given ?? (await openStorage(config.storage, { clock, recordEvents: config.recordEvents }));
  const apart = (url: string) => (url === config.storage ? undefined : url);
  try {
    const storage = await splitStorage(queue, {
      results: apart(config.results),
      events: config.recordEvents ? apart(config.events) : undefined,
      recordEvents: config.recordEvents,
      clock,
      ownsQueue: !given,
      onError: (error) =>
        config.logger.warn({ err: toErrorInfo(error) }, "copying events to the event store failed"),
    });
    return { storage, owned: !given || storage !== queue };
  } catch (error) {
    if (!given) await queue.close().catch(() => undefined);
    throw error;
  }
}

function makeWorkers(config: OmniQConfig, storage: Storage, clock: Clock): Worker[] {
  if (config.worker === false) return [];
  const settings = workerSettingsFromConfig(config, config.worker, clock);
  return config.worker.types.map((type) => createWorker(type, storage, settings));
}

function unpack(id: string, outcome: TaskOutcome | null): unknown {
  if (outcome === null) throw new UnknownTaskError(id);

  switch (outcome.state) {
    case "completed":
      return decodeValue(outcome.result ?? "", "result");
    case "failed":
      throw new TaskFailedError(id, outcome.error ?? { name: "Error", message: "unknown error" });
    case "cancelled":
      throw new TaskCancelledError(id, outcome.error?.message ?? "cancelled");
    case "expired":
      throw new TaskExpiredError(id);
    default:
      throw new InvalidArgumentError(`task ${id} has not ended (state ${outcome.state})`);
  }
}
