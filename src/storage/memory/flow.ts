// The memory backend's operations for dependencies, dead letters, queue
// controls and schedules (see test/contract/README.md for each).
import { isFinal, REQUEUEABLE_STATES } from "../../task/state.js";
import type {
  PurgeFilter,
  QueueControl,
  RequeueOutcome,
  ScheduleEvent,
  StoredSchedule,
} from "../contract.js";
import { checkPurgeStates } from "../shared/purge.js";
import { requeuedRecord } from "../shared/requeue.js";
import type { MemoryStore } from "./store.js";

export function unblock(store: MemoryStore, ids: readonly string[], now: number): string[] {
  const moved: string[] = [];
  const queues = new Set<string>();
  for (const id of ids) {
    const slot = store.tasks.get(id);
    if (slot?.record.state !== "blocked") continue;

    slot.record.state = slot.record.runAt > now ? "scheduled" : "pending";
    store.wait(slot);
    moved.push(id);
    queues.add(slot.record.queue);
  }
  for (const queue of queues) store.signal({ type: "ready", queue });
  return moved;
}

export function requeue(store: MemoryStore, id: string, now: number): RequeueOutcome {
  const slot = store.tasks.get(id);
  if (!slot) return "unknown";
  const { record } = slot;
  if (record.state === "completed") return "completed";
  if (!REQUEUEABLE_STATES.includes(record.state)) return "live";

  Object.assign(record, requeuedRecord(record, now));
  slot.result = null;
  slot.cancelReason = null;
  store.wait(slot);
  store.log(record, "requeued", now);
  store.signal({ type: "ready", queue: record.queue });
  return "requeued";
}

export function purge(store: MemoryStore, filter: PurgeFilter): number {
  checkPurgeStates(filter.states);
  const limit = filter.limit ?? 1_000;

  const doomed: string[] = [];
  for (const { record } of store.tasks.values()) {
    if (doomed.length >= limit) break;
    if (!filter.states.includes(record.state) || !isFinal(record.state)) continue;
    if (filter.queue !== undefined && record.queue !== filter.queue) continue;
    const before = filter.finishedBefore;
    if (before !== undefined && (record.finishedAt ?? Infinity) >= before) continue;
    doomed.push(record.id);
  }
  for (const id of doomed) store.delete(id);
  return doomed.length;
}

export function setQueueControl(
  store: MemoryStore,
  queue: string,
  control: QueueControl | null,
): void {
  if (control === null || isDefaultControl(control)) store.controls.delete(queue);
  else store.controls.set(queue, structuredClone(control));
  store.signal({ type: "ready", queue });
}

/** True for a control that changes nothing: not paused, no limits. */
export function isDefaultControl(control: QueueControl): boolean {
  return !control.paused && control.concurrency === null && control.rateLimit === null;
}

export function putSchedule(
  store: MemoryStore,
  write: { id: string; data: string; expectedVersion: number | null; event?: ScheduleEvent },
  now: number,
): number | null {
  const stored = store.schedules.get(write.id);
  const matches =
    write.expectedVersion === null ? !stored : stored?.version === write.expectedVersion;
  if (!matches) return null;

  const version = (stored?.version ?? 0) + 1;
  store.schedules.set(write.id, { id: write.id, version, data: write.data });
  if (write.event) logScheduleEvent(store, write.id, write.event, now);
  return version;
}

export function deleteSchedule(
  store: MemoryStore,
  id: string,
  event: ScheduleEvent | undefined,
  now: number,
): boolean {
  if (!store.schedules.delete(id)) return false;
  if (event) logScheduleEvent(store, id, event, now);
  return true;
}

export function listSchedules(store: MemoryStore): StoredSchedule[] {
  return [...store.schedules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function logScheduleEvent(store: MemoryStore, id: string, event: ScheduleEvent, now: number) {
  store.append({
    taskId: id,
    type: event.type,
    queue: event.queue,
    name: event.name,
    at: now,
    attempt: 0,
  });
}
