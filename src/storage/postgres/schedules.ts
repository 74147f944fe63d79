import type { ScheduleEvent, StoredSchedule } from "../contract.js";
import type { Query } from "./db.js";
import type { Statements } from "./statements.js";

/*
 * The schedule methods of `PostgresStorage`: each one statement, see
 * sql/schedules.ts.
 */

/** The event parameters of the schedule statements: now, type, queue, name (NULLs for none). */
function eventParams(now: number, event: ScheduleEvent | undefined): unknown[] {
  return event ? [now, event.type, event.queue, event.name] : [now, null, null, null];
}

/** `Storage.putSchedule`: the new version, or null when `expectedVersion` did not match. */
export async function putSchedule(
  query: Query,
  statements: Statements,
  now: number,
  write: { id: string; data: string; expectedVersion: number | null; event?: ScheduleEvent },
): Promise<number | null> {
  const values = [write.id, write.data, ...eventParams(now, write.event)];
  const [row] =
    write.expectedVersion === null
      ? await query<{ version: number }>("putSchedule", statements.createSchedule, values)
      : await query<{ version: number }>("putSchedule", statements.updateSchedule, [
          ...values,
          write.expectedVersion,
        ]);
  return row?.version ?? null;
}

/** `Storage.deleteSchedule`: whether there was one. */
export async function deleteSchedule(
  query: Query,
  statements: Statements,
  now: number,
  id: string,
  event: ScheduleEvent | undefined,
): Promise<boolean> {
  const [row] = await query<{ deleted: number }>("deleteSchedule", statements.deleteSchedule, [
    id,
    ...eventParams(now, event),
  ]);
  return (row?.deleted ?? 0) > 0;
}

export async function getSchedule(
  query: Query,
  statements: Statements,
  id: string,
): Promise<StoredSchedule | null> {
  const [row] = await query<StoredSchedule>("getSchedule", statements.getSchedule, [id]);
  return row ?? null;
}

export function listSchedules(query: Query, statements: Statements): Promise<StoredSchedule[]> {
  return query<StoredSchedule>("listSchedules", statements.listSchedules);
}
