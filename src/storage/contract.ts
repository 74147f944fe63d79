import type { TaskEvent, TaskEventType } from "../events/types.js";
import type { ClaimedTask, NewTask, TaskErrorInfo, TaskRecord } from "../task/record.js";
import type { TaskState, WorkerType } from "../task/state.js";

/** A worker's request for work. */
export interface ClaimRequest {
  /**
   * Queues to read, highest priority first: a later queue is read only when earlier ones are empty.
   */
  queues: readonly string[];
  /** Only tasks routed to one of these worker types. */
  workers: readonly WorkerType[];
  /** At most this many tasks. */
  limit: number;
  /** Who holds the lease, for inspection. */
  owner: string;
  /** Lease length in ms from now. */
  leaseMs: number;
}

/** Proof of holding a task: its id and the fencing token of the claim. */
export interface Lease {
  id: string;
  token: number;
}

/** How a held task ended one attempt. */
export type Settlement =
  | (Lease & { outcome: "completed"; result: string })
  | (Lease & {
      outcome: "failed";
      error: TaskErrorInfo;
      /** When to try again; null means failed for good. */
      retryAt: number | null;
    })
  | (Lease & { outcome: "cancelled"; error: TaskErrorInfo });

/** The answer of `settleAndClaim`. */
export interface SettledAndClaimed {
  /** One boolean per settlement, as `settle` answers. */
  applied: boolean[];
  /** What the claim took, as `claim` answers. */
  claimed: ClaimedTask[];
}

/** What a heartbeat learns about the tasks it renewed. */
export interface HeartbeatReply {
  /** Leases that are no longer held (expired and taken, or settled): stop those tasks. */
  lost: string[];
  /** Tasks someone asked to cancel while they ran. */
  cancelRequested: string[];
}

/** The answer of `cancel`. */
export type CancelOutcome =
  | "cancelled" // it was waiting and is now cancelled
  | "requested" // it is running; its worker is told through heartbeats and signals
  | "finished" // it had already ended; nothing changed
  | "unknown"; // no such task

/** The stored end of a task, as `getResult` needs it. */
export interface TaskOutcome {
  state: TaskState;
  /** The encoded result, when state is `completed`. */
  result?: string;
  error?: TaskErrorInfo;
}

/** Filters for `listTasks`. */
export interface TaskFilter {
  queue?: string;
  state?: TaskState;
  name?: string;
  /** @default 100 */
  limit?: number;
  offset?: number;
}

/** Numbers of tasks per queue and state. */
export type TaskCounts = Record<string, Partial<Record<TaskState, number>>>;

/** What one round of housekeeping changed. */
export interface MaintenanceReport {
  /** Leases that ran out: the tasks went back to waiting, or failed after too many losses. */
  leasesExpired: number;
  /** Waiting tasks whose time-to-live passed. */
  tasksExpired: number;
  /** Finished tasks deleted with their results, their result time-to-live having passed. */
  resultsDeleted: number;
  /** Events older than the event time-to-live. */
  eventsDeleted: number;
}

/** Which finished tasks `purge` deletes. */
export interface PurgeFilter {
  /** Final states to delete; any other state given is refused. */
  states: readonly TaskState[];
  /** Only this queue; absent means every queue. */
  queue?: string;
  /** Only tasks that finished before this time (ms since the epoch). */
  finishedBefore?: number;
  /** At most this many in one call, so a caller can show progress. @default 1000 */
  limit?: number;
}

/** The answer of `requeue`. */
export type RequeueOutcome =
  | "requeued" // it had failed for good, been cancelled or expired, and now waits again
  | "completed" // it completed; completed tasks are not requeued
  | "live" // it has not finished; nothing changed
  | "unknown"; // no such task

/** At most `max` claims from the queue in each window of `intervalMs`. */
export interface RateLimit {
  max: number;
  intervalMs: number;
}

/**
 * A queue's flow controls, stored in the backend so that they hold across
 * every worker: `claim` honours them in the same atomic step as the claim.
 */
export interface QueueControl {
  /** A paused queue gives no tasks to `claim`; tasks already running go on. */
  paused: boolean;
  /** At most this many of the queue's tasks running at once, over all workers; null is no limit. */
  concurrency: number | null;
  /**
   * Claims from the queue counted in fixed windows of `intervalMs` starting
   * at multiples of it since the epoch; null is no limit.
   */
  rateLimit: RateLimit | null;
}

/** A schedule as storage keeps it: the scheduler's own encoding, under a version. */
export interface StoredSchedule {
  id: string;
  /** Raised by every write; `putSchedule` compares it. */
  version: number;
  /** The scheduler's encoded record (see schedule/record.ts); storage does not read it. */
  data: string;
}

/** An event of a change to a schedule, written by `putSchedule` or `deleteSchedule`. */
export interface ScheduleEvent {
  type: Extract<TaskEventType, `schedule-${string}`>;
  /** The queue and name of the task the schedule enqueues. */
  queue: string;
  name: string;
}

/** Signals a backend can send so that workers and waiters need not poll. */
export type StorageSignal =
  | { type: "ready"; queue: string }
  | {
      type: "finished";
      ids: readonly string[];
      /**
       * The final outcomes of some of these tasks, when the backend has them
       * at hand (a handle in the same process): a waiter then needs no read.
       */
      outcomes?: ReadonlyMap<string, TaskOutcome>;
    }
  | { type: "cancel"; id: string };

/**
 * The storage contract every backend implements. Times come from the
 * backend's clock (see `Clock`), so tests can move time without sleeping.
 *
 * A backend also keeps the event log: each state change writes its event in
 * the same step as the change itself.
 */
