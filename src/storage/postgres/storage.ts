import type pg from "pg";
import { OmniQError, StorageError } from "../../errors.js";
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
import type { Handovers } from "../shared/handovers.js";
import { OutcomeBatcher } from "../shared/outcome-batcher.js";
import { Claimer } from "./claimer.js";
import { readControls, writeControl } from "./controls.js";
import { type Db, type Query, type Statement, toStorageError } from "./db.js";
import { purge, requeue, unblock } from "./dead-letters.js";
import { onClient, type RunStatement, runEnqueue } from "./enqueue.js";
import { heartbeat, settle } from "./leases.js";
import type { Listener } from "./listener.js";
import { maintain } from "./maintenance.js";
import type { SqlNames } from "./names.js";
import type { Offers } from "./offers.js";
import {
  type EventRow,
  errorText,
  ms,
  parseError,
  type TaskRow,
  toEvent,
  toRecord,
} from "./rows.js";
import * as schedules from "./schedules.js";
import { offerParams } from "./sql/claim.js";
import { type CountRow, listTasksParams, listTasksSql } from "./sql/list.js";
import type { OutcomeRow } from "./sql/lookup.js";
import type { Statements } from "./statements.js";

/** The parts a `PostgresStorage` is made of; see `openPostgresStorage`. */
export interface PostgresParts {
  db: Db;
  names: SqlNames;
  statements: Statements;
  clock: Clock;
  /** Null when the store was opened with `listen: false`. */
  listener: Listener | null;
  /** Where the listener's signals go; the storage fans them out to subscribers. */
  subscribers: Set<(signal: StorageSignal) => void>;
  /** Tasks handed to this handle's waiting claims, kept for their owners' next claims. */
  handovers: Handovers;
  /** This handle's offers; null without a listener, which their handovers would need. */
  offers: Offers | null;
}

/**
 * The PostgreSQL backend: waiting and running tasks in `tasks`, finished ones
 * in `finished`, events in `events`, all in one schema; claims with
 * `FOR UPDATE SKIP LOCKED`, signals with LISTEN/NOTIFY. Every operation is
 * one statement (one round trip) except `maintain`, which runs four, a
 * `cancel` that finds nothing, which looks a second time, and a claim on a
 * queue with controls, a transaction of two (see claimer.ts).
 */
export class PostgresStorage implements Storage {
  private closing: Promise<void> | null = null;
  private readonly outcomes = new OutcomeBatcher((ids) => this.getOutcomes(ids));
  private readonly claimer: Claimer;
  private readonly query: Query = (what, statement, values) => this.rows(what, statement, values);

  constructor(private readonly parts: PostgresParts) {
    this.claimer = new Claimer(parts.db, parts.statements);
    const { listener } = parts;
    if (listener) this.signalEpoch = () => listener.epoch;
  }

  /** One task may go straight to a waiting claim (see sql/handover.ts); a batch waits to be claimed. */
  enqueue(tasks: readonly NewTask[]): Promise<string[]> {
    const run: RunStatement = (statement, values) => this.rows("enqueue", statement, values);
    const { statements } = this.parts;
    return runEnqueue(
      run,
      tasks.length === 1 ? statements.enqueueOne : statements,
      tasks,
      this.now(),
    );
  }

  /**
   * Like `enqueue`, but on the application's own connection and inside the
   * transaction it has open there: the tasks exist only if it commits, and
   * workers hear of them at its commit. See `enqueueWithin` for details.
   */
  async enqueueWithin(client: pg.ClientBase, tasks: readonly NewTask[]): Promise<string[]> {
    this.checkOpen();
    try {
      return await runEnqueue(
        onClient(client),
        this.parts.statements.enqueueUnnamed,
        tasks,
        this.now(),
      );
    } catch (error) {
      throw error instanceof OmniQError
        ? error
        : toStorageError("enqueue", error, this.parts.db.target);
    }
  }

