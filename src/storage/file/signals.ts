// Wake-up signals. Handles of this thread on the same store hear each
// other's signals directly; every signal is also appended as a line to
// `signals/log`, which handles in other processes follow with `fs.watch`.
// Signals are hints that spare workers and waiters a poll: a line lost while
// the log is cut back (see `trim`) only delays a wake-up until the next poll.
import {
  closeSync,
  type FSWatcher,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  watch,
} from "node:fs";
import { join } from "node:path";
import type { StorageSignal } from "../contract.js";
import { appendAll } from "./fs-sync.js";
import { OWNER } from "./owner.js";

type Listener = (signal: StorageSignal) => void;

/** The log is cut back to nothing once it grows past this many bytes. */
const TRIM_BYTES = 4 * 1024 * 1024;

/** Channels of this thread, by store folder. */
const channels = new Map<string, Set<SignalChannel>>();

interface LogLine {
  from: string;
  signal: StorageSignal;
}

export class SignalChannel {
  private readonly listeners = new Set<Listener>();
  private readonly logPath: string;
  private writeFd: number;
  private watcher: FSWatcher | null = null;
  private readFd = -1;
  private offset = 0;
  private reading = false;

  constructor(
    private readonly root: string,
    private readonly dir: string,
    /** Follow the log for other processes' signals. */
    private readonly watchOthers: boolean,
  ) {
    this.logPath = join(dir, "log");
    this.writeFd = openSync(this.logPath, "a");

    let peers = channels.get(root);
    if (!peers) {
      peers = new Set();
      channels.set(root, peers);
    }
    peers.add(this);
  }

  /** Sends signals to every listener on this store, in this process and others. */
  emit(signals: readonly StorageSignal[]): void {
    if (signals.length === 0) return;

    for (const peer of channels.get(this.root) ?? []) peer.deliver(signals);
    const lines = signals.map((signal) => `${JSON.stringify({ from: OWNER, signal })}\n`);
    appendAll(this.writeFd, lines.join(""));
  }

  subscribe(listener: Listener): () => void {
    // Wrapped so that one function subscribed twice is two subscriptions.
    const entry: Listener = (signal) => listener(signal);
    this.listeners.add(entry);
    this.startWatching();

    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  /** Cuts the log back once it is large. Followers notice it shrank and read it from the start. */
  trim(): void {
    if (fstatSync(this.writeFd).size > TRIM_BYTES) ftruncateSync(this.writeFd, 0);
  }

  close(): void {
    this.listeners.clear();
    this.stopWatching();
    channels.get(this.root)?.delete(this);
    if (channels.get(this.root)?.size === 0) channels.delete(this.root);
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = -1;
  }

  private deliver(signals: readonly StorageSignal[]): void {
    for (const listener of this.listeners) {
      for (const signal of signals) {
        // After the storage call that caused it has returned, so a listener
        // that throws cannot make that call fail.
        queueMicrotask(() => {
          if (this.listeners.has(listener)) listener(signal);
        });
      }
    }
  }

  private startWatching(): void {
    if (!this.watchOthers || this.watcher !== null) return;
    try {
      this.readFd = openSync(this.logPath, "r");
      this.offset = fstatSync(this.readFd).size;
      this.watcher = watch(this.dir, { persistent: false }, () => this.readSoon());
      // A folder that cannot be watched leaves workers to poll.
      this.watcher.on("error", () => this.stopWatching());
    } catch {
      this.stopWatching();
    }
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.readFd >= 0) closeSync(this.readFd);
    this.readFd = -1;
  }

  /** Gathers a burst of file events into one read. */
  private readSoon(): void {
    if (this.reading) return;
    this.reading = true;
    setImmediate(() => {
      this.reading = false;
      try {
        this.readOthers();
      } catch {
        // A failed read of a hint must not crash the process; the next file event reads again.
      }
    });
  }

  private readOthers(): void {
    if (this.readFd < 0) return;
    const size = fstatSync(this.readFd).size;
    if (size < this.offset) this.offset = 0;
    if (size === this.offset) return;

    const buffer = Buffer.allocUnsafe(size - this.offset);
    const length = readSync(this.readFd, buffer, 0, buffer.length, this.offset);
    const end = buffer.subarray(0, length).lastIndexOf(10);
    if (end < 0) return;
    this.offset += end + 1;

    const signals: StorageSignal[] = [];
    for (const text of buffer.toString("utf8", 0, end).split("\n")) {
      const line = parseLine(text);
      // This thread's own signals went out directly in `emit`.
      if (line && line.from !== OWNER) signals.push(line.signal);
    }
    this.deliver(signals);
  }
}

function parseLine(text: string): LogLine | null {
  try {
    return JSON.parse(text) as LogLine;
  } catch {
    return null;
  }
}
