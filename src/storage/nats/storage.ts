// The Storage object: opens the connection and the store, hands each
// operation the shared context, and turns whatever goes wrong below into a
// StorageError that names no credentials.
import type { NatsConnection } from "@nats-io/transport-node";
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
import { cancel } from "./cancel.js";
import { claim } from "./claim.js";
import { type NatsContext, remember } from "./context.js";
import { queueControls, setQueueControl } from "./controls.js";
import { enqueue } from "./enqueue.js";
import { eventsSince, lastEventSeq, taskEvents } from "./events.js";
import { countTasks, getOutcome, getTask, listTasks } from "./inspect.js";
import type { JetStream } from "./jetstream.js";
import { heartbeat, release } from "./lease.js";
import { purge, requeue, unblock } from "./lifecycle.js";
import { maintain } from "./maintain.js";
import { deleteSchedule, getSchedule, listSchedules, putSchedule } from "./schedules.js";
import { settle } from "./settle.js";
import { IndexTail } from "./tail.js";
import type { Wire } from "./wire.js";

export class NatsStorage implements Storage {
  private readonly ctx: NatsContext;
  private tail: Promise<IndexTail> | null = null;
  private started: IndexTail | null = null;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly wire: Wire,
    js: JetStream,
    base: Pick<NatsContext, "names" | "clock" | "signals" | "recordEvents">,
    private readonly timeoutMs: number,
  ) {
    this.ctx = {
      ...base,
      nc,
      js,
      index: () => this.index(),
      held: new Map(),
      claiming: new Set(),
      suspects: new Set(),
      committed: new Set(),
    };
  }

  /** The connection dropped: requests fail fast until it is back. */
  down(reason: string): void {
    this.wire.fail(reason);
    this.started?.pause();
  }

  /** The connection is back: the claim index resumes where it stopped. */
  up(): void {
    this.wire.up();
    this.started?.restart();
  }

  enqueue(tasks: readonly NewTask[]): Promise<string[]> {
    return this.run(() => enqueue(this.ctx, tasks));
  }

  claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    return this.run(() => claim(this.ctx, request));
  }

  heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply> {
    return this.run(() => heartbeat(this.ctx, leases, leaseMs));
  }

  settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    return this.run(() => settle(this.ctx, settlements));
  }

  release(leases: readonly Lease[]): Promise<void> {
    return this.run(() => release(this.ctx, leases));
  }

  cancel(id: string, reason: string): Promise<CancelOutcome> {
    return this.run(() => cancel(this.ctx, id, reason));
  }

  unblock(ids: readonly string[]): Promise<string[]> {
    return this.run(() => unblock(this.ctx, ids));
  }

  requeue(id: string): Promise<RequeueOutcome> {
    return this.run(() => requeue(this.ctx, id));
  }

  purge(filter: PurgeFilter): Promise<number> {
    return this.run(() => purge(this.ctx, filter));
  }

  setQueueControl(queue: string, control: QueueControl | null): Promise<void> {
    return this.run(() => setQueueControl(this.ctx, queue, control));
  }

  queueControls(): Promise<Record<string, QueueControl>> {
    return this.run(() => queueControls(this.ctx));
  }

  putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null> {
    return this.run(() => putSchedule(this.ctx, id, data, expectedVersion, event));
  }

  getSchedule(id: string): Promise<StoredSchedule | null> {
    return this.run(() => getSchedule(this.ctx, id));
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return this.run(() => listSchedules(this.ctx));
  }

  deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean> {
    return this.run(() => deleteSchedule(this.ctx, id, event));
  }

  getTask(id: string): Promise<TaskRecord | null> {
    return this.run(() => getTask(this.ctx, id));
  }

  getOutcome(id: string): Promise<TaskOutcome | null> {
    return this.run(() => getOutcome(this.ctx, id));
  }

  listTasks(filter?: TaskFilter): Promise<TaskRecord[]> {
    return this.run(() => listTasks(this.ctx, filter));
  }

  countTasks(): Promise<TaskCounts> {
    return this.run(() => countTasks(this.ctx));
  }

  taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.run(() => taskEvents(this.ctx.js, this.ctx.names, taskId));
  }

  eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    return this.run(() => eventsSince(this.ctx.js, this.ctx.names, afterSeq, limit));
  }

  lastEventSeq(): Promise<number> {
    return this.run(() => lastEventSeq(this.ctx.js, this.ctx.names));
  }

  maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    return this.run(() => maintain(this.ctx, options));
  }

  subscribe(listener: (signal: StorageSignal) => void): () => void {
    return this.ctx.signals.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;

    // Reverse of opening: the index follower (even one still starting), the
    // signals, the requests, then the connection.
    this.started?.stop();
    void this.tail?.then(
      (tail) => tail.stop(),
      () => undefined,
    );
    this.ctx.signals.close();
    this.wire.close();
    await this.nc.close().catch(() => undefined);
  }

  /** The claim index, started on first use: a handle that only enqueues never pays for it. */
  private index(): Promise<IndexTail> {
    if (!this.tail) {
      const tail = new IndexTail(
        this.nc,
        this.ctx.js,
        this.ctx.names.indexBucket,
        this.timeoutMs,
        (batch) => remember(this.ctx.committed, batch),
      );
      this.tail = tail.start().then(
        () => {
          this.started = tail;
          return tail;
        },
        (error: unknown) => {
          tail.stop();
          this.tail = null;
          throw error;
        },
      );
    }
    return this.tail;
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageError("the NATS storage is closed");
    try {
      return await operation();
    } catch (error) {
      if (error instanceof OmniQError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StorageError(`NATS storage operation failed: ${reason}`, { cause: error });
    }
  }
}
