// The types the OmniQ facade's methods take and answer, beside those of the
// modules it delegates to (flows.ts, queues.ts, schedules.ts).
import type { Clock, Storage } from "../storage/contract.js";
import type { TaskDefinition } from "../task/define.js";
import type { TaskRecord } from "../task/record.js";
import type { WorkerHealth, WorkerStatus } from "../workers/liveness.js";

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
