// The memory backend's result and event stores: maps in this process.
// `memory://NAME` opens a handle onto the stores of that name, shared by
// every handle that gives it; `memory://` makes private ones.
import { StorageError } from "../../errors.js";
import type { TaskEvent } from "../../events/types.js";
import type { EventStore, ResultStore, StoredResult } from "../stores.js";
import { memoryNameFromUrl } from "./url.js";

interface ResultData {
  /** By `${token}:${id}`. */
  results: Map<string, StoredResult>;
  handles: number;
}

interface EventData {
  /** In ascending seq. */
  events: TaskEvent[];
  handles: number;
}

const namedResults = new Map<string, ResultData>();
const namedEvents = new Map<string, EventData>();

/** The data of `name`, made on first use and counted as one more handle. */
function share<T extends { handles: number }>(
  named: Map<string, T>,
  name: string | undefined,
  make: () => T,
): T {
  if (name === undefined) return { ...make(), handles: 1 };
  const data = named.get(name) ?? make();
  named.set(name, data);
  data.handles += 1;
  return data;
}

/** One handle less; the last one to close takes the named data with it. */
function unshare<T extends { handles: number }>(
  named: Map<string, T>,
  name: string | undefined,
  data: T,
): void {
  data.handles -= 1;
  if (name !== undefined && data.handles === 0 && named.get(name) === data) named.delete(name);
}

export class MemoryResultStore implements ResultStore {
  private readonly data: ResultData;
  private closed = false;

  constructor(private readonly name?: string) {
    this.data = share(namedResults, name, () => ({ results: new Map(), handles: 0 }));
  }

  async put(results: readonly StoredResult[]): Promise<void> {
    const map = this.open();
    for (const entry of results) map.set(`${entry.token}:${entry.id}`, { ...entry });
  }

  async get(id: string, token: number): Promise<string | null> {
    return this.open().get(`${token}:${id}`)?.result ?? null;
  }

  async purge(now: number): Promise<number> {
    const map = this.open();
    let deleted = 0;
    for (const [key, entry] of map) {
      if (entry.expiresAt > now) continue;
      map.delete(key);
      deleted += 1;
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    unshare(namedResults, this.name, this.data);
  }

  private open(): Map<string, StoredResult> {
    if (this.closed) throw new StorageError("this memory result store is closed");
    return this.data.results;
  }
}

export class MemoryEventStore implements EventStore {
  private readonly data: EventData;
  private closed = false;

  constructor(private readonly name?: string) {
    this.data = share(namedEvents, name, () => ({ events: [], handles: 0 }));
  }

  async append(events: readonly TaskEvent[]): Promise<void> {
    const stored = this.open();
    for (const event of events) {
      const last = stored.at(-1)?.seq ?? 0;
      if (event.seq > last) stored.push(structuredClone(event));
    }
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    return structuredClone(this.open().filter((event) => event.taskId === taskId));
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    const stored = this.open();
    const from = firstAbove(stored, afterSeq);
    return structuredClone(stored.slice(from, from + Math.max(0, limit)));
  }

  async lastEventSeq(): Promise<number> {
    return this.open().at(-1)?.seq ?? 0;
  }

  async purge(cutoff: number): Promise<number> {
    const stored = this.open();
    let expired = 0;
    while (expired < stored.length && (stored[expired] as TaskEvent).at <= cutoff) expired += 1;
    stored.splice(0, expired);
    return expired;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    unshare(namedEvents, this.name, this.data);
  }

  private open(): TaskEvent[] {
    if (this.closed) throw new StorageError("this memory event store is closed");
    return this.data.events;
  }
}

/** The index of the first event with a seq above `seq` (binary search: seqs ascend). */
function firstAbove(events: readonly TaskEvent[], seq: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((events[mid] as TaskEvent).seq <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Opens the memory result store of a `memory://` or `memory://NAME` URL. */
export async function openMemoryResultStore(url: string): Promise<ResultStore> {
  return new MemoryResultStore(memoryNameFromUrl(url));
}

/** Opens the memory event store of a `memory://` or `memory://NAME` URL. */
export async function openMemoryEventStore(url: string): Promise<EventStore> {
  return new MemoryEventStore(memoryNameFromUrl(url));
}
