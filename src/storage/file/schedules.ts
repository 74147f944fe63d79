// Schedules: `schedules/<id>.json` per schedule, holding its id, version and
// the scheduler's encoded record, each written whole by a rename. Writes
// compare and set the version under `locks/schedules`, so of two writers
// expecting the same version exactly one wins, whatever process each is in.
import { join } from "node:path";
import type { ScheduleEvent, StoredSchedule } from "../contract.js";
import { listNames, readText, unlinkQuietly } from "./fs-sync.js";
import { withLock } from "./locks.js";
import { encodeName } from "./names.js";
import type { FileStore } from "./store.js";

/** Writes a schedule if its version is `expectedVersion` (null: if it has none); the new version. */
export function putSchedule(
  store: FileStore,
  id: string,
  data: string,
  expectedVersion: number | null,
  event?: ScheduleEvent,
): number | null {
  const path = store.layout.scheduleFile(encodeName(id));
  return withLock(store.locks.schedules, () => {
    const current = readSchedule(path);
    const found = current?.id === id ? current.version : null;
    if (found !== expectedVersion) return null;

    const version = (found ?? 0) + 1;
    store.layout.writeAtomically(path, JSON.stringify({ id, version, data }));
    recordEvent(store, id, event);
    return version;
  });
}

export function getSchedule(store: FileStore, id: string): StoredSchedule | null {
  const found = readSchedule(store.layout.scheduleFile(encodeName(id)));
  return found?.id === id ? found : null;
}

/** Every schedule, ordered by id. */
export function listSchedules(store: FileStore): StoredSchedule[] {
  const found: StoredSchedule[] = [];
  for (const name of listNames(store.layout.schedules)) {
    if (!name.endsWith(".json")) continue;
    const schedule = readSchedule(join(store.layout.schedules, name));
    if (schedule) found.push(schedule);
  }
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Deletes a schedule, with `event` in the log; false when there was none. */
export function deleteSchedule(store: FileStore, id: string, event?: ScheduleEvent): boolean {
  const path = store.layout.scheduleFile(encodeName(id));
  return withLock(store.locks.schedules, () => {
    if (readSchedule(path)?.id !== id || !unlinkQuietly(path)) return false;
    recordEvent(store, id, event);
    return true;
  });
}

/** The event of a schedule change, written while the schedules lock is still held. */
function recordEvent(store: FileStore, id: string, event: ScheduleEvent | undefined): void {
  if (event === undefined || !store.recordEvents) return;
  const { type, queue, name } = event;
  store.log.append([{ taskId: id, type, queue, name, attempt: 0, at: store.clock.now() }]);
}

function readSchedule(path: string): StoredSchedule | null {
  const text = readText(path);
  if (text === null) return null;
  const { id, version, data } = JSON.parse(text) as StoredSchedule;
  return { id, version, data };
}
