import type Database from "better-sqlite3";
import { StorageError } from "../../errors.js";

/*
 * The layout of an omniq SQLite file.
 *
 * omniq_tasks keeps one row per task, its result included: completing a task
 * is then a single UPDATE, `getOutcome` a single lookup, and deleting a
 * finished task after its result time-to-live removes the result with it.
 * A separate results table would cost an extra INSERT and DELETE per task on
 * the hot path and buy nothing, since a result never outlives its task row.
 *
 * Two columns exist only for the queries, never shown to callers:
 * - `lane` is NULL for a task that is not waiting, 0 for one waiting for its
 *   run-at time and 1 for one that may be due. Claims read only lane 1 (a
 *   partial index in claim order), so thousands of tasks scheduled for later
 *   are never walked by a claim; a cheap step at each claim moves lane-0 rows
 *   whose time has come to lane 1 (see claim.ts).
 * - `purge_at` is `finished_at + result_ttl_ms` for a finished task, so
 *   housekeeping finds what to delete through an index.
 *
 * Events use AUTOINCREMENT so that `seq` never goes back, even after the
 * newest events were deleted: followers of `eventsSince` rely on it. They
 * are indexed by the task's integer `seq` rather than its text id: task ids
 * are usually random UUIDs, and a text index would take each event to a
 * random page, making every commit write many more pages (measured: less
 * than half the claim and settle rate). There is no index on `at`: events
 * are deleted from the head of the log, which is in time order (see
 * maintenance.ts).
 *
 * Version 2 adds:
 * - `idempotency_key` and `dependencies` (as JSON), as given.
 * - omniq_task_keys, each key with the seq of the task that last took it.
 *   The key is held while that task has the key and is not final, which
 *   enqueue checks with one lookup inside its write transaction. Not a
 *   partial unique index on the tasks: every claim and settle changes a
 *   task's state, and SQLite then weighs each index whose condition reads
 *   the state for the old row and the new (measured: 4% of the claim and
 *   settle cost for such an index, key or none). A key's row goes with its
 *   task's (the trigger), or is taken over by the next task with the key.
 * - `blocked`, 1 while a task is blocked (its state `blocked`, lane NULL,
 *   so neither claims nor expiry see it), else NULL, with a partial index
 *   of those tasks alone: dependency resolvers list them every second
 *   without a scan of the table, and the hot paths, which never touch the
 *   column, have nothing more to write or weigh.
 * - omniq_queue_controls, one row per queue with controls;
 *   omniq_control_version, one row raised by every change of controls,
 *   which is all a claim reads of them while its handle's copy is current
 *   (see controls.ts); omniq_rate_windows, the current window of each
 *   rate-limited queue and the claims counted in it, apart from the
 *   controls so that a change of them keeps the count. A concurrency limit
 *   counts the queue's running tasks over the lease index, which holds
 *   running tasks only; keyed by queue it would count faster, but cost
 *   every claim and settle a wider key (measured: 2%).
 * - omniq_schedules, the scheduler's records under a version.
 */

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE omniq_tasks (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    priority         INTEGER NOT NULL,
    payload          TEXT    NOT NULL,
    run_at           INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL,
    timeout_ms       INTEGER,
    expires_at       INTEGER,
    result_ttl_ms    INTEGER NOT NULL,
    backoff          TEXT,
    worker           TEXT    NOT NULL,
    module           TEXT,
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_losses     INTEGER NOT NULL DEFAULT 0,
    token            INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    started_at       INTEGER,
    finished_at      INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    result           TEXT,
    lane             INTEGER,
    purge_at         INTEGER
  );

  CREATE INDEX omniq_tasks_ready ON omniq_tasks (queue, worker, priority DESC, run_at, seq)
    WHERE lane = 1;
  CREATE INDEX omniq_tasks_timer ON omniq_tasks (run_at) WHERE lane = 0;
  CREATE INDEX omniq_tasks_expiry ON omniq_tasks (expires_at)
    WHERE lane IS NOT NULL AND expires_at IS NOT NULL;
  CREATE INDEX omniq_tasks_lease ON omniq_tasks (lease_expires_at) WHERE state = 'running';
  CREATE INDEX omniq_tasks_purge ON omniq_tasks (purge_at) WHERE purge_at IS NOT NULL;

  CREATE TABLE omniq_events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    task_seq INTEGER NOT NULL,
    task_id  TEXT    NOT NULL,
    type    TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    queue   TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    attempt INTEGER NOT NULL,
    error   TEXT,
    run_at  INTEGER
  );

  CREATE INDEX omniq_events_task ON omniq_events (task_seq);
  `,
  // 2: idempotency keys, dependencies, queue controls and schedules.
  `
  ALTER TABLE omniq_tasks ADD COLUMN idempotency_key TEXT;
  ALTER TABLE omniq_tasks ADD COLUMN dependencies TEXT;
  ALTER TABLE omniq_tasks ADD COLUMN blocked INTEGER;

  CREATE INDEX omniq_tasks_blocked ON omniq_tasks (seq) WHERE blocked IS NOT NULL;

  CREATE TABLE omniq_task_keys (
    key      TEXT    PRIMARY KEY,
    task_seq INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TRIGGER omniq_tasks_drop_key AFTER DELETE ON omniq_tasks
    WHEN old.idempotency_key IS NOT NULL
    BEGIN
      DELETE FROM omniq_task_keys WHERE key = old.idempotency_key AND task_seq = old.seq;
    END;

  CREATE TABLE omniq_queue_controls (
    queue            TEXT    PRIMARY KEY,
    paused           INTEGER NOT NULL,
    concurrency      INTEGER,
    rate_max         INTEGER,
    rate_interval_ms INTEGER
  ) WITHOUT ROWID;

  CREATE TABLE omniq_rate_windows (
    queue  TEXT    PRIMARY KEY,
    start  INTEGER NOT NULL,
    claims INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE omniq_control_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
  );
  INSERT INTO omniq_control_version (id, version) VALUES (1, 0);

  CREATE TABLE omniq_schedules (
    id      TEXT    PRIMARY KEY,
    version INTEGER NOT NULL,
    data    TEXT    NOT NULL
  ) WITHOUT ROWID;
  `,
];

/** The schema version this code reads and writes (`PRAGMA user_version`). */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Sets the connection's pragmas. WAL lets readers run beside the one writer;
 * `synchronous = NORMAL` is safe in WAL mode (a power cut may lose the last
 * commits, never corrupt the file) and much faster than FULL. The size limit
 * lets the WAL shrink back after a burst instead of keeping its peak size.
 */
export function configureConnection(db: Database.Database, busyTimeoutMs = 5_000): void {
  switchToWal(db, busyTimeoutMs);
  db.pragma("synchronous = NORMAL");
  db.pragma("journal_size_limit = 67108864");
  db.pragma("temp_store = MEMORY");
}

/**
 * Turns on WAL mode. On a new file that several processes open at once, the
 * switch can answer SQLITE_BUSY at once, without waiting out the busy
 * timeout as other statements do; so it is tried again until that timeout.
 */
function switchToWal(db: Database.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
    try {
      db.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      const busy = (error as { code?: string }).code === "SQLITE_BUSY";
      if (!busy || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    }
  }
}

function readVersion(db: Database.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Brings the file's schema up to `SCHEMA_VERSION` (or `target`, which only
 * tests give, to make a file as an older omniq left it).
 *
 * The version is read again inside `BEGIN IMMEDIATE`, which takes the write
 * lock first: of two processes opening a new file at once, the second waits
 * (busy timeout), then sees the first one's version and applies nothing.
 */
export function migrate(db: Database.Database, target = SCHEMA_VERSION): void {
  if (readVersion(db) === target) return;

  const upgrade = db.transaction(() => {
    const current = readVersion(db);
    if (current > SCHEMA_VERSION) {
      throw new StorageError(
        `the database has schema version ${current}, newer than the ${SCHEMA_VERSION} this omniq knows; upgrade omniq`,
      );
    }

    for (let version = current; version < target; version++) {
      db.exec(MIGRATIONS[version] as string);
    }
    db.pragma(`user_version = ${Math.max(current, target)}`);
  });
  upgrade.immediate();
}
