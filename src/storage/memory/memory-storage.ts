import { StorageError } from "../../errors.js";
import type { TaskEvent } from "../../events/types.js";
import type { ClaimedTask, NewTask, TaskRecord } from "../../task/record.js";
import {
  type CancelOutcome,
  type ClaimRequest,
  type Clock,
  type HeartbeatReply,
  type Lease,
  type MaintenanceOptions,
  type MaintenanceReport,
  type PurgeFilter,
  type QueueControl,
  type RequeueOutcome,
  type ScheduleEvent,
  type Settlement,
  type Storage,
  type StorageSignal,
  type StoredSchedule,
  systemClock,
  type TaskCounts,
  type TaskFilter,
  type TaskOutcome,
} from "../contract.js";
import * as flow from "./flow.js";
import { maintain } from "./maintain.js";
import { dropNamedStore, namedStore } from "./registry.js";
import { MemoryStore } from "./store.js";
import * as transitions from "./transitions.js";
import { memoryNameFromUrl } from "./url.js";

/** Options of `MemoryStorage`. */
export interface MemoryStorageOptions {
  /** Where the store reads the time. @default the system clock */
  clock?: Clock;
  /**
   * Opens a handle onto the store of this name, shared by every handle in the
   * process that gives it. Without a name the store is private to this handle.
   */
  name?: string;
  /** Store lifecycle events; `false` stores none. @default true */
  recordEvents?: boolean;
}

/**
 * The in-memory backend: tasks, results and events kept in this process's
 * memory, for tests and single-process use. It is the reference the other
 * backends are read against. Everything is lost when the last handle closes.
 */
export class MemoryStorage implements Storage {
  private readonly clock: Clock;
  private readonly store: MemoryStore;
  private readonly listeners = new Set<(signal: StorageSignal) => void>();
  private readonly detach: () => number;
  private closed = false;

  constructor(private readonly options: MemoryStorageOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.store = options.name === undefined ? new MemoryStore() : namedStore(options.name);
    this.detach = this.store.attach((signal) => this.deliver(signal));
  }

  async enqueue(tasks: readonly NewTask[]): Promise<string[]> {
    return transitions.enqueue(this.open(), tasks, this.clock.now());
  }

  async claim(request: ClaimRequest): Promise<ClaimedTask[]> {
    return structuredClone(transitions.claim(this.open(), request, this.clock.now()));
  }

