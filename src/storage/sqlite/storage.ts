import type Database from "better-sqlite3";
import { OmniQError, StorageError } from "../../errors.js";
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
  SettledAndClaimed,
  Settlement,
  Storage,
  StorageSignal,
  StoredSchedule,
  TaskCounts,
  TaskFilter,
  TaskOutcome,
} from "../contract.js";
import { OutcomeBatcher } from "../shared/outcome-batcher.js";
import { type FileChannel, joinChannel, leaveChannel } from "./bus.js";
import { Changes } from "./changes.js";
import { claimTasks } from "./claim.js";
import { QueueControls } from "./controls.js";
import { DeadLetters } from "./dead-letters.js";
import { enqueueTasks, Unblocker } from "./enqueue.js";
import { Inspector } from "./inspect.js";
import { runMaintenance } from "./maintenance.js";
import { readOutcomes } from "./outcomes.js";
import { toTaskEvent, toTaskRecord } from "./rows.js";
import { Schedules } from "./schedules.js";
import { cancelTask, releaseTasks, renewLeases, settleTasks } from "./settle.js";
import { Statements } from "./statements.js";

type Body = (changes: Changes) => unknown;

/** What the handle needs beside its connection. */
export interface HandleSettings {
  clock: Clock;
  /** Signal changes made by other processes too. */
  watch: boolean;
}

/**
 * One handle on an omniq SQLite file: one connection, its prepared
 * statements, and the process-wide channel of the file for signals.
 * better-sqlite3 is synchronous; each method does its work in one go and
 * returns a settled promise, which keeps the per-task cost to a few
 * microseconds.
 */
