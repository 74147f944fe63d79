// The per-task lock and the shape of every change. Each task has one
// marker file whose folder says where the task is: `ready/<queue>/` while it
// waits, `running/` while leased, `done/<bucket>/` once finished. To change a
// task, a process renames its marker into `busy/` under its own name; only
// one rename can win, so the winner alone may rewrite the record. It then
// writes the events and renames the marker to where the new state rests.
//
// A process that dies holding a marker leaves it in `busy/` under its name;
// recovery.ts puts such markers back where the record on disk says.
import { basename } from "node:path";
import type { TaskEventType } from "../../events/types.js";
import type { TaskRecord } from "../../task/record.js";
import { isFinal, isWaiting } from "../../task/state.js";
import type { StorageSignal } from "../contract.js";
import type { NewEvent } from "./event-log.js";
import { moveInto, tryRename, unlinkQuietly } from "./fs-sync.js";
import { type HeldKey, releaseKeys } from "./keys.js";
import { encodeName } from "./names.js";
import type { StoredTask } from "./records.js";
import type { FileStore } from "./store.js";

/** A task whose marker this process holds in `busy/`. */
export interface Held {
  busy: string;
  idName: string;
  /** The record after the change, null once deleted; unset means "as on disk". */
  next?: StoredTask | null;
}

/** Extra fields of an event beyond what the record gives. */
export type EventDetail = Pick<NewEvent, "error" | "runAt">;

/**
 * The tasks one operation holds, and the events and signals it makes.
 * `commit` writes the events, puts every marker where its task now rests
 * and sends the signals; `abort` puts markers back as the records on disk
 * say, for an operation that failed part way.
 */
export class ChangeSet {
  private readonly held: Held[] = [];
  private readonly events: NewEvent[] = [];
  private readonly finished: string[] = [];
  private readonly readyQueues = new Set<string>();
  private readonly cancels: string[] = [];
  private readonly keys: HeldKey[] = [];

  constructor(
    private readonly store: FileStore,
    readonly now: number,
  ) {}

  /**
   * Takes the marker at `path` of task `idName`; null when it is not there (moved or held
   * elsewhere).
   */
  hold(path: string, idName: string): Held | null {
    const busy = this.store.layout.busyMarker(idName);
    if (!tryRename(path, busy)) return null;
    return this.adopt(busy, idName);
  }

  /**
   * Takes charge of a marker this process already has in `busy/` (a new task, or one taken over).
   */
  adopt(busy: string, idName: string): Held {
    const held: Held = { busy, idName };
    this.held.push(held);
    return held;
  }

  /** Writes a held task's new record; its marker follows the new state at commit. */
  write(held: Held, next: StoredTask): void {
    this.store.records.write(held.idName, next);
    held.next = next;
    if (next.task.idempotencyKey !== null && isFinal(next.task.state)) this.giveUpKey(next);
  }

  /** Leaves a held task as it is: its marker goes back where it rests. */
  keep(held: Held, stored: StoredTask | null): void {
    held.next = stored;
  }

  /** Deletes a held task's record (`stored`, as read); its marker goes at commit. */
  remove(held: Held, stored: StoredTask): void {
    this.store.records.remove(held.idName);
    held.next = null;
    if (stored.task.idempotencyKey !== null) this.giveUpKey(stored);
  }

  event(task: TaskRecord, type: TaskEventType, detail: EventDetail = {}): void {
    this.events.push({
      taskId: task.id,
      type,
      at: this.now,
      queue: task.queue,
      name: task.name,
      attempt: task.attempts,
      ...detail,
    });
  }

  finishedTask(id: string): void {
    this.finished.push(id);
  }

  readyQueue(queue: string): void {
    this.readyQueues.add(queue);
  }

  cancelRequested(id: string): void {
    this.cancels.push(id);
  }

  /**
   * Events first, then markers: a task is not claimable again (nor settled
   * by another worker) before the events of this change are in the log, so
   * the log keeps each task's events in order.
   */
  commit(): void {
    if (this.store.recordEvents) this.store.log.append(this.events);
    this.placeAll();
    // After the records say final: a key is free once its holder has ended.
    if (this.keys.length > 0) releaseKeys(this.store, this.keys.splice(0));
    this.store.signals.emit(this.signals());
  }

  abort(): void {
    for (const held of this.held) held.next = undefined;
    this.placeAll();
  }

  private giveUpKey({ task }: StoredTask): void {
    this.keys.push({ key: task.idempotencyKey as string, id: task.id });
  }

  private placeAll(): void {
    const added = new Map<string, string[]>();
    let failure: unknown = null;

    for (const held of this.held.splice(0)) {
      try {
        const ready = place(this.store, held);
        if (ready === null) continue;
        const names = added.get(ready.queueName);
        if (names) names.push(ready.marker);
        else added.set(ready.queueName, [ready.marker]);
      } catch (error) {
        failure ??= error;
      }
    }

    // After the markers are in their folders: a handle that reads the log finds them there.
    for (const [queueName, names] of added) this.store.ready.touch(queueName, names);
    if (failure !== null) throw failure;
  }

  private signals(): StorageSignal[] {
    const signals: StorageSignal[] = [];
    for (const queue of this.readyQueues) signals.push({ type: "ready", queue });
    if (this.finished.length > 0) signals.push({ type: "finished", ids: this.finished });
    for (const id of this.cancels) signals.push({ type: "cancel", id });
    return signals;
  }
}

/**
 * Moves a held marker to where its task rests, or removes it when the task
 * is gone. Answers the queue's file name and the marker's name when the
 * task now waits in a ready folder.
 */
export function place(store: FileStore, held: Held): { queueName: string; marker: string } | null {
  const stored = held.next === undefined ? store.records.read(held.idName) : held.next;
  if (stored === null) {
    unlinkQuietly(held.busy);
    return null;
  }

  const queueName = encodeName(stored.task.queue);
  const target = store.layout.restingMarker(stored.task, stored.order, held.idName, queueName);
  moveInto(held.busy, target);
  return isWaiting(stored.task.state) ? { queueName, marker: basename(target) } : null;
}