  async heartbeat(leases: readonly Lease[], leaseMs: number): Promise<HeartbeatReply> {
    return transitions.heartbeat(this.open(), leases, leaseMs, this.clock.now());
  }

  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    return transitions.settle(this.open(), settlements, this.clock.now());
  }

  async release(leases: readonly Lease[]): Promise<void> {
    transitions.release(this.open(), leases);
  }

  async cancel(id: string, reason: string): Promise<CancelOutcome> {
    return transitions.cancel(this.open(), id, reason, this.clock.now());
  }

  async unblock(ids: readonly string[]): Promise<string[]> {
    return flow.unblock(this.open(), ids, this.clock.now());
  }

  async requeue(id: string): Promise<RequeueOutcome> {
    return flow.requeue(this.open(), id, this.clock.now());
  }

  async purge(filter: PurgeFilter): Promise<number> {
    return flow.purge(this.open(), filter);
  }

  async setQueueControl(queue: string, control: QueueControl | null): Promise<void> {
    flow.setQueueControl(this.open(), queue, control);
  }

  async queueControls(): Promise<Record<string, QueueControl>> {
    return structuredClone(Object.fromEntries(this.open().controls));
  }

  async putSchedule(
    id: string,
    data: string,
    expectedVersion: number | null,
    event?: ScheduleEvent,
  ): Promise<number | null> {
    return flow.putSchedule(this.open(), { id, data, expectedVersion, event }, this.clock.now());
  }

  async getSchedule(id: string): Promise<StoredSchedule | null> {
    const stored = this.open().schedules.get(id);
    return stored ? { ...stored } : null;
  }

  async listSchedules(): Promise<StoredSchedule[]> {
    return flow.listSchedules(this.open()).map((stored) => ({ ...stored }));
  }

  async deleteSchedule(id: string, event?: ScheduleEvent): Promise<boolean> {
    return flow.deleteSchedule(this.open(), id, event, this.clock.now());
  }

  async getTask(id: string): Promise<TaskRecord | null> {
    const slot = this.open().tasks.get(id);
    return slot ? structuredClone(slot.record) : null;
  }

  async getOutcome(id: string): Promise<TaskOutcome | null> {
    const slot = this.open().tasks.get(id);
    if (!slot) return null;

    const { state, lastError } = slot.record;
    const outcome: TaskOutcome = { state };
    if (state === "completed" && slot.result !== null) outcome.result = slot.result;
    if (lastError) outcome.error = structuredClone(lastError);
    return outcome;
  }

  async listTasks(filter: TaskFilter = {}): Promise<TaskRecord[]> {
    const { queue, state, name, limit = 100, offset = 0 } = filter;
    const found: TaskRecord[] = [];
    let skipped = 0;

    for (const { record } of this.open().tasks.values()) {
      if (found.length >= limit) break;
      if (queue !== undefined && record.queue !== queue) continue;
      if (state !== undefined && record.state !== state) continue;
      if (name !== undefined && record.name !== name) continue;
      if (skipped < offset) {
        skipped += 1;
        continue;
      }
      found.push(record);
    }
    return structuredClone(found);
  }

  async countTasks(): Promise<TaskCounts> {
    const counts: TaskCounts = {};
    for (const { record } of this.open().tasks.values()) {
      const perState = counts[record.queue] ?? {};
      perState[record.state] = (perState[record.state] ?? 0) + 1;
      counts[record.queue] = perState;
    }
    return counts;
  }

  async taskEvents(taskId: string): Promise<TaskEvent[]> {
    return structuredClone([...this.open().eventsOf(taskId)]);
  }

  async eventsSince(afterSeq: number, limit: number): Promise<TaskEvent[]> {
    return structuredClone([...this.open().eventsAfter(afterSeq, limit)]);
  }

  async lastEventSeq(): Promise<number> {
    return this.open().lastSeq();
  }

  async maintain(options: MaintenanceOptions): Promise<MaintenanceReport> {
    return maintain(this.open(), options, this.clock.now());
  }

  /** Signals from every handle on this store, delivered after the change that caused them. */
  subscribe(listener: (signal: StorageSignal) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Signals are calls within this process: none is ever missed. */
  signalEpoch(): number {
    return 0;
  }

  /** Closes this handle. A named store is dropped, with its data, when its last handle closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();

    const remaining = this.detach();
    if (remaining === 0 && this.options.name !== undefined) {
      dropNamedStore(this.options.name, this.store);
    }
  }

  private open(): MemoryStore {
    if (this.closed) throw new StorageError("this memory storage handle is closed");
    // Handles sharing a store may differ in this setting. Every operation
    // runs to its end without awaiting once it has the store, so setting it
    // here holds for exactly the operation that asked.
    this.store.recordEvents = this.options.recordEvents ?? true;
    return this.store;
  }

  private deliver(signal: StorageSignal): void {
    for (const listener of this.listeners) {
      // Each listener runs on its own microtask, after the storage call that
      // caused the signal has finished, so a listener that throws cannot make
      // that call fail; its error surfaces as an uncaught exception instead.
      queueMicrotask(() => {
        if (this.listeners.has(listener)) listener(signal);
      });
    }
  }
}

/**
 * Opens the memory backend of a `memory://` URL: `memory://` gives a private
 * store, `memory://NAME` a handle onto the store of that name in this process.
 */
export async function openMemoryStorage(
  url: string,
  options: { clock?: Clock; recordEvents?: boolean } = {},
): Promise<Storage> {
  return new MemoryStorage({ ...options, name: memoryNameFromUrl(url) });
}