export class SqliteStorage implements Storage {
  private readonly statements: Statements;
  private readonly controls: QueueControls;
  private readonly unblocker: Unblocker;
  private readonly deadLetters: DeadLetters;
  private readonly schedules: Schedules;
  private readonly inspector: Inspector;
  private readonly channel: FileChannel;
  /** Runs a body in BEGIN IMMEDIATE: the write lock is taken before the first read. */
  private readonly writeTransaction: (body: Body) => [unknown, Changes];
  private readonly unsubscribers = new Set<() => void>();
  /** `getOutcome` calls of one turn share one statement (see OutcomeBatcher). */
  private readonly outcomes = new OutcomeBatcher(async (ids) =>
    this.read("getOutcome", () => readOutcomes(this.statements, ids)),
  );
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly settings: HandleSettings,
  ) {
    this.statements = new Statements(db);
    this.controls = new QueueControls(db);
    this.unblocker = new Unblocker(db);
    this.deadLetters = new DeadLetters(db, this.statements);
    this.schedules = new Schedules(db);
    this.inspector = new Inspector(db, this.statements);
    this.channel = joinChannel(path);

    const transaction = db.transaction((body: Body): [unknown, Changes] => {
      // "Now" is read once the lock is held, not before a wait for it.
      const changes = new Changes(this.statements, this.settings.clock.now());
      return [body(changes), changes];
    });
    this.writeTransaction = (body) => transaction.immediate(body);
  }

  async enqueue(tasks: readonly NewTask[]): Promise<string[]> {
    if (tasks.length === 0) return [];
    return this.write("enqueue", (changes) => enqueueTasks(this.statements, tasks, changes));
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    if (!asksForWork(request)) return [];
    return this.write("claim", (changes) =>
      claimTasks(this.statements, this.controls, request, changes),
    );
  }

  async heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply> {
    if (leases.length === 0) return { lost: [], cancelRequested: [] };
    return this.write("heartbeat", (changes) =>
      renewLeases(this.statements, leases, leaseMs, changes.now),
    );
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    if (settlements.length === 0) return [];
    return this.write("settle", (changes) => settleTasks(this.statements, settlements, changes));
  }

  // One transaction, so one commit: the settlements go first, so that the
  // claim sees the slots and rows they freed.
  async settleAndClaim(
    settlements: readonly Settlement[],
    request: ClaimRequest,
  ): Promise<SettledAndClaimed> {
    return this.write("settleAndClaim", (changes) => ({
      applied: settleTasks(this.statements, settlements, changes),
      claimed: asksForWork(request)
        ? claimTasks(this.statements, this.controls, request, changes)
        : [],
    }));
  }

  async release(leases: readonly Lease[]): Promise<void> {
    if (leases.length === 0) return;
    this.write("release", (changes) => releaseTasks(this.statements, leases, changes));
  }

  async cancel(id: string, reason: string): Promise<CancelOutcome> {
    return this.write("cancel", (changes) => cancelTask(this.statements, id, reason, changes));
  }

  async unblock(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    return this.write("unblock", (changes) => this.unblocker.unblock(ids, changes));
  }

  async requeue(id: string): Promise<RequeueOutcome> {
    return this.write("requeue", (changes) => this.deadLetters.requeue(id, changes));
  }

  async purge(filter: PurgeFilter): Promise<number> {
    this.assertOpen("purge");
    return this.deadLetters.purge(filter, (deleteChunk) => this.write("purge", deleteChunk));
  }

  async setQueueControl(queue: string, control: QueueControl | null): Promise<void> {
    this.write("setQueueControl", (changes) => {
      this.controls.set(queue, control);
      changes.readyQueues.add(queue);
    });
  }

  async queueControls(): Promise<Record<string, QueueControl>> {
    return this.read("queueControls", () => this.controls.list());
  }

  async putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null> {
    return this.write("putSchedule", (changes) =>
      this.schedules.put(id, data, expectedVersion, event, changes),
    );
  }

  async getSchedule(id: string): Promise<StoredSchedule | null> {
    return this.read("getSchedule", () => this.schedules.get(id));
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    return this.read("listSchedules", () => this.schedules.list());
  }

  async deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean> {
    return this.write("deleteSchedule", (changes) => this.schedules.delete(id, event, changes));
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    const row = this.read("getTask", () => this.statements.getTask.get(id));
    return row === undefined ? null : toTaskRecord(row);
  }

  getOutcome(id: string): Promise<TaskOutcome | null> {
    if (this.closed) return Promise.reject(this.closedError("getOutcome"));
    return this.outcomes.get(id);
  }

  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    return this.read("listTasks", () => this.inspector.listTasks(filter));
  }

  async countTasks(): Promise<TaskCounts> {
    return this.read("countTasks", () => this.inspector.countTasks());
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.read("taskEvents", () => this.inspector.taskEvents(taskId));
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    const rows = this.read("eventsSince", () => this.statements.eventsSince.all(afterSeq, limit));
    return rows.map(toTaskEvent);
  }

  async lastEventSeq(): Promise<number> {
    return this.read("lastEventSeq", () => this.statements.lastEventSeq.get()?.seq ?? 0);
  }

  async maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    return runMaintenance(this.statements, options, {
      write: (body) => this.write("maintain", body),
      read: (body) => this.read("maintain", body),
      now: () => this.settings.clock.now(),
    });
  }

  /**
   * Signals of changes made through any handle of this process on the same
   * file, and, unless opened with `watch: false`, of other processes' too.
   * Listeners are called synchronously right after the change commits; they
   * should only schedule work. An error a listener throws is dropped.
   */
  subscribe(listener: (signal: StorageSignal) => void): () => void {
    this.assertOpen("subscribe");
    const stop = this.channel.listen(listener, this.settings.watch);
    this.unsubscribers.add(stop);
    return () => {
      stop();
      this.unsubscribers.delete(stop);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Outcomes asked for before closing are read while the connection is open.
    this.outcomes.flush();
    this.closed = true;

    for (const stop of this.unsubscribers) stop();
    this.unsubscribers.clear();
    leaveChannel(this.channel);
    this.db.close();
  }

  /** Runs `body` in a write transaction, then signals what it changed. */
  private write<T>(operation: string, body: (changes: Changes) => T): T {
    this.assertOpen(operation);

    let outcome: [unknown, Changes];
    try {
      outcome = this.writeTransaction(body);
    } catch (cause) {
      throw this.failure(operation, cause);
    }

    this.channel.publish(outcome[1]);
    return outcome[0] as T;
  }

  private read<T>(operation: string, body: () => T): T {
    this.assertOpen(operation);
    try {
      return body();
    } catch (cause) {
      throw this.failure(operation, cause);
    }
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw this.closedError(operation);
  }

  private closedError(operation: string): StorageError {
    return new StorageError(`${operation}: the SQLite storage at ${this.path} is closed`);
  }

  private failure(operation: string, cause: unknown): Error {
    if (cause instanceof OmniQError) return cause;

    const message = cause instanceof Error ? cause.message : String(cause);
    return new StorageError(`${operation} failed on the SQLite database ${this.path}: ${message}`, {
      cause,
    });
  }
}

/** False for a claim that can take nothing, which then needs no transaction. */
function asksForWork(request: ClaimRequest): boolean {
  return request.limit > 0 && request.queues.length > 0 && request.workers.length > 0;
}
