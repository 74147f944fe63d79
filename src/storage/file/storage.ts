import { setTimeout as sleep } from "node:timers/promises";
import { OmniQError, StorageError } from "../../errors.js";
import type { TaskEvent } from "../../events/types.js";
import type { ClaimedTask, NewTask, TaskRecord } from "../../task/record.js";
import type {
  CancelOutcome,
  ClaimRequest,
  HeartbeatReply,
  Lease,
  MaintenanceOptions,
  MaintenanceReport,
  PurgeFilter,
  QueueControl,
  RequeueOutcome,
  ScheduleEvent,
  Settlement,
  Storage,
  StorageSignal,
  StoredSchedule,
  TaskCounts,
  TaskFilter,
  TaskOutcome,
} from "../contract.js";
import { tryCancel } from "./cancel.js";
import { ChangeSet } from "./changes.js";
import { claim } from "./claim.js";
import { enqueue } from "./enqueue.js";
import { markRunning } from "./flow.js";
import { BUSY } from "./held-task.js";
import { countTasks, getOutcome, getTask, listTasks } from "./inspect.js";
import { maintain } from "./maintain.js";
import { encodeName } from "./names.js";
import { purge } from "./purge.js";
import { recoverMarkers } from "./recovery.js";
import { deleteSchedule, getSchedule, listSchedules, putSchedule } from "./schedules.js";
import { tryHeartbeat, tryRelease, trySettle } from "./settle.js";
import type { FileStore } from "./store.js";
import { tryRequeue, tryUnblock } from "./unblock.js";

/** How long a step waits for a task another process is changing, in ms, before it fails. */
const BUSY_TIMEOUT_MS = 10_000;

type Step<T, R> = (changes: ChangeSet, item: T) => R | typeof BUSY;

/**
 * One handle on a files store. Every operation runs synchronously to its
 * end (see fs-sync.ts) and answers a settled promise; only a step that finds
 * a task held by another process for a moment waits, on a timer, and tries
 * that task again.
 */
export class FileStorage implements Storage {
  private closed = false;

  constructor(private readonly store: FileStore) {}

  async enqueue(tasks: readonly NewTask[]): Promise<string[]> {
    return this.run("enqueue", (store) => enqueue(store, tasks));
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    return this.run("claim", (store) => claim(store, request));
  }

  async heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply> {
    const reply: HeartbeatReply = { lost: [], cancelRequested: [] };
    await this.eachUntilDone("heartbeat", leases, (changes, lease) =>
      tryHeartbeat(this.store, changes, lease, leaseMs, reply),
    );
    return reply;
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    return this.eachUntilDone("settle", settlements, (changes, settlement) =>
      trySettle(this.store, changes, settlement),
    );
  }

  async release(leases: readonly Lease[]): Promise<void> {
    await this.eachUntilDone("release", leases, (changes, lease) =>
      tryRelease(this.store, changes, lease),
    );
  }

  async cancel(id: string, reason: string): Promise<CancelOutcome> {
    const [outcome] = await this.eachUntilDone("cancel", [id], (changes) =>
      tryCancel(this.store, changes, id, reason),
    );
    return outcome as CancelOutcome;
  }

  async unblock(ids: readonly string[]): Promise<string[]> {
    const moved = await this.eachUntilDone("unblock", ids, (changes, id) =>
      tryUnblock(this.store, changes, id),
    );
    return ids.filter((_, i) => moved[i]);
  }

  async requeue(id: string): Promise<RequeueOutcome> {
    const [outcome] = await this.eachUntilDone("requeue", [id], (changes) =>
      tryRequeue(this.store, changes, id),
    );
    return outcome as RequeueOutcome;
  }

  async purge(filter: PurgeFilter): Promise<number> {
    return this.run("purge", (store) => purge(store, filter));
  }

