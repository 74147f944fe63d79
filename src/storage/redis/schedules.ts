import type { ScheduleEvent, StoredSchedule } from "../contract.js";
import type { ScriptContext } from "./context.js";

/** The event arguments of a schedule script: its type and stem, or two empty strings. */
function eventArgs(id: string, event: ScheduleEvent | undefined): string[] {
  if (!event) return ["", ""];
  // The event's fields without braces, as the prelude's events take them.
  const stem = JSON.stringify({ taskId: id, queue: event.queue, name: event.name }).slice(1, -1);
  return [event.type, stem];
}

/** Reads one stored "<version> <data>" value. */
function parseSchedule(id: string, value: string): StoredSchedule {
  const space = value.indexOf(" ");
  return { id, version: Number(value.slice(0, space)), data: value.slice(space + 1) };
}

/** Writes a schedule if its version is `expectedVersion` (see scripts/schedules.ts). */
export async function putSchedule(
  ctx: ScriptContext,
  id: string,
  data: string,
  expectedVersion: number | null,
  event?: ScheduleEvent,
): Promise<number | null> {
  const expected = expectedVersion === null ? "" : expectedVersion;
  const version = await ctx.write("omniqPutSchedule", [
    ...ctx.base(),
    id,
    data,
    expected,
    ...eventArgs(id, event),
  ]);
  return version === null ? null : Number(version);
}

export async function getSchedule(ctx: ScriptContext, id: string): Promise<StoredSchedule | null> {
  const value = await ctx.client.hget(`${ctx.prefix}:schedules`, id);
  return value === null ? null : parseSchedule(id, value);
}

/** Every schedule, ordered by id. */
export async function listSchedules(ctx: ScriptContext): Promise<StoredSchedule[]> {
  const stored = await ctx.client.hgetall(`${ctx.prefix}:schedules`);
  return Object.keys(stored)
    .sort()
    .map((id) => parseSchedule(id, stored[id] as string));
}

/** Deletes a schedule with its event; false when there was none. */
export async function deleteSchedule(
  ctx: ScriptContext,
  id: string,
  event?: ScheduleEvent,
): Promise<boolean> {
  const deleted = await ctx.write("omniqDeleteSchedule", [
    ...ctx.base(),
    id,
    ...eventArgs(id, event),
  ]);
  return deleted === 1;
}
