import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { FINAL_STATES } from "../../task/state.js";
import { CANDIDATE_COLUMNS, type CandidateTuple } from "./candidates.js";
import type { OutcomeTuple } from "./outcomes.js";
import { type EventRow, TASK_COLUMNS, type TaskInsertParams, type TaskTuple } from "./rows.js";

/** The task an event is about: what an UPDATE that moves a task returns. */
export interface EventSubject {
  seq: number;
  id: string;
  queue: string;
  name: string;
  attempts: number;
}

/** A held task (raw mode): what settling it needs to know. */
export type HeldTuple = [
  seq: number,
  queue: string,
  name: string,
  attempts: number,
  cancelRequested: number,
];

export interface ExpiredLeaseRow extends EventSubject {
  lease_losses: number;
  cancel_requested: number;
}

export type EventInsertParams = [
  taskSeq: number,
  taskId: string,
  type: string,
  at: number,
  queue: string,
  name: string,
  attempt: number,
  error: string | null,
  runAt: number | null,
];

const SUBJECT = "seq, id, queue, name, attempts";

/**
 * A row limit bound as a parameter. Not a bare `LIMIT ?`: SQLite reads the
 * value of a bare one while planning, and so prepares the statement again
 * each time a value is bound, which better-sqlite3 does at every call
 * (measured: the claim's SELECT cost 13 µs a call in parsing alone). An
 * expression keeps the plan independent of the value.
 */
export const LIMIT_PARAM = "LIMIT ? + 0";
const LEASE_CLEARED = "lease_owner = NULL, lease_expires_at = NULL";

/**
 * Every fixed statement of the backend, prepared once per connection: the
 * hot paths (enqueue, claim, settle) then only bind and step.
 */
export class Statements {
  readonly insertTask: Statement<TaskInsertParams>;
  /** The id of the task that holds an idempotency key, if any does. */
  readonly keyHolder: Statement<[key: string], string>;
  /** Makes a newly stored task the one that took its key. */
  readonly takeKey: Statement<[key: string, taskSeq: number]>;
  readonly insertEvent: Statement<EventInsertParams>;

  /** Moves tasks whose run-at time has come into the claim index (lane 1). */
  readonly promoteDue: Statement<[now: number]>;
  readonly candidates: Statement<
    [queue: string, worker: string, now: number, now: number, limit: number],
    CandidateTuple
  >;
  /** Leases the tasks whose seqs a JSON array lists. */
  readonly claimMany: Statement<[owner: string, leaseExpiresAt: number, now: number, seqs: string]>;
  /**
   * One event of `type` for each task whose seq a JSON array lists, in the
   * array's order, at the task's current attempt.
   */
  readonly insertEvents: Statement<[type: string, at: number, seqs: string]>;

  /** The task `id` if it runs under `token`: the check before any write of a lease holder. */
  readonly held: Statement<[id: string, token: number], HeldTuple>;
  readonly renew: Statement<[leaseExpiresAt: number, seq: number]>;
  readonly finish: Statement<
    [
      state: string,
      now: number,
      now: number,
      result: string | null,
      error: string | null,
      seq: number,
    ]
  >;
  /**
   * Completes each held task of a JSON array of `[id, token, result]`, the
   * fencing check inside the statement; returns the seqs of those it did.
   */
  readonly completeMany: Statement<{ now: number; batch: string }, number>;
  /** The ids of the tasks whose seqs a JSON array lists. */
  readonly idsOf: Statement<[seqs: string], string>;
  readonly retry: Statement<[runAt: number, lane: number, error: string, seq: number]>;
  readonly release: Statement<[seq: number]>;

  readonly lookup: Statement<[id: string], EventSubject & { state: string }>;
  readonly cancelWaiting: Statement<[now: number, now: number, error: string, seq: number]>;
  readonly requestCancel: Statement<[seq: number]>;

  readonly getTask: Statement<[id: string], TaskTuple>;
  /** The outcomes of the tasks a JSON array of ids lists; unknown ids give no row. */
  readonly outcomes: Statement<[ids: string], OutcomeTuple>;
  readonly countTasks: Statement<[], { queue: string; state: string; n: number }>;
  readonly taskSeq: Statement<[id: string], { seq: number }>;
  readonly taskEvents: Statement<[taskSeq: number, taskId: string], EventRow>;
  readonly purgedTaskEvents: Statement<[taskId: string], EventRow>;
  readonly eventsSince: Statement<[afterSeq: number, limit: number], EventRow>;
  readonly lastEventSeq: Statement<[], { seq: number }>;

