import type { TaskEvent, TaskEventType } from "../../events/types.js";
import type { TaskRecord } from "../../task/record.js";
import { isFinal, isWaiting } from "../../task/state.js";
import type { QueueControl, StorageSignal, StoredSchedule } from "../contract.js";
import { WaitingIndex } from "./waiting-index.js";

/** A stored task with what the record itself does not carry. */
export interface Slot {
  record: TaskRecord;
  /** Enqueue position: lists and FIFO claims follow it. */
  order: number;
  /** The encoded result, once completed. */
  result: string | null;
  /** Why a running task was asked to cancel, for when its lease runs out. */
  cancelReason: string | null;
  /** The waiting index's entry for the task while it is claimable (see waiting-index.ts). */
  entry: object | null;
}

/** Extra fields of an event beyond what the record gives. */
export type EventDetail = Pick<TaskEvent, "error" | "runAt">;

/**
 * The state of one in-memory store, shared by every handle opened onto it.
 * Each method runs to completion without awaiting, so on Node's single
 * thread every storage operation is atomic without locks.
 */
export class MemoryStore {
  /** Every task by id; a Map keeps insertion order, which is enqueue order. */
  readonly tasks = new Map<string, Slot>();
  readonly waiting = new WaitingIndex();
  /** Idempotency key to the id of the task that took it; the key is held while that task lives. */
  readonly keys = new Map<string, string>();
  /** Queues with controls other than the defaults. */
  readonly controls = new Map<string, QueueControl>();
  /** Per rate-limited queue: the current window's start and the claims counted in it. */
  readonly windows = new Map<string, { start: number; count: number }>();
  readonly schedules = new Map<string, StoredSchedule>();

  /** Whether `log` stores events, for the operation running now (see MemoryStorage.open). */
  recordEvents = true;
  private events: TaskEvent[] = [];
  private eventsByTask = new Map<string, TaskEvent[]>();
  private nextSeq = 1;
  private nextOrder = 1;
  private readonly sinks = new Set<(signal: StorageSignal) => void>();

  /** Stores a new task and, when it waits (not blocked), makes it claimable. */
  insert(record: TaskRecord): Slot {
    const slot: Slot = {
      record,
      order: this.nextOrder++,
      result: null,
      cancelReason: null,
      entry: null,
    };
    this.tasks.set(record.id, slot);
    if (isWaiting(record.state)) this.waiting.add(slot);
    return slot;
  }

  /** Makes a task that waits again claimable in its place. */
  wait(slot: Slot): void {
    this.waiting.add(slot);
  }

  /** Forgets a task and its result; its events stay until their own time-to-live. */
  delete(id: string): void {
    const slot = this.tasks.get(id);
    if (slot) this.waiting.remove(slot);
    this.tasks.delete(id);
  }

  /** The id of the live task holding `key`, if any. */
  keyHolder(key: string): string | undefined {
    const id = this.keys.get(key);
    const holder = id === undefined ? undefined : this.tasks.get(id);
    return holder && !isFinal(holder.record.state) ? id : undefined;
  }

  /** Appends the event of a transition `record` just made. */
  log(record: TaskRecord, type: TaskEventType, at: number, detail: EventDetail = {}): void {
    this.append({
      taskId: record.id,
      type,
      at,
      queue: record.queue,
      name: record.name,
      attempt: record.attempts,
      ...detail,
    });
  }

  /** Appends an event, giving it the next seq. */
  append(fields: Omit<TaskEvent, "seq">): void {
    if (!this.recordEvents) return;
    const event: TaskEvent = { seq: this.nextSeq++, ...fields };
    this.events.push(event);

    const own = this.eventsByTask.get(event.taskId);
    if (own) own.push(event);
    else this.eventsByTask.set(event.taskId, [event]);
  }

  eventsOf(taskId: string): readonly TaskEvent[] {
    return this.eventsByTask.get(taskId) ?? [];
  }

  /** Events with a seq above `afterSeq`, oldest first. */
  eventsAfter(afterSeq: number, limit: number): readonly TaskEvent[] {
    // Events are appended in seq order, so the first one wanted is found by bisection.
    let low = 0;
    let high = this.events.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.events[mid] as TaskEvent).seq <= afterSeq) low = mid + 1;
      else high = mid;
    }
    return this.events.slice(low, low + Math.max(0, limit));
  }

  /** The seq of the newest event still stored, or 0. */
  lastSeq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  /** Deletes events for which `expired` holds; answers how many. */
  dropEvents(expired: (event: TaskEvent) => boolean): number {
    const before = this.events.length;
    this.events = this.events.filter((event) => !expired(event));
    const dropped = before - this.events.length;
    if (dropped === 0) return 0;

    const byTask = new Map<string, TaskEvent[]>();
    for (const event of this.events) {
      const own = byTask.get(event.taskId);
      if (own) own.push(event);
      else byTask.set(event.taskId, [event]);
    }
    this.eventsByTask = byTask;
    return dropped;
  }

  /** Connects a handle's signal sink; the answer disconnects it and tells how many remain. */
  attach(sink: (signal: StorageSignal) => void): () => number {
    this.sinks.add(sink);
    return () => {
      this.sinks.delete(sink);
      return this.sinks.size;
    };
  }

  /** Sends a signal to every handle open on this store. */
  signal(signal: StorageSignal): void {
    for (const sink of this.sinks) sink(signal);
  }
}
