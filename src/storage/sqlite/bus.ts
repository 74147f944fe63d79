import type { StorageSignal } from "../contract.js";
import type { Changes } from "./changes.js";
import { WalFlusher } from "./wal-flusher.js";
import { WalWatcher } from "./watch.js";

type Listener = (signal: StorageSignal) => void;

/**
 * What every handle of this process on one database file shares: the
 * listeners of all of them, so that a producer's enqueue wakes a worker that
 * opened its own handle on the same file at once, and at most one watcher
 * of the file's WAL for changes made by other processes.
 */
export class FileChannel {
  private readonly listeners = new Set<Listener>();
  private handles = 0;
  private watchers = 0;
  private watcher: WalWatcher | null = null;
  private readonly flusher: WalFlusher;

  constructor(readonly path: string) {
    this.flusher = new WalFlusher(`${path}-wal`);
  }

  /** Sends the signals of a committed transaction to every listener on the file. */
  publish(changes: Changes): void {
    this.flusher.wrote();
    if (this.watcher !== null && changes.firstSeq !== 0) {
      this.watcher.noteOwn(changes.firstSeq, changes.lastSeq);
    }
    if (this.listeners.size === 0) return;

    for (const queue of changes.readyQueues) this.emit({ type: "ready", queue });
    if (changes.finished.length > 0) {
      this.emit({ type: "finished", ids: changes.finished, outcomes: changes.outcomes });
    }
    for (const id of changes.cancels) this.emit({ type: "cancel", id });
  }

  /**
   * Adds a listener; `watch` asks for signals from other processes too.
   * Returns the function that removes it (safe to call twice).
   */
  listen(listener: Listener, watch: boolean): () => void {
    // Wrapped so the same function may be added twice and removed once each.
    const entry: Listener = (signal) => listener(signal);
    this.listeners.add(entry);
    if (watch) this.addWatcher();

    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.listeners.delete(entry);
      if (watch) this.removeWatcher();
    };
  }

  private emit(signal: StorageSignal): void {
    for (const listener of this.listeners) {
      // A listener that throws must not cost the others their signal, nor
      // turn a committed write into a rejected call: the error is dropped.
      try {
        listener(signal);
      } catch {}
    }
  }

  private addWatcher(): void {
    this.watchers++;
    if (this.watcher !== null) return;
    this.watcher = new WalWatcher(this.path, (signal) => this.emit(signal));
    this.watcher.start();
  }

  private removeWatcher(): void {
    this.watchers--;
    if (this.watchers > 0 || this.watcher === null) return;
    this.watcher.stop();
    this.watcher = null;
  }

  /** Counts a handle opened on the file. */
  attach(): void {
    this.handles++;
  }

  /** Counts a handle closed; true when none is left, so the channel can go. */
  detach(): boolean {
    this.handles--;
    if (this.handles > 0) return false;
    this.flusher.close();
    return true;
  }
}

const channels = new Map<string, FileChannel>();

/** The channel of a database file (an absolute, resolved path) for a newly opened handle. */
export function joinChannel(path: string): FileChannel {
  let channel = channels.get(path);
  if (channel === undefined) {
    channel = new FileChannel(path);
    channels.set(path, channel);
  }
  channel.attach();
  return channel;
}

/** Called by a handle as it closes, after removing its listeners. */
export function leaveChannel(channel: FileChannel): void {
  if (channel.detach() && channels.get(channel.path) === channel) {
    channels.delete(channel.path);
  }
}