  readonly expiredLeases: Statement<[now: number], ExpiredLeaseRow>;
  readonly requeueLost: Statement<[seq: number]>;
  readonly finishLost: Statement<
    [state: string, now: number, now: number, error: string, seq: number]
  >;
  readonly expireWaiting: Statement<[now: number, now: number, now: number], EventSubject>;
  readonly purgeTasks: Statement<[now: number, limit: number]>;
  readonly firstLiveEvent: Statement<[cutoff: number], { seq: number }>;
  readonly purgeEvents: Statement<[beforeSeq: number, limit: number]>;

  constructor(db: Database.Database) {
    this.insertTask = db.prepare(
      `INSERT INTO omniq_tasks (id, name, queue, priority, payload, run_at, created_at,
         max_attempts, timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state, lane,
         idempotency_key, dependencies, blocked)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The task that last took the key holds it while it has it (requeue
    // clears it) and has not ended.
    this.keyHolder = db
      .prepare<[string], string>(
        `SELECT t.id FROM omniq_task_keys AS k JOIN omniq_tasks AS t ON t.seq = k.task_seq
         WHERE k.key = ? AND t.idempotency_key = k.key
           AND t.state NOT IN (${FINAL_STATES.map((state) => `'${state}'`).join(", ")})`,
      )
      .pluck();
    this.takeKey = db.prepare(
      "INSERT OR REPLACE INTO omniq_task_keys (key, task_seq) VALUES (?, ?)",
    );
    this.insertEvent = db.prepare(
      `INSERT INTO omniq_events (task_seq, task_id, type, at, queue, name, attempt, error, run_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );

    this.promoteDue = db.prepare("UPDATE omniq_tasks SET lane = 1 WHERE lane = 0 AND run_at <= ?");
    // The order of the ready index, so the scan stops after `limit` rows.
    this.candidates = db
      .prepare<[string, string, number, number, number], CandidateTuple>(
        `SELECT ${CANDIDATE_COLUMNS} FROM omniq_tasks
         WHERE lane = 1 AND queue = ? AND worker = ? AND run_at <= ?
           AND (expires_at IS NULL OR expires_at > ?)
         ORDER BY priority DESC, run_at, seq ${LIMIT_PARAM}`,
      )
      .raw();
    // Batches pass their seqs as one JSON array: a statement per batch
    // instead of one per task, which is most of the cost of a small write.
    this.claimMany = db.prepare(
      `UPDATE omniq_tasks SET state = 'running', lane = NULL, attempts = attempts + 1,
         token = token + 1, lease_owner = ?, lease_expires_at = ?, started_at = ?
       WHERE seq IN (SELECT value FROM json_each(?))`,
    );
    // CROSS JOIN keeps json_each as the outer loop, which walks the array in
    // order: the events come out in the array's order without the sort an
    // ORDER BY j.key costs (a temporary b-tree for every statement).
    this.insertEvents = db.prepare(
      `INSERT INTO omniq_events (task_seq, task_id, type, at, queue, name, attempt)
       SELECT t.seq, t.id, ?, ?, t.queue, t.name, t.attempts
       FROM json_each(?) AS j CROSS JOIN omniq_tasks AS t ON t.seq = j.value`,
    );

    // A single lease holder's write reads first, then updates by seq: cheaper
    // than UPDATE .. RETURNING, which builds a result table for every row.
    // Completions come in batches, where one UPDATE for all beats two
    // statements per task (see completeMany).
    this.held = db
      .prepare<[string, number], HeldTuple>(
        `SELECT seq, queue, name, attempts, cancel_requested FROM omniq_tasks
         WHERE id = ? AND token = ? AND state = 'running'`,
      )
      .raw();
    this.renew = db.prepare("UPDATE omniq_tasks SET lease_expires_at = ? WHERE seq = ?");
    // A completed task keeps the error of an earlier failed attempt (null keeps it).
    this.finish = db.prepare(
      `UPDATE omniq_tasks SET state = ?, lane = NULL, finished_at = ?, purge_at = ? + result_ttl_ms,
         result = ?, last_error = COALESCE(?, last_error), ${LEASE_CLEARED}
       WHERE seq = ?`,
    );
    this.completeMany = db
      .prepare<{ now: number; batch: string }, number>(
        `UPDATE omniq_tasks AS t SET state = 'completed', lane = NULL, finished_at = @now,
           purge_at = @now + result_ttl_ms, result = j.value ->> 2, ${LEASE_CLEARED}
         FROM json_each(@batch) AS j
         WHERE t.id = j.value ->> 0 AND t.token = j.value ->> 1 AND t.state = 'running'
         RETURNING seq`,
      )
      .pluck();
    this.idsOf = db
      .prepare<[string], string>(
        "SELECT id FROM omniq_tasks WHERE seq IN (SELECT value FROM json_each(?))",
      )
      .pluck();
    this.retry = db.prepare(
      `UPDATE omniq_tasks SET state = 'retrying', run_at = ?, lane = ?, last_error = ?, ${LEASE_CLEARED}
       WHERE seq = ?`,
    );
    this.release = db.prepare(
      `UPDATE omniq_tasks SET state = 'pending', lane = 1, attempts = attempts - 1, ${LEASE_CLEARED}
       WHERE seq = ?`,
    );

    this.lookup = db.prepare(`SELECT state, ${SUBJECT} FROM omniq_tasks WHERE id = ?`);
    this.cancelWaiting = db.prepare(
      `UPDATE omniq_tasks SET state = 'cancelled', lane = NULL, blocked = NULL, finished_at = ?,
         purge_at = ? + result_ttl_ms, last_error = ?
       WHERE seq = ?`,
    );
    this.requestCancel = db.prepare("UPDATE omniq_tasks SET cancel_requested = 1 WHERE seq = ?");

    this.getTask = db
      .prepare<[string], TaskTuple>(`SELECT ${TASK_COLUMNS} FROM omniq_tasks WHERE id = ?`)
      .raw();
    this.outcomes = db
      .prepare<[string], OutcomeTuple>(
        `SELECT j.key, t.state, t.result, t.last_error
         FROM json_each(?) AS j JOIN omniq_tasks AS t ON t.id = j.value`,
      )
      .raw();
    this.countTasks = db.prepare(
      "SELECT queue, state, COUNT(*) AS n FROM omniq_tasks GROUP BY queue, state",
    );
    this.taskSeq = db.prepare("SELECT seq FROM omniq_tasks WHERE id = ?");
    // task_id too: a task row's seq may be reused once the newest task was deleted.
    this.taskEvents = db.prepare(
      "SELECT * FROM omniq_events WHERE task_seq = ? AND task_id = ? ORDER BY seq",
    );
    this.purgedTaskEvents = db.prepare("SELECT * FROM omniq_events WHERE task_id = ? ORDER BY seq");
    this.eventsSince = db.prepare(
      `SELECT * FROM omniq_events WHERE seq > ? ORDER BY seq ${LIMIT_PARAM}`,
    );
    this.lastEventSeq = db.prepare("SELECT COALESCE(MAX(seq), 0) AS seq FROM omniq_events");

    this.expiredLeases = db.prepare(
      `SELECT ${SUBJECT}, lease_losses, cancel_requested FROM omniq_tasks
       WHERE state = 'running' AND lease_expires_at <= ?`,
    );
    this.requeueLost = db.prepare(
      `UPDATE omniq_tasks SET state = 'pending', lane = 1, lease_losses = lease_losses + 1,
         ${LEASE_CLEARED} WHERE seq = ?`,
    );
    this.finishLost = db.prepare(
      `UPDATE omniq_tasks SET state = ?, lane = NULL, lease_losses = lease_losses + 1,
         finished_at = ?, purge_at = ? + result_ttl_ms, last_error = ?, ${LEASE_CLEARED}
       WHERE seq = ?`,
    );
    this.expireWaiting = db.prepare(
      `UPDATE omniq_tasks SET state = 'expired', lane = NULL, finished_at = ?,
         purge_at = ? + result_ttl_ms
       WHERE lane IS NOT NULL AND expires_at <= ? RETURNING ${SUBJECT}`,
    );
    this.purgeTasks = db.prepare(
      `DELETE FROM omniq_tasks WHERE seq IN
         (SELECT seq FROM omniq_tasks WHERE purge_at <= ? ${LIMIT_PARAM})`,
    );
    // Walks the log from its oldest event: only the expired head is read.
    this.firstLiveEvent = db.prepare(
      "SELECT seq FROM omniq_events WHERE at > ? ORDER BY seq LIMIT 1",
    );
    this.purgeEvents = db.prepare(
      `DELETE FROM omniq_events WHERE seq IN
         (SELECT seq FROM omniq_events WHERE seq < ? ORDER BY seq ${LIMIT_PARAM})`,
    );
  }
}