export interface Storage {
  /**
   * Stores all tasks or none. A duplicate id rejects the whole batch.
   *
   * Answers one id per task, in order: its own, or, when its
   * `idempotencyKey` is held by a task that has not finished (stored before,
   * or earlier in the same batch), that task's id, and then it is not stored.
   * A task with dependencies is stored `blocked`.
   */
  enqueue(tasks: readonly NewTask[]): Promise<string[]>;

  /**
   * Takes up to `limit` due tasks: a task is due when it waits and its run-at
   * time has come and its time-to-live has not passed. Raises each one's
   * attempt count and fencing token and leases it to `owner`. No two claims
   * get the same task while its lease runs.
   */
  claim(request: ClaimRequest): Promise<ClaimedTask[]>;

  /** Extends the leases still held, and tells which were lost or asked to cancel. */
  heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply>;

  /**
   * Ends attempts. Each settlement applies only if its token is still the
   * current one and the task still runs; the answer says which applied.
   */
  settle(settlements: readonly Settlement[]): Promise<boolean[]>;

  /**
   * Optional: `settle` then `claim` in one step, for a worker whose ended
   * tasks free the slots it refills: one write instead of two, which on an
   * embedded database is most of the cost of a small task. The same rules
   * as the two calls apply; if it throws, neither happened.
   */
  settleAndClaim?(
    settlements: readonly Settlement[],
    request: ClaimRequest,
  ): Promise<SettledAndClaimed>;

  /**
   * Hands held tasks back untouched, for a worker that stops before running
   * them: they wait again at once, and the attempt does not count.
   */
  release(leases: readonly Lease[]): Promise<void>;

  /** Cancels a waiting or blocked task, or flags a running one for its worker. */
  cancel(id: string, reason: string): Promise<CancelOutcome>;

  /**
   * Moves blocked tasks on to waiting (`pending`, or `scheduled` before
   * their run-at time), with a `ready` signal per queue. Ids that are not
   * blocked are skipped. Answers the ids that moved.
   */
  unblock(ids: readonly string[]): Promise<string[]>;

  /**
   * Puts a task that failed for good, was cancelled or expired back to
   * `pending`, due now: attempts, lease losses, error, finish time, result,
   * time-to-live and idempotency key cleared; a `requeued` event.
   */
  requeue(id: string): Promise<RequeueOutcome>;

  /** Deletes finished tasks with their results, up to the filter's limit; answers how many. */
  purge(filter: PurgeFilter): Promise<number>;

  /**
   * Sets a queue's controls; null restores the defaults (not paused, no
   * limits). A change that lets tasks run again sends a `ready` signal.
   */
  setQueueControl(queue: string, control: QueueControl | null): Promise<void>;

  /** Every queue with controls other than the defaults. */
  queueControls(): Promise<Record<string, QueueControl>>;

  /**
   * Writes a schedule if its stored version is `expectedVersion` (null: only
   * if there is none), with `event` in the event log in the same step.
   * Answers the new version, or null when the version did not match.
   */
  putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null>;

  getSchedule(id: string): Promise<StoredSchedule | null>;

  /** Every schedule, by id. */
  listSchedules(): Promise<StoredSchedule[]>;

  /** Deletes a schedule with `event` in the log; false when there was none. */
  deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean>;

  getTask(id: string): Promise<TaskRecord | null>;

  /** The task's state and, once it has ended, its result or error; null for an unknown id. */
  getOutcome(id: string): Promise<TaskOutcome | null>;

  listTasks(filter?: TaskFilter): Promise<TaskRecord[]>;

  countTasks(): Promise<TaskCounts>;

  /** The events of one task, oldest first. */
  taskEvents(taskId: string): Promise<TaskEvent[]>;

  /** Events with `seq` above `afterSeq`, oldest first, for subscribers that follow the log. */
  eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]>;

  /**
   * The `seq` of the newest stored event, or 0 when there is none: where a new subscriber starts.
   */
  lastEventSeq(): Promise<number>;

  /**
   * Housekeeping, run now and then by workers: returns tasks whose lease ran
   * out, expires waiting tasks past their time-to-live, deletes results and
   * events past theirs.
   */
  maintain(options: MaintenanceOptions): Promise<MaintenanceReport>;

  /**
   * Optional: delivers wake-up signals from this and, where the backend can,
   * other processes. Without it, workers and waiters poll.
   */
  subscribe?(listener: (signal: StorageSignal) => void): () => void;

  /**
   * Optional, with `subscribe`: a number that stays the same for as long as
   * this handle's subscribers hear of every task that reaches a final state
   * (a `finished` signal for it), from this process and every other. It
   * changes whenever they may have missed one: a lost connection, say. A
   * backend whose signals can be missed without its knowing has none.
   *
   * While it holds, a task enqueued through this handle and not yet
   * signalled finished has not finished: a wait for its result needs no
   * first look at the store.
   */
  signalEpoch?(): number;

  /**
   * Optional: stores tasks through a connection of the application's, inside
   * its open transaction, so they exist only if that transaction commits.
   * PostgreSQL takes a `pg` client (`ClientBase`).
   */
  enqueueWithin?(connection: unknown, tasks: readonly NewTask[]): Promise<string[]>;

  /** Releases connections and files. Safe to call twice. */
  close(): Promise<void>;
}

/** Settings for `Storage.maintain`. */
export interface MaintenanceOptions {
  /** A task whose lease runs out this many times fails with `WorkerLostError`. */
  maxLeaseLosses: number;
  /** Events older than this many ms are deleted. */
  eventTtlMs: number;
}

/** Where a backend reads the time. Tests pass a clock they can move. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
