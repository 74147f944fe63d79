// This handle's copy of the claim index, rebuilt from the index stream and
// kept current by a Follower. It answers the questions NATS cannot answer
// on the server: which due tasks come first across queues and priorities,
// whose lease ran out, which waiting tasks outlived their time-to-live. The
// answers are candidates only; every change is then made by compare-and-set
// on the task's record, which is the truth.
import type { ClaimRequest, QueueControl } from "../contract.js";
import type { IndexEntry } from "./index-entries.js";
import { WaitingLanes } from "./lanes.js";

/** A delete marker in the index, kept so housekeeping can purge it later. */
export interface Tombstone {
  key: string;
  seq: number;
  /** Server time of the delete, ms since the epoch. */
  time: number;
}

/** Delete markers remembered for purging; older ones beyond this stay on the server, harmless. */
const MAX_TOMBSTONES = 100_000;

export class IndexView {
  private readonly entries = new Map<string, IndexEntry>();
  private readonly lanes = new WaitingLanes();
  /** Commit markers and the tasks still known through them (not yet by an entry of their own). */
  private readonly batches = new Map<string, Set<string>>();
  private tombstones: Tombstone[] = [];
  /** Tasks running now, per queue: what a concurrency limit compares. */
  private readonly running = new Map<string, number>();
  /** Keys of blocked tasks, so listing them costs what there is of them. */
  private readonly blocked = new Set<string>();
  /** Queues with flow controls; empty on the common path, which then costs one size check. */
  readonly controls = new Map<string, QueueControl>();

  get size(): number {
    return this.entries.size;
  }

  get(key: string): IndexEntry | undefined {
    return this.entries.get(key);
  }

  /** An entry of a task's own was written (or deleted, with null). */
  applyEntry(key: string, entry: IndexEntry | null, seq: number, time: number): void {
    this.drop(key);
    if (entry) this.put(entry);
    else if (this.tombstones.push({ key, seq, time }) > MAX_TOMBSTONES) {
      // The oldest tenth at once: one shift per delete would copy the whole array each time.
      this.tombstones.splice(0, MAX_TOMBSTONES / 10);
    }
  }

  /** A queue's controls were written (or removed, with null). */
  applyControl(queue: string, control: QueueControl | null): void {
    if (control) this.controls.set(queue, control);
    else this.controls.delete(queue);
  }

  /** The queue's tasks in state `running`, as last indexed. */
  runningIn(queue: string): number {
    return this.running.get(queue) ?? 0;
  }

  /** Unfinished tasks whose entry is in `state`, in no particular order. */
  inState(state: IndexEntry["state"]): IndexEntry[] {
    if (state === "blocked") {
      return [...this.blocked].flatMap((key) => {
        const entry = this.entries.get(key);
        return entry ? [entry] : [];
      });
    }
    return [...this.entries.values()].filter((entry) => entry.state === state);
  }

  /** A commit marker was written (or deleted, with null). */
  applyMarker(batch: string, entries: readonly IndexEntry[] | null): void {
    if (entries === null) {
      const members = this.batches.get(batch);
      for (const key of members ?? []) this.drop(key);
      this.batches.delete(batch);
      return;
    }

    const members = new Set<string>();
    for (const entry of entries) {
      this.drop(entry.key);
      this.put({ ...entry, batch });
      members.add(entry.key);
    }
    this.batches.set(batch, members);
  }

  /** Up to `limit` due waiting tasks in claim order, leaving out `skip`. */
  pick(request: ClaimRequest, now: number, limit: number, skip: ReadonlySet<string>): IndexEntry[] {
    const picked: IndexEntry[] = [];
    for (const queue of new Set(request.queues)) {
      for (const entry of this.lanes.due(queue, request.workers, now)) {
        if (picked.length >= limit) return picked;
        if (skip.has(entry.key)) continue;
        if (entry.expiresAt !== null && entry.expiresAt <= now) continue;
        picked.push(entry);
      }
    }
    return picked;
  }

  /** Running tasks whose lease, as last indexed, has run out by `now`. */
  expiredLeases(now: number): IndexEntry[] {
    return [...this.entries.values()].filter(
      (e) => e.state === "running" && e.leaseExpiresAt !== null && e.leaseExpiresAt <= now,
    );
  }

  /** Waiting tasks whose time-to-live has passed by `now`. */
  expiredWaiting(now: number): IndexEntry[] {
    return [...this.entries.values()].filter(
      (e) => e.state === "waiting" && e.expiresAt !== null && e.expiresAt <= now,
    );
  }

  /** Markers every task of which has an entry of its own by now, or has finished. */
  spentMarkers(): string[] {
    return [...this.batches].filter(([, members]) => members.size === 0).map(([batch]) => batch);
  }

  /** Up to `max` delete markers written before `time` (server time), each handed over once. */
  takeTombstones(before: number, max: number): Tombstone[] {
    const taken: Tombstone[] = [];
    const kept: Tombstone[] = [];
    for (const tombstone of this.tombstones) {
      if (tombstone.time < before && taken.length < max) taken.push(tombstone);
      else kept.push(tombstone);
    }
    this.tombstones = kept;
    return taken;
  }

  private put(entry: IndexEntry): void {
    this.entries.set(entry.key, entry);
    if (entry.state === "waiting") this.lanes.add(entry);
    else if (entry.state === "running") this.count(entry.queue, 1);
    else this.blocked.add(entry.key);
  }

  private count(queue: string, by: number): void {
    const next = (this.running.get(queue) ?? 0) + by;
    if (next > 0) this.running.set(queue, next);
    else this.running.delete(queue);
  }

  private drop(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    if (old.state === "waiting") this.lanes.remove(old);
    else if (old.state === "running") this.count(old.queue, -1);
    else this.blocked.delete(key);
    if (old.batch !== null) this.batches.get(old.batch)?.delete(key);
  }
}
