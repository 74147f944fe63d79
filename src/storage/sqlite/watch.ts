import { type FSWatcher, watch } from "node:fs";
import Database, { type Statement } from "better-sqlite3";
import type { StorageSignal } from "../contract.js";
import { LIMIT_PARAM } from "./statements.js";

/** How long to gather WAL writes before looking at them once, in ms. */
const GATHER_MS = 2;

/** Events read per look; the rest are read on the next turn of the event loop. */
const ROWS_PER_LOOK = 2_000;

/** Watchers started and not yet stopped in this process; tests check that closing stops them. */
let running = 0;

/** @internal The number of WAL watchers running in this process. */
export function runningWatchers(): number {
  return running;
}

interface SignalEventRow {
  seq: number;
  task_id: string;
  type: string;
  queue: string;
}

/**
 * Turns writes by other processes into signals. Every commit to a SQLite
 * file in WAL mode appends to its `-wal` file, which `fs.watch` sees; the
 * watcher then reads the events stored since it last looked and signals
 * `ready` for queues that got tasks and `finished` for tasks that ended.
 *
 * Events this process wrote are skipped by seq range (see `noteOwn`): their
 * signals went out directly and reading them back would double the work of
 * every write. Running tasks asked to cancel write no event, so that signal
 * does not cross processes; workers still learn it from their heartbeats.
 * Nor do `unblock` and queue controls write events: workers in other
 * processes find what they let run when they next poll.
 *
 * If the file cannot be watched (some network file systems), the watcher
 * stays silent and workers and waiters fall back to polling.
 */
export class WalWatcher {
  private db: Database.Database | null = null;
  private fsWatcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private maxSeq: Statement<[], { seq: number | null }> | null = null;
  private readEvents: Statement<
    [after: number, upTo: number, limit: number],
    SignalEventRow
  > | null = null;
  /** The last event seq looked at. */
  private seenSeq = 0;
  /** Seq ranges this process wrote and the watcher has not passed yet, ascending. */
  private readonly own: Array<{ first: number; last: number }> = [];
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly emit: (signal: StorageSignal) => void,
  ) {}

  start(): void {
    running++;
    try {
      this.db = new Database(this.path, { fileMustExist: true, timeout: 5_000 });
      this.maxSeq = this.db.prepare("SELECT MAX(seq) AS seq FROM omniq_events");
      this.readEvents = this.db.prepare(
        `SELECT seq, task_id, type, queue FROM omniq_events
         WHERE seq > ? AND seq <= ? AND type != 'executing' ORDER BY seq ${LIMIT_PARAM}`,
      );
      this.seenSeq = this.maxSeq.get()?.seq ?? 0;
      this.watchFile();
    } catch {
      this.stop();
    }
  }

  /** Records that this process wrote events `first..last`; called right after each commit. */
  noteOwn(first: number, last: number): void {
    const tail = this.own.at(-1);
    if (tail !== undefined && tail.last + 1 >= first) tail.last = Math.max(tail.last, last);
    else this.own.push({ first, last });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    running--;

    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.fsWatcher?.close();
    this.fsWatcher = null;
    this.maxSeq = null;
    this.readEvents = null;
    this.db?.close();
    this.db = null;
  }

  private watchFile(): void {
    // Not persistent: watching alone must not keep the process alive.
    this.fsWatcher = watch(`${this.path}-wal`, { persistent: false }, (eventType) => {
      // The WAL was removed (every connection closed); watch the new one.
      if (eventType === "rename") this.rewatch();
      this.schedule();
    });
    this.fsWatcher.on("error", () => this.rewatch());
  }

  private rewatch(): void {
    this.fsWatcher?.close();
    this.fsWatcher = null;
    if (this.db === null) return;
    try {
      this.watchFile();
    } catch {
      // The WAL is gone for now; the next write through this process's
      // connections recreates it, but nothing tells us when, so stay quiet.
    }
  }

  private schedule(): void {
    if (this.timer !== null || this.db === null) return;
    this.timer = setTimeout(() => this.look(), GATHER_MS);
    this.timer.unref();
  }

  /** Reads the events of other processes since the last look and signals them. */
  private look(): void {
    this.timer = null;
    if (this.maxSeq === null || this.readEvents === null) return;

    const rows: SignalEventRow[] = [];
    try {
      const maxSeq = this.maxSeq.get()?.seq ?? 0;
      this.readForeign(maxSeq, rows);
      if (this.seenSeq < maxSeq) this.schedule();
    } catch {
      // A busy or closing file: the next WAL write brings another look.
    }

    for (const signal of signalsOf(rows)) this.emit(signal);
  }

  private readForeign(maxSeq: number, rows: SignalEventRow[]): void {
    const readEvents = this.readEvents as NonNullable<typeof this.readEvents>;

    while (this.seenSeq < maxSeq && rows.length < ROWS_PER_LOOK) {
      const own = this.own[0];
      if (own !== undefined && own.first <= this.seenSeq + 1) {
        this.seenSeq = Math.max(this.seenSeq, own.last);
        this.own.shift();
        continue;
      }

      const upTo = own === undefined ? maxSeq : Math.min(own.first - 1, maxSeq);
      const room = ROWS_PER_LOOK - rows.length;
      const found = readEvents.all(this.seenSeq, upTo, room);
      rows.push(...found);
      this.seenSeq = found.length === room ? (found.at(-1)?.seq ?? upTo) : upTo;
    }
  }
}

/** The signals a run of events (in seq order) calls for. */
function signalsOf(rows: readonly SignalEventRow[]): StorageSignal[] {
  const ready = new Set<string>();
  const ended = new Set<string>();

  for (const row of rows) {
    if (row.type === "enqueued") {
      ready.add(row.queue);
    } else if (row.type === "retry" || row.type === "requeued") {
      // An `error` followed by `retry` is not an end; nor is a requeued task's last one.
      ready.add(row.queue);
      ended.delete(row.task_id);
    } else if (!row.type.startsWith("schedule-")) {
      // A schedule's events are about no task.
      ended.add(row.task_id);
    }
  }

  const signals: StorageSignal[] = [...ready].map((queue) => ({ type: "ready", queue }));
  if (ended.size > 0) signals.push({ type: "finished", ids: [...ended] });
  return signals;
}
