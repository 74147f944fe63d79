// Schedules: one record per schedule in the state bucket, `s.<id>`, holding
// the scheduler's data under the contract's version (1, 2, 3, ...). The
// version lives in the value because a KV revision counts the whole
// bucket's writes, not one key's; the revision is what each write compares
// and sets, so of two writers that read the same version exactly one wins.
// The event is written right after the change, as everywhere here.
import type { ScheduleEvent, StoredSchedule } from "../contract.js";
import type { NatsContext } from "./context.js";
import { appendEvents } from "./events.js";
import { readJson, WriteConflict } from "./jetstream.js";
import { bucketStream, keySubject, nameKey } from "./names.js";
import { readSlot, removeSlot, writeSlot } from "./state-bucket.js";

interface StoredValue {
  id: string;
  version: number;
  data: string;
}

const MAX_CONFLICTS = 8;

function scheduleKey(id: string): string {
  return `s.${nameKey(id)}`;
}

function logEvent(ctx: NatsContext, id: string, event: ScheduleEvent | undefined): Promise<void> {
  if (!event) return Promise.resolve();
  const { type, queue, name } = event;
  return appendEvents(ctx, [{ taskId: id, type, at: ctx.clock.now(), queue, name, attempt: 0 }]);
}

/** Writes a schedule if its version is `expectedVersion`; answers the new version or null. */
export async function putSchedule(
  ctx: NatsContext,
  id: string,
  data: string,
  expectedVersion: number | null,
  event?: ScheduleEvent,
): Promise<number | null> {
  const key = scheduleKey(id);
  const slot = await readSlot<StoredValue>(ctx, key);
  const stored = slot.value?.version ?? null;
  if (stored !== expectedVersion) return null;

  const version = (expectedVersion ?? 0) + 1;
  try {
    await writeSlot(ctx, key, { id, version, data } satisfies StoredValue, slot.rev);
  } catch (error) {
    // Every write raises the version, so a changed revision is a changed version: this one lost.
    if (error instanceof WriteConflict) return null;
    throw error;
  }
  await logEvent(ctx, id, event);
  return version;
}

/** The schedule, or null. */
export async function getSchedule(ctx: NatsContext, id: string): Promise<StoredSchedule | null> {
  const { value } = await readSlot<StoredValue>(ctx, scheduleKey(id));
  return value && { id: value.id, version: value.version, data: value.data };
}

/** Every schedule, ordered by id. */
export async function listSchedules(ctx: NatsContext): Promise<StoredSchedule[]> {
  // Every worker's scheduler lists them every second: the stream's subject
  // list and one direct get per schedule cost less than a consumer would,
  // and nothing at all when there are none.
  const bucket = ctx.names.stateBucket;
  const stream = bucketStream(bucket);
  const info = await ctx.js.api<{ state: { subjects?: Record<string, number> } }>(
    `STREAM.INFO.${stream}`,
    { subjects_filter: keySubject(bucket, "s.>") },
  );
  const messages = await Promise.all(
    Object.keys(info.state.subjects ?? {}).map((subject) =>
      ctx.js.get(stream, { last_by_subj: subject }),
    ),
  );
  return messages
    .flatMap((message) => {
      if (!message || message.operation) return [];
      const { id, version, data } = readJson<StoredValue>(message);
      return [{ id, version, data }];
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Deletes a schedule; false when there was none. */
export async function deleteSchedule(
  ctx: NatsContext,
  id: string,
  event?: ScheduleEvent,
): Promise<boolean> {
  const key = scheduleKey(id);
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
    const slot = await readSlot<StoredValue>(ctx, key);
    if (!slot.value) return false;
    try {
      await removeSlot(ctx, key, slot.rev);
    } catch (error) {
      if (error instanceof WriteConflict) continue;
      throw error;
    }
    await logEvent(ctx, id, event);
    return true;
  }
  return false;
}