  /**
   * Tasks an enqueue already handed to this owner come first, without a
   * round trip; otherwise the claim statement runs, and leaves an offer
   * when it finds nothing (unless the owner's last claim took tasks: see
   * sql/claim.ts). Handovers that came during its round trip are older
   * than what it claimed, and go first.
   */
  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    if (request.limit <= 0 || request.queues.length === 0 || request.workers.length === 0) {
      return [];
    }
    this.checkOpen();
    const { handovers, offers } = this.parts;
    const { owner, limit } = request;
    const handed = handovers.take(owner, limit);
    if (handed.length > 0) return handed;

    let now = this.now();
    if (!offers?.wanted(owner)) {
      const answer = await this.claimer.claim(request, now, null);
      const claimed = offers?.claimed(owner, answer, 0, []) ?? answer.tasks;
      // A worker that just ran dry claims again at once, leaving an offer:
      // it may wait a whole poll before it claims next.
      if (claimed.length > 0 || !offers) return this.behindHanded(owner, limit, claimed);
      now = this.now();
    }
    const until = offers.untilFor(owner, now);
    const heard = offers.heard(owner);
    const params = offerParams(offers.origin, ms(request.leaseMs), until, heard);
    const answer = await this.claimer.claim(request, now, params);
    return this.behindHanded(owner, limit, offers.claimed(owner, answer, until, heard));
  }

  /** Up to `limit` tasks: those handed to `owner` meanwhile, which are older, then `claimed`. */
  private behindHanded(owner: string, limit: number, claimed: ClaimedTask[]): ClaimedTask[] {
    const { handovers } = this.parts;
    if (!handovers.has(owner)) return claimed;
    handovers.keep(owner, claimed);
    return handovers.take(owner, limit);
  }

  heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply> {
    if (leases.length === 0) return Promise.resolve({ lost: [], cancelRequested: [] });
    return heartbeat(this.query, this.parts.statements, this.now() + ms(leaseMs), leases);
  }

  settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    return settle(this.query, this.parts.statements, this.now(), settlements);
  }

  async release(leases: readonly Lease[]): Promise<void> {
    this.checkOpen();
    await this.releaseLeases(leases);
  }

  async cancel(id: string, reason: string): Promise<CancelOutcome> {
    const error = errorText({ name: "TaskCancelledError", message: reason });
    const [row] = await this.rows<{ outcome: CancelOutcome }>(
      "cancel",
      this.parts.statements.cancel,
      [this.now(), id, error],
    );
    const outcome = row?.outcome ?? "unknown";
    if (outcome !== "unknown") return outcome;

    const [again] = await this.rows<{ finished: boolean }>(
      "cancel",
      this.parts.statements.isFinished,
      [id],
    );
    return again?.finished ? "finished" : "unknown";
  }

  unblock(ids: readonly string[]): Promise<string[]> {
    return unblock(this.query, this.parts.statements, this.now(), ids);
  }

  requeue(id: string): Promise<RequeueOutcome> {
    return requeue(this.query, this.parts.statements, this.now(), id);
  }

  purge(filter: PurgeFilter): Promise<number> {
    return purge(this.query, this.parts.statements, filter);
  }

  async setQueueControl(queue: string, control: QueueControl | null): Promise<void> {
    const present = await writeControl(this.query, this.parts.statements, queue, control);
    this.claimer.noteControl(queue, present);
  }

  queueControls(): Promise<Record<string, QueueControl>> {
    return readControls(this.query, this.parts.statements);
  }

  putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null> {
    const write = { id, data, expectedVersion, ...(event ? { event } : {}) };
    return schedules.putSchedule(this.query, this.parts.statements, this.now(), write);
  }

  getSchedule(id: string): Promise<StoredSchedule | null> {
    return schedules.getSchedule(this.query, this.parts.statements, id);
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return schedules.listSchedules(this.query, this.parts.statements);
  }

  deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean> {
    return schedules.deleteSchedule(this.query, this.parts.statements, this.now(), id, event);
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    const [row] = await this.rows<TaskRow>("getTask", this.parts.statements.getTask, [id]);
    return row ? toRecord(row) : null;
  }

  /** Calls made in the same turn of the event loop share one statement (see OutcomeBatcher). */
  getOutcome(id: string): Promise<TaskOutcome | null> {
    return this.outcomes.get(id);
  }

  /**
   * The outcomes of many tasks in one round trip, in the order of `ids`
   * (null for an unknown id): for waiters on many results, which would
   * otherwise ask one task at a time. Not part of the `Storage` contract.
   */
  async getOutcomes(ids: readonly string[]): Promise<(TaskOutcome | null)[]> {
    if (ids.length === 0) return [];
    const rows = await this.rows<OutcomeRow & { id: string }>(
      "getOutcomes",
      this.parts.statements.getOutcomes,
      [[...ids]],
    );
    const found = new Map(rows.map((row) => [row.id, toOutcome(row)]));
    return ids.map((id) => found.get(id) ?? null);
  }

  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const text = listTasksSql(this.parts.names, filter);
    const rows = await this.rows<TaskRow>("listTasks", text, listTasksParams(filter));
    return rows.map(toRecord);
  }

  async countTasks(): Promise<TaskCounts> {
    const rows = await this.rows<CountRow>("countTasks", this.parts.statements.countTasks);
    const counts: TaskCounts = {};
    for (const row of rows) {
      const perState = counts[row.queue] ?? {};
      const state = row.state as TaskState;
      perState[state] = (perState[state] ?? 0) + row.count;
      counts[row.queue] = perState;
    }
    return counts;
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    const rows = await this.rows<EventRow>("taskEvents", this.parts.statements.taskEvents, [
      taskId,
    ]);
    return rows.map(toEvent);
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    const rows = await this.rows<EventRow>("eventsSince", this.parts.statements.eventsSince, [
      afterSeq,
      limit,
    ]);
    return rows.map(toEvent);
  }

  async lastEventSeq(): Promise<number> {
    const [row] = await this.rows<{ seq: number }>(
      "lastEventSeq",
      this.parts.statements.lastEventSeq,
    );
    return row?.seq ?? 0;
  }

  maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    return maintain(this.query, this.parts.statements, this.now(), options);
  }

  /**
   * Signals from every process using this store, delivered by LISTEN/NOTIFY
   * at the commit of the change. Changes made through this handle arrive the
   * same way, a fraction of a millisecond after their statement returns.
   */
  subscribe(listener: (signal: StorageSignal) => void): () => void {
    const { subscribers } = this.parts;
    subscribers.add(listener);
    return () => {
      subscribers.delete(listener);
    };
  }

  /**
   * Every final state is notified; a lost listening connection may have
   * missed some. Without a listener there is no number: nothing is heard.
   */
  signalEpoch?(): number;

  /**
   * Withdraws this handle's offers, stops listening, and gives back the
   * tasks handed over that no claim took. A handover whose message was on
   * its way meanwhile returns when its lease ends.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const { db, listener, offers, handovers, statements } = this.parts;
      this.parts.subscribers.clear();
      if (offers) {
        await db.rows("close", statements.withdrawOffers, [offers.origin, 0]).catch(() => {});
        offers.clear();
      }
      await listener?.close();
      await this.releaseLeases(handovers.takeAll()).catch(() => {});
      await db.close();
    })();
    return this.closing;
  }

  private async releaseLeases(leases: readonly Lease[]): Promise<void> {
    if (leases.length === 0) return;
    await this.parts.db.rows("release", this.parts.statements.release, [
      leases.map((l) => l.id),
      leases.map((l) => l.token),
    ]);
  }

  private now(): number {
    return ms(this.parts.clock.now());
  }

  private checkOpen(): void {
    if (this.closing) throw new StorageError("the PostgreSQL storage is closed");
  }

  private async rows<R extends pg.QueryResultRow>(
    what: string,
    statement: Statement | string,
    values: readonly unknown[] = [],
  ): Promise<R[]> {
    this.checkOpen();
    return this.parts.db.rows<R>(what, statement, values);
  }
}

function toOutcome(row: OutcomeRow): TaskOutcome {
  const outcome: TaskOutcome = { state: row.state as TaskState };
  if (row.state === "completed" && row.result !== null) outcome.result = row.result;
  const error = parseError(row.last_error);
  if (error) outcome.error = error;
  return outcome;
}