  async setQueueControl(queue: string, control: QueueControl | null): Promise<void> {
    this.run("setQueueControl", (store) => {
      store.controls.set(store.locks, queue, control, () => markRunning(store, encodeName(queue)));
      store.signals.emit([{ type: "ready", queue }]);
    });
  }

  async queueControls(): Promise<Record<string, QueueControl>> {
    return this.run("queueControls", (store) => store.controls.all());
  }

  async putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null> {
    return this.run("putSchedule", (store) => putSchedule(store, id, data, expectedVersion, event));
  }

  async getSchedule(id: string): Promise<StoredSchedule | null> {
    return this.run("getSchedule", (store) => getSchedule(store, id));
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    return this.run("listSchedules", (store) => listSchedules(store));
  }

  async deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean> {
    return this.run("deleteSchedule", (store) => deleteSchedule(store, id, event));
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    return this.run("getTask", (store) => getTask(store, id));
  }

  async getOutcome(id: string): Promise<TaskOutcome | null> {
    return this.run("getOutcome", (store) => getOutcome(store, id));
  }

  async listTasks(filter?: TaskFilter): Promise<TaskRecord[]> {
    return this.run("listTasks", (store) => listTasks(store, filter));
  }

  async countTasks(): Promise<TaskCounts> {
    return this.run("countTasks", (store) => countTasks(store));
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.run("taskEvents", (store) => store.log.ofTask(taskId));
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    return this.run("eventsSince", (store) => store.log.since(afterSeq, limit));
  }

  async lastEventSeq(): Promise<number> {
    return this.run("lastEventSeq", (store) => store.log.lastSeq());
  }

  async maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    return this.run("maintain", (store) => maintain(store, options));
  }

  /** Signals of this process's handles at once, and of other processes' through `signals/log`. */
  subscribe(listener: (signal: StorageSignal) => void): () => void {
    return this.open().signals.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
  }

  private open(): FileStore {
    if (this.closed) {
      throw new StorageError(`the file storage handle on ${this.store.layout.root} is closed`);
    }
    return this.store;
  }

  /** Runs an operation, turning file system errors into StorageError. */
  private run<R>(what: string, body: (store: FileStore) => R): R {
    const store = this.open();
    try {
      return body(store);
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  /**
   * Applies `step` to every item in one change set, then again, after a
   * short wait, to the items whose task another process held; answers each
   * item's result in order.
   */
  private async eachUntilDone<T, R>(
    what: string,
    items: readonly T[],
    step: Step<T, R>,
  ): Promise<R[]> {
    const results = new Array<R>(items.length);
    let pending = items.map((_, index) => index);
    const started = Date.now();

    for (let round = 1; ; round += 1) {
      pending = this.run(what, (store) => this.pass(store, items, pending, step, results));
      if (pending.length === 0) return results;

      if (Date.now() - started > BUSY_TIMEOUT_MS) {
        throw new StorageError(
          `${what}: ${pending.length} task(s) stayed held by another process for ${BUSY_TIMEOUT_MS} ms`,
        );
      }
      await sleep(Math.min(round, 10));
      // A holder that died mid-change would hold its task forever: free such tasks.
      if (round % 5 === 0) this.run(what, (store) => recoverMarkers(store));
    }
  }

  /** One pass of `eachUntilDone`: answers the items to try again. */
  private pass<T, R>(
    store: FileStore,
    items: readonly T[],
    pending: readonly number[],
    step: Step<T, R>,
    results: R[],
  ): number[] {
    const changes = new ChangeSet(store, store.clock.now());
    const busy: number[] = [];
    try {
      for (const index of pending) {
        const result = step(changes, items[index] as T);
        if (result === BUSY) busy.push(index);
        else results[index] = result;
      }
      changes.commit();
    } catch (error) {
      changes.abort();
      throw error;
    }
    return busy;
  }

  private failure(what: string, error: unknown): Error {
    if (error instanceof OmniQError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new StorageError(`file storage ${this.store.layout.root}: ${what} failed: ${message}`, {
      cause: error,
    });
  }
}
