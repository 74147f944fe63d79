// The event log: JSON lines in segment files `events/<first seq>.log`, each
// line one event with its `seq`. Writers take the store lock, read the next
// seq from `meta/counters`, write the new counters and then the lines, so
// seqs are unique, increase in the order events are written, and a reader
// that has seen seq N has seen every line written before it. Readers take no
// lock: they read whole lines and skip a last line still being written.
//
// Old events are deleted by raising a floor (`meta/events.floor`): events
// below it are skipped by readers, and segments wholly below it are removed.
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { TaskEvent } from "../../events/types.js";
import { type Counters, CountersFile } from "./counters.js";
import { appendAll, isMissing, listNames, readText, unlinkQuietly } from "./fs-sync.js";
import type { Layout } from "./layout.js";
import { TokenLock } from "./token-lock.js";

/** An event before the log gives it its seq. */
export type NewEvent = Omit<TaskEvent, "seq">;

/** Events per segment file before the next one starts. */
const SEGMENT_EVENTS = 4_096;

interface Line {
  event: TaskEvent;
  /** The segment's first seq, which names its file. */
  base: number;
  /** Byte offset just past the line. */
  end: number;
}

export class EventLog {
  private readonly lock: TokenLock;
  private readonly counters: CountersFile;
  private segmentFd = -1;
  private segmentBase = -1;
  /** Where the last `since` stopped, so a follower's next call reads on from there. */
  private resume: { seq: number; base: number; end: number } | null = null;

  constructor(private readonly layout: Layout) {
    this.lock = new TokenLock(layout.meta, "lock", () => this.repair());
    this.counters = new CountersFile(join(layout.meta, "counters"));
  }

  /** Stores events in order, giving them the next seqs. */
  append(events: readonly NewEvent[]): void {
    if (events.length === 0) return;

    this.lock.acquire();
    try {
      const counters = this.counters.read();
      const { next } = counters;
      const base = next - counters.base >= SEGMENT_EVENTS ? next : counters.base;
      if (base !== this.segmentBase) this.openSegment(base);

      const text = events.map((event, i) => `${JSON.stringify({ seq: next + i, ...event })}\n`);
      // The counters first: a writer killed between the two leaves a gap in
      // the seqs, never two events with one seq.
      this.counters.write({ ...counters, next: next + events.length, base });
      appendAll(this.segmentFd, text.join(""));
    } finally {
      this.lock.release();
    }
  }

  /** Events with a seq above `afterSeq`, oldest first. */
  since(afterSeq: number, limit: number): TaskEvent[] {
    if (limit <= 0) return [];
    const from = Math.max(afterSeq + 1, this.floor());
    const found: TaskEvent[] = [];
    let last: Line | null = null;

    const start = this.resume?.seq === afterSeq ? this.resume : null;
    for (const line of this.lines(from, start)) {
      if (line.event.seq < from) continue;
      found.push(line.event);
      last = line;
      if (found.length >= limit) break;
    }

    if (last) this.resume = { seq: last.event.seq, base: last.base, end: last.end };
    return found;
  }

  /** One task's events, oldest first. Reads the whole live log: meant for inspection. */
  ofTask(taskId: string): TaskEvent[] {
    const floor = this.floor();
    const needle = `"taskId":${JSON.stringify(taskId)},`;
    const found: TaskEvent[] = [];
    for (const line of this.lines(floor, null, needle)) {
      if (line.event.seq >= floor && line.event.taskId === taskId) found.push(line.event);
    }
    return found;
  }

  /** The newest event's seq, or 0 when the log holds none. */
  lastSeq(): number {
    const { next } = this.underLock((counters) => counters);
    return next - 1 >= this.floor() ? next - 1 : 0;
  }

  /**
   * Raises the enqueue stamp and answers it. Taken under the store lock, a
   * batch that starts after another has ended always gets a greater stamp.
   */
  nextStamp(): number {
    return this.underLock((counters) => {
      this.counters.write({ ...counters, stamp: counters.stamp + 1 });
      return counters.stamp + 1;
    });
  }

