// Each handle's view of the ready folders: the sorted listing of a queue's
// waiting tasks, kept between claims so a claim does not list and sort the
// whole folder every time.
//
// A listing can only lack tasks added since it was read: markers that went
// away (claimed elsewhere) fail to rename and are dropped then. Whoever adds
// a marker to a queue's folder bumps the queue's counter afterwards
// (`gen/<queue>`), and a listing is read again whenever the counter moved;
// the counter is read before the folder, so no addition is missed. A
// process killed between adding a marker and bumping the counter would
// leave listings short, so a listing older than a second is read again
// whenever it has nothing to offer.
import { join } from "node:path";
import { AppendCounter } from "./counter.js";
import { listNames } from "./fs-sync.js";
import type { Layout } from "./layout.js";
import { parseReadyName, type ReadyEntry } from "./names.js";

/** A listing this old (ms, wall clock) is read again when it has nothing due. */
const RELIST_MS = 1_000;

/** A queue's counter is cut back to nothing once this long (bytes, one per addition). */
const TRIM_BYTES = 1024 * 1024;

/** The waiting tasks of one queue, in claim order. */
export class QueueListing {
  private seen = -1;
  private listedAt = 0;
  private entries: Array<ReadyEntry | null> = [];
  private start = 0;

  constructor(
    readonly dir: string,
    private readonly counter: AppendCounter,
  ) {}

  /** Reads the folder again if anything was added to it since the last read, or always when `force`. */
  refresh(force = false): void {
    const count = this.counter.peek();
    if (count === this.seen && !force) return;

    const names = listNames(this.dir).sort();
    this.entries = [];
    for (const name of names) {
      const entry = parseReadyName(name);
      if (entry) this.entries.push(entry);
    }
    this.start = 0;
    this.seen = count;
    this.listedAt = Date.now();
  }

  /** Whether the folder was last read long enough ago to read it again when in doubt. */
  isOld(): boolean {
    return Date.now() - this.listedAt > RELIST_MS;
  }

  /** The entries not yet dropped, in claim order, with their place for `drop`. */
  *waiting(): Generator<[number, ReadyEntry]> {
    for (let i = this.start; i < this.entries.length; i += 1) {
      const entry = this.entries[i];
      if (entry) yield [i, entry];
    }
  }

  /** Forgets an entry whose marker is no longer in the folder. */
  drop(index: number): void {
    this.entries[index] = null;
    while (this.start < this.entries.length && this.entries[this.start] === null) this.start += 1;
  }

  path(entry: ReadyEntry): string {
    return join(this.dir, entry.name);
  }

  /** Tells every handle that a marker was added to this queue's folder. */
  touch(): void {
    this.counter.bump();
  }

  /**
   * Cuts a long counter back. A handle whose last look saw the very length
   * the counter grows back to would miss the additions in between; the
   * one-second re-read above covers that.
   */
  trim(): void {
    if (this.counter.peek() > TRIM_BYTES) this.counter.reset();
  }

  close(): void {
    this.counter.close();
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

  touch(queueName: string): void {
    this.get(queueName).touch();
  }

  /** Cuts long queue counters back; run now and then by maintenance. */
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
      const counter = new AppendCounter(this.layout.genFile(queueName));
      listing = new QueueListing(this.layout.queueDir(queueName), counter);
      this.listings.set(queueName, listing);
    }
    return listing;
  }
}
