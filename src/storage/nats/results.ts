// When finished tasks may be deleted. KV has no per-key time-to-live on this
// server (2.9) and the contract's clock is the caller's, not the server's,
// so every transition to a final state also writes a note: which record
// revision to delete at which time. Notes go to a subject per minute of
// their first deletion time, so `maintain` reads only the minutes that have
// come, never the whole store.

import { scan } from "./consumer.js";
import type { NatsContext } from "./context.js";
import { deleteRecords } from "./enqueue.js";
import { releaseKeys } from "./idempotency.js";
import { readJson } from "./jetstream.js";
import { expirySubject, taskIdOf } from "./names.js";
import type { Versioned } from "./records.js";

const MINUTE_MS = 60_000;

/** [task key, delete at, record revision, idempotency key if the task had one]. */
type NoteItem = [string, number, number, string?];

function minuteOf(time: number): number {
  return Math.floor(time / MINUTE_MS);
}

/** Writes the deletion notes of tasks that just reached a final state. */
export async function noteFinished(
  ctx: NatsContext,
  finished: readonly { key: string; after: Versioned }[],
): Promise<void> {
  const byMinute = new Map<number, NoteItem[]>();
  for (const { key, after } of finished) {
    const task = after.stored.task;
    const deleteAt = (task.finishedAt ?? 0) + task.resultTtlMs;
    const items = byMinute.get(minuteOf(deleteAt)) ?? [];
    const item: NoteItem = [key, deleteAt, after.rev];
    if (task.idempotencyKey !== null) item.push(task.idempotencyKey);
    items.push(item);
    byMinute.set(minuteOf(deleteAt), items);
  }
  await writeNotes(ctx, byMinute);
}

async function writeNotes(ctx: NatsContext, byMinute: Map<number, NoteItem[]>): Promise<void> {
  await Promise.all(
    [...byMinute].map(([minute, items]) =>
      ctx.js.publish(expirySubject(ctx.names, minute), JSON.stringify(items)),
    ),
  );
}

/** Deletes the finished tasks whose result time-to-live has passed by `now`; answers how many. */
export async function deleteDueResults(ctx: NatsContext, now: number): Promise<number> {
  const info = await ctx.js.api<{ state: { subjects?: Record<string, number> } }>(
    `STREAM.INFO.${ctx.names.expiryStream}`,
    { subjects_filter: expirySubject(ctx.names, "*") },
  );
  const dueSubjects = Object.keys(info.state.subjects ?? {}).filter((subject) => {
    const minute = Number(subject.slice(subject.lastIndexOf(".") + 1));
    return minute * MINUTE_MS <= now;
  });

  let deleted = 0;
  for (const subject of dueSubjects) deleted += await processMinute(ctx, subject, now);
  return deleted;
}

async function processMinute(ctx: NatsContext, subject: string, now: number): Promise<number> {
  const notes: { seq: number; items: NoteItem[] }[] = [];
  await scan(
    ctx.nc,
    ctx.js,
    { stream: ctx.names.expiryStream, filter: subject, start: { seq: 1 } },
    (message) => notes.push({ seq: message.seq, items: readJson<NoteItem[]>(message) }),
  );

  const due = notes.flatMap((note) => note.items.filter(([, deleteAt]) => deleteAt <= now));
  const later = notes.flatMap((note) => note.items.filter(([, deleteAt]) => deleteAt > now));

  // A record is deleted by its exact revision: one that has changed since is left alone.
  const deleted = await deleteRecords(
    ctx,
    due.map(([, , rev]) => rev),
  );
  await releaseKeys(
    ctx,
    due.flatMap(([key, , , idempotencyKey]) =>
      idempotencyKey === undefined ? [] : [{ key: idempotencyKey, id: taskIdOf(key) }],
    ),
  );

  // Notes not yet due go back as one new note; then the old notes go.
  if (later.length > 0) await writeNotes(ctx, new Map([[minuteOf(later[0]?.[1] ?? now), later]]));
  await Promise.all(
    notes.map(({ seq }) =>
      ctx.js
        .apiOrError(`STREAM.MSG.DELETE.${ctx.names.expiryStream}`, { seq, no_erase: true })
        .catch(() => undefined),
    ),
  );
  return deleted;
}
