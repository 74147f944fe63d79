import { close, fdatasync, openSync } from "node:fs";

/** At most one flush of a WAL starts in this many ms. */
const FLUSH_EVERY_MS = 10;

/**
 * Writes a database file's WAL through to disk in the background (an
 * `fdatasync` on libuv's thread pool), soon after this process's commits.
 *
 * Why: with `synchronous = NORMAL`, a commit only writes the WAL, and the
 * checkpoint that copies it into the database file (every 1,000 pages, run
 * by the committing writer) first fsyncs the whole WAL. Left alone, that
 * fsync writes megabytes and stalls the writer's event loop for several
 * milliseconds each time (measured: a fifth of the end-to-end time of a
 * no-op task on SQLite). Flushed as it goes, the checkpoint's fsync finds
 * little left to write.
 *
 * It only makes commits durable sooner than SQLite promises; it never
 * changes what a commit is, and SQLite takes no locks on the WAL file, so
 * this file handle of its own disturbs nothing.
 */
export class WalFlusher {
  /** undefined until first needed; null when the WAL cannot be opened. */
  private fd: number | null | undefined;
  private flushing = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(private readonly walPath: string) {}

  /** Called after a commit: starts a flush unless one runs or one started just now. */
  wrote(): void {
    if (this.closed || this.flushing) return;
    const now = performance.now();
    if (now - this.lastStart < FLUSH_EVERY_MS) return;

    const fd = this.open();
    if (fd === null) return;
    this.flushing = true;
    this.lastStart = now;
    fdatasync(fd, () => this.flushed(fd));
  }

  /** Stops flushing; the file handle is closed once a flush under way is over. */
  close(): void {
    this.closed = true;
    if (!this.flushing) this.release();
  }

  private flushed(fd: number): void {
    this.flushing = false;
    // A failed flush needs nothing done: the checkpoint's own fsync still runs.
    if (this.closed && this.fd === fd) this.release();
  }

  private open(): number | null {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.walPath, "r");
      } catch {
        this.fd = null;
      }
    }
    return this.fd;
  }

  private release(): void {
    const fd = this.fd;
    this.fd = null;
    if (typeof fd === "number") close(fd, () => {});
  }
}
