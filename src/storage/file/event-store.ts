// Events as JSON lines in `event-store/events.log`, in ascending seq.
// Writers hold the folder's lock (TokenLock) while they check the greatest
// seq and append, so two processes copying at once store each event once;
// readers take no lock and skip a last line still being written. Purging
// rewrites the file without the expired lines and renames it into place.
// Reads go through the whole file (from where the last read stopped, for a
// follower), so they slow down with millions of events.
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskEvent } from "../../events/types.js";
import type { EventStore } from "../stores.js";
import { appendAll, isMissing, moveInto } from "./fs-sync.js";
import { draftName, openSideFolder, runInSideFolder } from "./side-folder.js";
import { TokenLock } from "./token-lock.js";

interface Line {
  event: TaskEvent;
  /** Byte offset just past the line. */
  end: number;
}

/** Where the last read stopped, in the file it read. */
interface Mark {
  ino: number;
  seq: number;
  end: number;
}

export class FileEventStore implements EventStore {
  private readonly log: string;
  private readonly lock: TokenLock;
  private mark: Mark | null = null;
  private closed = false;

  constructor(private readonly dir: string) {
    this.log = join(dir, "events.log");
    // A holder killed mid-append leaves a partial last line, which readers skip and the next append
    // ends.
    this.lock = new TokenLock(dir, "lock", () => {});
  }

  async append(events: readonly TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.run("append events", () =>
      this.locked(() => {
        const { seq: last, size } = this.tail();
        let greatest = last;
        const text: string[] = [];
        for (const event of events) {
          if (event.seq <= greatest) continue;
          text.push(`${JSON.stringify(event)}\n`);
          greatest = event.seq;
        }
        if (text.length === 0) return;

        const fd = openSync(this.log, "a+");
        try {
          // A partial line left by a killed writer is ended, so the new lines stand alone.
          if (size > 0 && !this.endsWithNewline(fd, size)) text.unshift("\n");
          appendAll(fd, text.join(""));
        } finally {
          closeSync(fd);
        }
      }),
    );
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    return this.run("read a task's events", () =>
      this.read()
        .lines.map(({ event }) => event)
        .filter((event) => event.taskId === taskId),
    );
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    if (limit <= 0) return [];
    return this.run("read events", () => {
      const { lines, ino } = this.read(this.mark?.seq === afterSeq ? this.mark : null);
      const found = lines.filter(({ event }) => event.seq > afterSeq).slice(0, limit);
      const last = found.at(-1);
      if (last) this.mark = { ino, seq: last.event.seq, end: last.end };
      return found.map(({ event }) => event);
    });
  }

  async lastEventSeq(): Promise<number> {
    return this.run("read the last event seq", () => this.tail().seq);
  }

  async purge(cutoff: number): Promise<number> {
    return this.run("purge events", () =>
      this.locked(() => {
        const { lines } = this.read();
        const kept = lines.filter(({ event }) => event.at > cutoff);
        if (kept.length === lines.length) return 0;

        const draft = draftName(this.dir);
        writeFileSync(draft, kept.map(({ event }) => `${JSON.stringify(event)}\n`).join(""));
        moveInto(draft, this.log);
        return lines.length - kept.length;
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /**
   * The whole lines of the log, from a mark of the same file or from the
   * start; a line without its newline yet is left for the next read.
   */
  private read(from: Mark | null = null): { lines: Line[]; size: number; ino: number } {
    let fd: number;
    try {
      fd = openSync(this.log, "r");
    } catch (error) {
      if (isMissing(error)) return { lines: [], size: 0, ino: 0 };
      throw error;
    }
    try {
      const { size, ino } = fstatSync(fd);
      const start = from && from.ino === ino && from.end <= size ? from.end : 0;
      const bytes = Buffer.alloc(size - start);
      let done = 0;
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, start + done);
        if (n === 0) break;
        done += n;
      }
      return { lines: parseLines(bytes.subarray(0, done), start), size, ino };
    } finally {
      closeSync(fd);
    }
  }

  /** The seq of the last whole line and the file's size, reading only the end of the file. */
  private tail(): { seq: number; size: number } {
    let fd: number;
    try {
      fd = openSync(this.log, "r");
    } catch (error) {
      if (isMissing(error)) return { seq: 0, size: 0 };
      throw error;
    }
    try {
      const { size } = fstatSync(fd);
      for (let chunk = 65_536; ; chunk *= 4) {
        const start = Math.max(0, size - chunk);
        const bytes = Buffer.alloc(size - start);
        readSync(fd, bytes, 0, bytes.length, start);
        const lines = parseLines(start === 0 ? bytes : bytes.subarray(bytes.indexOf(0x0a) + 1), 0);
        const last = lines.at(-1);
        if (last || start === 0) return { seq: last?.event.seq ?? 0, size };
      }
    } finally {
      closeSync(fd);
    }
  }

  private endsWithNewline(fd: number, size: number): boolean {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  }

  private locked<T>(body: () => T): T {
    this.lock.acquire();
    try {
      return body();
    } finally {
      this.lock.release();
    }
  }

  private run<T>(operation: string, body: () => T): T {
    return runInSideFolder(this.dir, "event store", this.closed, operation, body);
  }
}

/**
 * Whole lines of `bytes` (read from byte `offset` of the file), each parsed; a broken line is
 * skipped.
 */
function parseLines(bytes: Buffer, offset: number): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (;;) {
    const newline = bytes.indexOf(0x0a, start);
    if (newline === -1) return lines;
    const text = bytes.toString("utf8", start, newline);
    start = newline + 1;
    try {
      if (text !== "") lines.push({ event: JSON.parse(text) as TaskEvent, end: offset + start });
    } catch {
      // The tail of a line a killed writer left unfinished, ended by the next append.
    }
  }
}

/** Opens the event store in the folder a `file://` URL names. */
export async function openFileEventStore(url: string): Promise<EventStore> {
  return new FileEventStore(openSideFolder(url, "event-store"));
}
