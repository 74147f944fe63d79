import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { DuplicateTaskError, OmniQError, StorageError } from "../../errors.js";
import type { TaskEvent } from "../../events/types.js";
import type { ClaimedTask, NewTask, TaskRecord } from "../../task/record.js";
import type { TaskState } from "../../task/state.js";
import type {
  CancelOutcome,
  ClaimRequest,
  Clock,
  HeartbeatReply,
  Lease,
  MaintenanceOptions,
  MaintenanceReport,
  SettledAndClaimed,
  Settlement,
  Storage,
  StorageSignal,
  TaskCounts,
  TaskFilter,
  TaskOutcome,
} from "../contract.js";
import { OutcomeBatcher } from "../shared/outcome-batcher.js";
import { type FileChannel, joinChannel, leaveChannel } from "./bus.js";
import { Changes } from "./changes.js";
import { claimTasks } from "./claim.js";
import { deleteInChunks, expireLeases, expireWaiting, firstLiveEvent } from "./maintenance.js";
import { readOutcomes } from "./outcomes.js";
import { TASK_COLUMNS, type TaskTuple, toInsertParams, toTaskEvent, toTaskRecord } from "./rows.js";
import { cancelTask, releaseTasks, renewLeases, settleTasks } from "./settle.js";
import { LIMIT_PARAM, Statements } from "./statements.js";

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
  private readonly channel: FileChannel;
  /** Runs a body in BEGIN IMMEDIATE: the write lock is taken before the first read. */
  private readonly writeTransaction: (body: Body) => [unknown, Changes];
  private readonly listStatements = new Map<string, Statement<unknown[], TaskTuple>>();
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
    this.channel = joinChannel(path);

    const transaction = db.transaction((body: Body): [unknown, Changes] => {
      // "Now" is read once the lock is held, not before a wait for it.
      const changes = new Changes(this.statements, this.settings.clock.now());
      return [body(changes), changes];
    });
    this.writeTransaction = (body) => transaction.immediate(body);
  }

  async enqueue(tasks: readonly NewTask[]): Promise<void> {
    if (tasks.length === 0) return;

    try {
      this.write("enqueue", (changes) => {
        const insertTask = this.statements.insertTask;
        for (const task of tasks) {
          const seq = Number(insertTask.run(...toInsertParams(task, changes.now)).lastInsertRowid);
          const { id, queue, name } = task;
          changes.event({ seq, id, queue, name, attempts: 0 }, "enqueued");
          changes.readyQueues.add(queue);
        }
      });
    } catch (error) {
      // SQLite names the index, not the id: find the id only on this path,
      // so a batch that goes in pays for no lookup.
      if (error instanceof StorageError && codeOf(error.cause) === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new DuplicateTaskError(this.duplicateIn(tasks));
      }
      throw error;
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    if (!asksForWork(request)) return [];
    return this.write("claim", (changes) => claimTasks(this.statements, request, changes));
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
      claimed: asksForWork(request) ? claimTasks(this.statements, request, changes) : [],
    }));
  }

  async release(leases: readonly Lease[]): Promise<void> {
    if (leases.length === 0) return;
    this.write("release", (changes) => releaseTasks(this.statements, leases, changes));
  }

  async cancel(id: string, reason: string): Promise<CancelOutcome> {
    return this.write("cancel", (changes) => cancelTask(this.statements, id, reason, changes));
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
    // One statement per combination of filters, prepared on first use.
    const where: string[] = [];
    const params: unknown[] = [];
    for (const column of ["queue", "state", "name"] as const) {
      const value = filter[column];
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    params.push(filter.limit ?? 100, filter.offset ?? 0);

    const rows = this.read("listTasks", () => this.listStatement(where).all(...params));
    return rows.map(toTaskRecord);
  }

  async countTasks(): Promise<TaskCounts> {
    const rows = this.read("countTasks", () => this.statements.countTasks.all());
    const counts: TaskCounts = {};
    for (const { queue, state, n } of rows) {
      const perState = counts[queue] ?? {};
      perState[state as TaskState] = n;
      counts[queue] = perState;
    }
    return counts;
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    const rows = this.read("taskEvents", () => {
      const task = this.statements.taskSeq.get(taskId);
      if (task !== undefined) return this.statements.taskEvents.all(task.seq, taskId);

      // The task was deleted after its result time-to-live (or never was):
      // its events, if any, are found by a scan of the log, as there is no
      // index on task ids (see schema.ts). Only inspection comes here.
      return this.statements.purgedTaskEvents.all(taskId);
    });
    return rows.map(toTaskEvent);
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    const rows = this.read("eventsSince", () => this.statements.eventsSince.all(afterSeq, limit));
    return rows.map(toTaskEvent);
  }

  async lastEventSeq(): Promise<number> {
    return this.read("lastEventSeq", () => this.statements.lastEventSeq.get()?.seq ?? 0);
  }

  async maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    const [leasesExpired, tasksExpired] = this.write("maintain", (changes) => [
      expireLeases(this.statements, options, changes),
      expireWaiting(this.statements, changes),
    ]);

    // Deletions go in chunks, each its own transaction (see deleteInChunks).
    const now = this.settings.clock.now();
    const { purgeTasks, purgeEvents } = this.statements;
    const resultsDeleted = deleteInChunks((limit) =>
      this.write("maintain", () => purgeTasks.run(now, limit).changes),
    );

    const liveFrom = this.read("maintain", () =>
      firstLiveEvent(this.statements, now - options.eventTtlMs),
    );
    const eventsDeleted = deleteInChunks((limit) =>
      this.write("maintain", () => purgeEvents.run(liveFrom, limit).changes),
    );
    return { leasesExpired, tasksExpired, resultsDeleted, eventsDeleted };
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

  private listStatement(where: readonly string[]): Statement<unknown[], TaskTuple> {
    const key = where.join(" AND ");
    let statement = this.listStatements.get(key);
    if (statement === undefined) {
      const clause = where.length === 0 ? "" : `WHERE ${key}`;
      statement = this.db
        .prepare<unknown[], TaskTuple>(
          `SELECT ${TASK_COLUMNS} FROM omniq_tasks ${clause} ORDER BY seq ${LIMIT_PARAM} OFFSET ?`,
        )
        .raw();
      this.listStatements.set(key, statement);
    }
    return statement;
  }

  /** The first id of `tasks` given twice or already stored. */
  private duplicateIn(tasks: readonly NewTask[]): string {
    const seen = new Set<string>();
    for (const { id } of tasks) {
      if (seen.has(id)) return id;
      seen.add(id);
    }
    const stored = tasks.find(({ id }) => this.statements.taskSeq.get(id) !== undefined);
    return stored?.id ?? "(unknown)";
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

/** The SQLite error code (such as `SQLITE_BUSY`) of a thrown value, if it has one. */
function codeOf(thrown: unknown): unknown {
  return typeof thrown === "object" && thrown !== null && "code" in thrown ? thrown.code : null;
}
