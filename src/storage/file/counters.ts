import { closeSync, openSync, readSync, writeSync } from "node:fs";

/**
 * The store's counters, kept in `meta/counters` and changed only under the
 * store lock (`meta/lock`, see token-lock.ts).
 */
export interface Counters {
  /** The seq the next event gets. */
  next: number;
  /** The first seq of the event segment being written. */
  base: number;
  /** Raised once per enqueue batch: orders batches, whichever process made them. */
  stamp: number;
}

const WIDTH = 14;
const BYTES = 3 * (WIDTH + 1);

/** The file's text: three fixed-width hex numbers, so a rewrite is one write of one size. */
export function formatCounters({ next, base, stamp }: Counters): string {
  const field = (value: number) => value.toString(16).padStart(WIDTH, "0");
  return `${field(next)} ${field(base)} ${field(stamp)}\n`;
}

export const INITIAL_COUNTERS: Counters = { next: 1, base: 1, stamp: 0 };

/** Reads and rewrites `meta/counters` through one open file; the caller holds the store lock. */
export class CountersFile {
  private fd: number;
  private readonly buffer = Buffer.alloc(BYTES);

  constructor(path: string) {
    this.fd = openSync(path, "r+");
  }

  read(): Counters {
    readSync(this.fd, this.buffer, 0, BYTES, 0);
    const text = this.buffer.toString("latin1");
    const field = (index: number) =>
      Number.parseInt(text.slice(index * (WIDTH + 1), index * (WIDTH + 1) + WIDTH), 16);
    return { next: field(0), base: field(1), stamp: field(2) };
  }

  write(counters: Counters): void {
    writeSync(this.fd, formatCounters(counters), 0, "latin1");
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
