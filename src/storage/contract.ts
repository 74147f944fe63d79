import type { TaskEvent } from "../events/types.js";
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
  /** Stores all tasks or none. A duplicate id rejects the whole batch. */
  enqueue(tasks: readonly NewTask[]): Promise<void>;

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

  /** Cancels a waiting task, or flags a running one for its worker. */
  cancel(id: string, reason: string): Promise<CancelOutcome>;

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
   * Optional: stores tasks through a connection of the application's, inside
   * its open transaction, so they exist only if that transaction commits.
   * PostgreSQL takes a `pg` client (`ClientBase`).
   */
  enqueueWithin?(connection: unknown, tasks: readonly NewTask[]): Promise<void>;

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
