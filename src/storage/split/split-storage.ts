import type { TaskEvent } from "../../events/types.js";
import type { ClaimedTask, NewTask, TaskRecord } from "../../task/record.js";
import type {
  CancelOutcome,
  ClaimRequest,
  Clock,
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
import type { EventStore, ResultStore } from "../stores.js";
import { EventRelay } from "./relay.js";
import { SplitResults } from "./results.js";

/**
 * How long the queue keeps events already copied to the event store, in ms:
 * long enough for what reads the queue's log directly (SQLite's wake-ups
 * across processes) and for clocks of several machines a little apart.
 */
export const QUEUE_EVENT_KEEP_MS = 60_000;

/** What a `SplitStorage` is made of. */
export interface SplitParts {
  /** The queue's backend: the truth about every task. */
  queue: Storage;
  /** Where results of completed tasks go, or null to leave them with the queue. */
  results: ResultStore | null;
  /** Where events go, or null to leave them with the queue. */
  events: EventStore | null;
  clock: Clock;
  /** Whether `close` closes the queue too. */
  ownsQueue: boolean;
  /**
   * Told about failures that a read survives (an event copy that failed before a read of the
   * store).
   */
  onError: (error: unknown) => void;
}

/**
 * A `Storage` whose results and events live apart from its queue: every
 * task operation goes to the queue; results go to a `ResultStore` (see
 * SplitResults for the order of writes) and events are copied from the
 * queue's log to an `EventStore` (see EventRelay). Workers and the OmniQ
 * facade use it like any backend.
 */
export class SplitStorage implements Storage {
  private readonly queue: Storage;
  private readonly results: SplitResults | null;
  private readonly events: EventStore | null;
  private readonly relay: EventRelay | null;
  private closed = false;

  constructor(private readonly parts: SplitParts) {
    this.queue = parts.queue;
    this.results = parts.results ? new SplitResults(parts.queue, parts.results, parts.clock) : null;
    this.events = parts.events;
    this.relay = parts.events ? new EventRelay(parts.queue, parts.events) : null;

    // Optional powers are the queue's: offered exactly when it offers them.
    if (parts.queue.enqueueWithin) {
      this.enqueueWithin = parts.queue.enqueueWithin.bind(parts.queue);
    }
    if (parts.queue.subscribe) this.subscribe = (listener) => this.listen(listener);
    if (parts.queue.signalEpoch) this.signalEpoch = parts.queue.signalEpoch.bind(parts.queue);
  }

  enqueueWithin?: (connection: unknown, tasks: readonly NewTask[]) => Promise<string[]>;

  subscribe?: (listener: (signal: StorageSignal) => void) => () => void;

  signalEpoch?: () => number;

  enqueue(tasks: readonly NewTask[]): Promise<string[]> {
    return this.queue.enqueue(tasks);
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    const claimed = await this.queue.claim(request);
    this.results?.claimed(claimed);
    return claimed;
  }

  async heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply> {
    const reply = await this.queue.heartbeat(leases, leaseMs);
    this.results?.forget(reply.lost);
    return reply;
  }

  settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (!this.results) return this.queue.settle(settlements);
    return this.results.settle(settlements);
  }

  async release(leases: readonly Lease[]): Promise<void> {
    await this.queue.release(leases);
    this.results?.forget(leases.map(({ id }) => id));
  }

  cancel(id: string, reason: string): Promise<CancelOutcome> {
    return this.queue.cancel(id, reason);
  }

  unblock(ids: readonly string[]): Promise<string[]> {
    return this.queue.unblock(ids);
  }

  requeue(id: string): Promise<RequeueOutcome> {
    return this.queue.requeue(id);
  }

  /** Purges the queue's records; results kept apart go at their own time-to-live. */
  purge(filter: PurgeFilter): Promise<number> {
    return this.queue.purge(filter);
  }

  setQueueControl(queue: string, control: QueueControl | null): Promise<void> {
    return this.queue.setQueueControl(queue, control);
  }

  queueControls(): Promise<Record<string, QueueControl>> {
    return this.queue.queueControls();
  }

  /** Schedules live with the queue; their events reach the event store like any other. */
  putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null> {
    return this.queue.putSchedule(id, data, expectedVersion, event);
  }

  getSchedule(id: string): Promise<StoredSchedule | null> {
    return this.queue.getSchedule(id);
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return this.queue.listSchedules();
  }

  deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean> {
    return this.queue.deleteSchedule(id, event);
  }

  getTask(id: string): Promise<TaskRecord | null> {
    return this.queue.getTask(id);
  }

  getOutcome(id: string): Promise<TaskOutcome | null> {
    if (!this.results) return this.queue.getOutcome(id);
    return this.results.outcome(id);
  }

  listTasks(filter?: TaskFilter): Promise<TaskRecord[]> {
    return this.queue.listTasks(filter);
  }

  countTasks(): Promise<TaskCounts> {
    return this.queue.countTasks();
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    if (!this.events) return this.queue.taskEvents(taskId);
    await this.catchUp();
    return this.events.taskEvents(taskId);
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    if (!this.events) return this.queue.eventsSince(afterSeq, limit);
    await this.catchUp();
    return this.events.eventsSince(afterSeq, limit);
  }

  async lastEventSeq(): Promise<number> {
    if (!this.events) return this.queue.lastEventSeq();
    await this.catchUp();
    return this.events.lastEventSeq();
  }

  /**
   * Copies events first, so the queue may then drop the copied ones sooner
   * than the event time-to-live; if copying failed, it keeps them for the
   * full time-to-live. The queue's housekeeping runs whatever the side
   * stores do: leases must run out even while they are unreachable. The
   * first failure is thrown once every step has had its turn.
   */
  async maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    const failures: unknown[] = [];
    const relayed = this.relay ? await this.relay.run().catch(noteTo(failures)) : undefined;

    const queueTtl = relayed?.caughtUp
      ? Math.min(options.eventTtlMs, QUEUE_EVENT_KEEP_MS)
      : options.eventTtlMs;
    const report = await this.queue.maintain({ ...options, eventTtlMs: queueTtl });

    const now = this.parts.clock.now();
    if (this.results) await this.results.purge(now).catch(noteTo(failures));
    if (this.events) {
      const deleted = await this.events.purge(now - options.eventTtlMs).catch(noteTo(failures));
      report.eventsDeleted = deleted ?? 0;
    }

    if (failures.length > 0) throw failures[0];
    return report;
  }

  /** The queue's signals, with outcomes made whole where results live apart. */
  private listen(listener: (signal: StorageSignal) => void): () => void {
    const subscribe = this.queue.subscribe?.bind(this.queue);
    if (!subscribe) return () => {};
    const results = this.results;
    if (!results) return subscribe(listener);
    return subscribe((signal) => listener(results.signal(signal)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.results?.close(), this.events?.close()]);
    if (this.parts.ownsQueue) await this.queue.close();
  }

  /**
   * Brings the event store up to date before a read; a failure is reported and the read goes on.
   */
  private async catchUp(): Promise<void> {
    try {
      await this.relay?.run();
    } catch (error) {
      this.parts.onError(error);
    }
  }
}

/** A catch handler that keeps the error and answers undefined. */
function noteTo(failures: unknown[]): (error: unknown) => undefined {
  return (error) => {
    failures.push(error);
    return undefined;
  };
}