  /**
   * Deletes the oldest events for which `expired` holds, up to the first that
   * is still live; answers how many. Events are written in time order, so
   * the expired ones are the front of the log.
   */
  prune(expired: (event: TaskEvent) => boolean): number {
    for (;;) {
      const floor = this.floor();
      let count = 0;
      let next = floor;
      for (const line of this.lines(floor, null)) {
        if (line.event.seq < floor) continue;
        if (!expired(line.event)) break;
        count += 1;
        next = line.event.seq + 1;
      }
      if (count === 0) return 0;

      // Another process may have raised the floor meanwhile: then count again.
      if (this.raiseFloor(floor, next)) {
        this.dropSegmentsBelow(next);
        return count;
      }
    }
  }

  close(): void {
    if (this.segmentFd >= 0) closeSync(this.segmentFd);
    this.segmentFd = -1;
    this.counters.close();
  }

  private underLock<T>(body: (counters: Counters) => T): T {
    this.lock.acquire();
    try {
      return body(this.counters.read());
    } finally {
      this.lock.release();
    }
  }

  private floor(): number {
    const text = readText(join(this.layout.meta, "events.floor"));
    return text === null ? 0 : Number(text) || 0;
  }

  private raiseFloor(from: number, to: number): boolean {
    this.lock.acquire();
    try {
      if (this.floor() !== from) return false;
      this.layout.writeAtomically(join(this.layout.meta, "events.floor"), String(to));
      return true;
    } finally {
      this.lock.release();
    }
  }

  private dropSegmentsBelow(floor: number): void {
    const bases = this.bases();
    // The newest segment stays, whatever its events: writers append to it.
    for (let i = 0; i + 1 < bases.length; i += 1) {
      if ((bases[i + 1] as number) <= floor) unlinkQuietly(this.segmentPath(bases[i] as number));
    }
  }

  /** The lines from the segment holding `fromSeq` on, or from where the last `since` stopped. */
  private *lines(
    fromSeq: number,
    start: { base: number; end: number } | null,
    needle?: string,
  ): Generator<Line> {
    const bases = this.bases();
    let index = start ? bases.indexOf(start.base) : -1;
    let offset = index >= 0 && start ? start.end : 0;
    if (index < 0) {
      index = 0;
      while (index + 1 < bases.length && (bases[index + 1] as number) <= fromSeq) index += 1;
    }

    for (; index < bases.length; index += 1, offset = 0) {
      const base = bases[index] as number;
      for (const line of readSegment(this.segmentPath(base), offset, needle)) {
        yield { ...line, base };
      }
    }
  }

  private bases(): number[] {
    return listNames(this.layout.events)
      .filter((name) => name.endsWith(".log"))
      .map((name) => Number.parseInt(name, 16))
      .sort((a, b) => a - b);
  }

  private segmentPath(base: number): string {
    return join(this.layout.events, `${base.toString(16).padStart(14, "0")}.log`);
  }

  private openSegment(base: number): void {
    if (this.segmentFd >= 0) closeSync(this.segmentFd);
    this.segmentFd = openSync(this.segmentPath(base), "a");
    this.segmentBase = base;
  }

  /**
   * After a writer died holding the lock: ends a line it left half written, so the next one starts
   * clean.
   */
  private repair(): void {
    const path = this.segmentPath(this.counters.read().base);
    let fd: number;
    try {
      fd = openSync(path, "r+");
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      const last = Buffer.alloc(1);
      if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 10) {
        writeSync(fd, "\n", size);
      }
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The whole lines of a segment from byte `from` on; a line without its newline is still being
 * written.
 */
function readSegment(path: string, from: number, needle?: string): Array<Omit<Line, "base">> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    // Removed by a prune since it was listed: all its events were below the floor.
    if (isMissing(error)) return [];
    throw error;
  }

  let buffer: Buffer;
  try {
    const size = fstatSync(fd).size;
    if (size <= from) return [];
    buffer = Buffer.allocUnsafe(size - from);
    const length = readSync(fd, buffer, 0, buffer.length, from);
    buffer = buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }

  const lines: Array<Omit<Line, "base">> = [];
  for (let start = 0; ; ) {
    const newline = buffer.indexOf(10, start);
    if (newline < 0) break;
    const text = buffer.toString("utf8", start, newline);
    start = newline + 1;
    if (needle !== undefined && !text.includes(needle)) continue;

    try {
      lines.push({ event: JSON.parse(text) as TaskEvent, end: from + start });
    } catch {
      // A line cut short by a writer that died; `repair` ended it.
    }
  }
  return lines;
}
