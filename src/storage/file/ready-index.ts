// Each handle's view of the ready folders: the sorted listing of a queue's
// waiting tasks, kept between claims so that a claim neither lists nor
// sorts the folder (at a million waiting tasks that takes seconds).
//
// Whoever adds markers to a queue's folder appends their names to the
// queue's addition log afterwards (addition-log.ts), and a listing files
// the names added since its last look into their places. A listing can
// only lack markers added without a word in the log (a process killed
// between the rename and the append, or an append racing a log rotation),
// and it can hold markers that went away (claimed elsewhere), which fail to
// rename and are dropped then. So the folder itself is read again when a
// listing is first used, when it has nothing due and is more than a second
// old, and about once a minute in any case.
import { join } from "node:path";
import { SortedChunks } from "../shared/sorted-chunks.js";
import { AdditionLog } from "./addition-log.js";
import { listNames } from "./fs-sync.js";
import type { Layout } from "./layout.js";
import { parseReadyName, type ReadyEntry } from "./names.js";

/** A listing this old (ms, wall clock) is read again when it has nothing due. */
const RELIST_MS = 1_000;

/**
 * A listing is read again from the folder this often (ms, wall clock),
 * whatever the log says; and at most once per fifty times the last read took
 * (about two seconds at a million waiting tasks), to keep that under 2%.
 */
const FULL_RELIST_MS = 60_000;
const RELIST_SHARE = 50;

/** A queue's addition log is replaced by an empty one once this long (bytes; ~100 per name). */
const ROTATE_BYTES = 4 * 1024 * 1024;

/** Marker names sort in claim order: priority, then run-at time, then enqueue order. */
const byName = (a: ReadyEntry, b: ReadyEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A probe that sorts after every marker of `entry`'s priority and before the next priority's. */
function afterPriorityOf(entry: ReadyEntry): ReadyEntry {
  // The first 16 characters are the priority; "~" sorts after every hex digit.
  return { ...entry, name: `${entry.name.slice(0, 16)}~` };
}

/** The waiting tasks of one queue, in claim order. */
export class QueueListing {
  private entries = new SortedChunks<ReadyEntry>(byName);
  private listedAt = 0;
  private readMs = 0;
  private iterating = 0;
  private readonly dropped: ReadyEntry[] = [];

  constructor(
    readonly dir: string,
    private readonly additions: AdditionLog,
  ) {}

  /** Files in what was added since the last look; reads the whole folder when due or `force`. */
  refresh(force = false): void {
    const relistAfter = Math.max(FULL_RELIST_MS, RELIST_SHARE * this.readMs);
    if (force || this.listedAt === 0 || Date.now() - this.listedAt > relistAfter) {
      this.readFolder();
      return;
    }
    for (const name of this.additions.readNew()) {
      const entry = parseReadyName(name);
      if (entry) this.entries.add(entry);
    }
  }

  /** Whether the folder was last read long enough ago to read it again when in doubt. */
  isOld(): boolean {
    return Date.now() - this.listedAt > RELIST_MS;
  }

  /**
   * The entries in claim order; with `now`, only those whose run-at time has
   * come (the rest of a priority is skipped at its first later entry, so
   * delayed tasks cost nothing to pass over).
   */
  *waiting(now?: number): Generator<ReadyEntry> {
    this.iterating += 1;
    try {
      let items = this.entries[Symbol.iterator]();
      for (let next = items.next(); !next.done; next = items.next()) {
        const entry = next.value;
        if (now === undefined || entry.runAt <= now) yield entry;
        else items = this.entries.from(afterPriorityOf(entry));
      }
    } finally {
      this.iterating -= 1;
      if (this.iterating === 0) for (const entry of this.dropped.splice(0)) this.drop(entry);
    }
  }

  /**
   * Forgets an entry whose marker is no longer in the folder (after the walk, if one is under way).
   */
  drop(entry: ReadyEntry): void {
    if (this.iterating > 0) this.dropped.push(entry);
    else this.entries.remove(entry, (stored) => stored.name === entry.name);
  }

  path(entry: ReadyEntry): string {
    return join(this.dir, entry.name);
  }

  /** Tells every handle that markers with these names were added to this queue's folder. */
  touch(names: readonly string[]): void {
    this.additions.append(names);
  }

  /** Starts a new addition log once this one is long. */
  trim(): void {
    this.additions.rotate(ROTATE_BYTES);
  }

  /** Raised when the queue's addition log was replaced since the last look (see AdditionLog). */
  get generation(): number {
    return this.additions.generation;
  }

  /** Replaces the queue's addition log, so that every handle's listing moves to a new generation. */
  renew(): void {
    this.additions.replace();
  }

  close(): void {
    this.additions.close();
  }

  private readFolder(): void {
    // The log's end is taken before the folder is read: what is added after
    // shows in the log, so nothing falls between the two.
    const start = Date.now();
    this.additions.skipToEnd();
    const entries = new SortedChunks<ReadyEntry>(byName);
    for (const name of listNames(this.dir).sort()) {
      const entry = parseReadyName(name);
      if (entry) entries.add(entry);
    }
    this.entries = entries;
    this.dropped.length = 0;
    this.listedAt = Date.now();
    this.readMs = this.listedAt - start;
  }
}

export class ReadyIndex {
  private readonly listings = new Map<string, QueueListing>();

  constructor(private readonly layout: Layout) {}

  /** The listing of a queue (by its file name), brought up to date. */
  listing(queueName: string): QueueListing {
    const listing = this.get(queueName);
    listing.refresh();
    return listing;
  }

  /** The file names of every queue that ever had a waiting task. */
  queueNames(): string[] {
    return listNames(this.layout.ready);
  }

  /** Records that markers with these names were added to a queue's folder. */
  touch(queueName: string, names: readonly string[]): void {
    this.get(queueName).touch(names);
  }

  /**
   * Tells every handle, in every process, to read again what it cached about
   * the queue: its next claim sees a new generation of the queue's listing.
   */
  renew(queueName: string): void {
    this.get(queueName).renew();
  }

  /** Starts new addition logs for queues whose log is long; run now and then by maintenance. */
  trim(): void {
    for (const queueName of this.queueNames()) this.get(queueName).trim();
  }

  close(): void {
    for (const listing of this.listings.values()) listing.close();
    this.listings.clear();
  }

  private get(queueName: string): QueueListing {
    let listing = this.listings.get(queueName);
    if (!listing) {
      const additions = new AdditionLog(this.layout.genFile(queueName), (path) =>
        this.layout.writeAtomically(path, ""),
      );
      listing = new QueueListing(this.layout.queueDir(queueName), additions);
      this.listings.set(queueName, listing);
    }
    return listing;
  }
}
