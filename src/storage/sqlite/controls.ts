import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import type { QueueControl, RateLimit } from "../contract.js";

/** A row of omniq_queue_controls. */
interface ControlRow {
  queue: string;
  paused: number;
  concurrency: number | null;
  rate_max: number | null;
  rate_interval_ms: number | null;
}

type ControlParams = [
  queue: string,
  paused: number,
  concurrency: number | null,
  rateMax: number | null,
  rateIntervalMs: number | null,
];

/** A queue's rate window as stored: where it starts and the claims counted in it. */
type WindowTuple = [start: number, claims: number];

/**
 * The queues' flow controls, kept in the file so that they hold over every
 * handle and process, and honoured by claims inside their write transaction.
 *
 * Each handle keeps a copy of all controls, tagged with the version of
 * omniq_control_version it was read at; every change of controls raises
 * that version in the same transaction. A claim reads only that one row
 * (a rowid lookup) and uses its copy while the version is unchanged: with
 * no controls anywhere, that read is all that claims pay for them. The
 * counts a limit needs (running tasks, claims in the rate window) are read
 * fresh, and only for a queue that has the limit.
 */
export class QueueControls {
  private readonly version: Statement<[], number>;
  private readonly all: Statement<[], ControlRow>;
  private readonly upsert: Statement<ControlParams>;
  private readonly remove: Statement<[queue: string]>;
  private readonly raiseVersion: Statement<[]>;
  private readonly running: Statement<[queue: string], number>;
  private readonly window: Statement<[queue: string], WindowTuple>;
  private readonly countClaims: Statement<[start: number, claims: number, queue: string]>;

  private cachedVersion = -1;
  private cached: ReadonlyMap<string, QueueControl> = new Map();

  constructor(db: Database.Database) {
    this.version = db
      .prepare<[], number>("SELECT version FROM omniq_control_version WHERE id = 1")
      .pluck();
    this.all = db.prepare(
      `SELECT queue, paused, concurrency, rate_max, rate_interval_ms
       FROM omniq_queue_controls ORDER BY queue`,
    );
    this.upsert = db.prepare(
      `INSERT OR REPLACE INTO omniq_queue_controls
         (queue, paused, concurrency, rate_max, rate_interval_ms)
       VALUES (?, ?, ?, ?, ?)`,
    );
    this.remove = db.prepare("DELETE FROM omniq_queue_controls WHERE queue = ?");
    this.raiseVersion = db.prepare(
      "UPDATE omniq_control_version SET version = version + 1 WHERE id = 1",
    );
    // Over the lease index, which holds running tasks only (see schema.ts).
    this.running = db
      .prepare<[string], number>(
        "SELECT COUNT(*) FROM omniq_tasks WHERE queue = ? AND state = 'running'",
      )
      .pluck();
    this.window = db
      .prepare<[string], WindowTuple>(
        "SELECT start, claims FROM omniq_rate_windows WHERE queue = ?",
      )
      .raw();
    this.countClaims = db.prepare(
      "INSERT OR REPLACE INTO omniq_rate_windows (start, claims, queue) VALUES (?, ?, ?)",
    );
  }

  /**
   * The controls in force, or null when no queue has any (the usual case).
   * Call inside the claim's write transaction, so the answer holds until it commits.
   */
  inForce(): ReadonlyMap<string, QueueControl> | null {
    const version = this.version.get() ?? 0;
    if (version !== this.cachedVersion) {
      this.cached = new Map(this.all.all().map((row) => [row.queue, toControl(row)]));
      this.cachedVersion = version;
    }
    return this.cached.size === 0 ? null : this.cached;
  }

  /** How many of `wanted` tasks `control` lets a claim take from `queue` at `now`. */
  room(queue: string, control: QueueControl, wanted: number, now: number): number {
    if (control.paused) return 0;

    let room = wanted;
    if (control.concurrency !== null) {
      room = Math.min(room, control.concurrency - (this.running.get(queue) ?? 0));
    }
    const rateLimit = control.rateLimit;
    if (rateLimit !== null) {
      room = Math.min(room, rateLimit.max - this.claimsInWindow(queue, rateLimit, now));
    }
    return room;
  }

  /** Counts `count` claims from `queue` in the rate window of `now`. */
  noteClaims(queue: string, rateLimit: RateLimit, count: number, now: number): void {
    if (count === 0) return;
    const start = windowStart(rateLimit, now);
    this.countClaims.run(start, this.claimsInWindow(queue, rateLimit, now) + count, queue);
  }

  /** Stores the queue's controls (null or the defaults remove them); inside a write transaction. */
  set(queue: string, control: QueueControl | null): void {
    if (control === null || isDefault(control)) {
      this.remove.run(queue);
    } else {
      const { paused, concurrency, rateLimit } = control;
      this.upsert.run(
        queue,
        paused ? 1 : 0,
        concurrency,
        rateLimit?.max ?? null,
        rateLimit?.intervalMs ?? null,
      );
    }
    this.raiseVersion.run();
  }

  /** Every stored control, by queue. */
  list(): Record<string, QueueControl> {
    const controls: Record<string, QueueControl> = {};
    for (const row of this.all.all()) controls[row.queue] = toControl(row);
    return controls;
  }

  private claimsInWindow(queue: string, rateLimit: RateLimit, now: number): number {
    const [start, claims] = this.window.get(queue) ?? [0, 0];
    return start === windowStart(rateLimit, now) ? claims : 0;
  }
}

/** Windows start at multiples of the interval since the epoch. */
function windowStart(rateLimit: RateLimit, now: number): number {
  return now - (now % rateLimit.intervalMs);
}

function isDefault(control: QueueControl): boolean {
  return !control.paused && control.concurrency === null && control.rateLimit === null;
}

function toControl(row: ControlRow): QueueControl {
  return {
    paused: row.paused !== 0,
    concurrency: row.concurrency,
    rateLimit:
      row.rate_max === null || row.rate_interval_ms === null
        ? null
        : { max: row.rate_max, intervalMs: row.rate_interval_ms },
  };
}
