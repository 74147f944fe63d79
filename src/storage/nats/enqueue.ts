// Enqueue, all or nothing, on a server without multi-message transactions
// (NATS 2.9 has no atomic batch publish). Two steps:
//
// 1. Each record is created in the tasks bucket with "only if new"
//    (expected last sequence 0), all sent at once. This is also the
//    duplicate check. A created record carries its batch id and, until the
//    batch commits, reads as absent (see readTask) and is in no claim index.
// 2. One message in the index bucket, the commit marker, lists every task
//    of the batch. Writing it is the single atomic step that makes the whole
//    batch visible and claimable at once.
//
// When step 1 fails for any task, the records it did create are deleted and
// the enqueue throws: none of the batch was ever visible. A process that
// dies between the steps leaves records nobody sees; a later enqueue of the
// same id replaces them once they are a minute old.
//
// Tasks with idempotency keys take their keys between the two steps
// (idempotency.ts); a task whose key turns out held is dropped before the
// commit, which makes the key check and the insert one step as well.
import { nuid } from "@nats-io/transport-node";
import { DuplicateTaskError, InvalidArgumentError, StorageError } from "../../errors.js";
import type { NewTask } from "../../task/record.js";
import { type NatsContext, readTask, remember } from "./context.js";
import { appendEvents } from "./events.js";
import { enqueueKeyed } from "./idempotency.js";
import { encodeMarker, entryOf, type IndexEntry, MARKER_PREFIX } from "./index-entries.js";
import { WriteConflict } from "./jetstream.js";
import { bucketStream, taskKey } from "./names.js";
import {
  ABANDONED_AFTER_MS,
  decodeStored,
  encodeStored,
  newStoredTask,
  type StoredTask,
} from "./records.js";
import { readySignals } from "./signals.js";
import { eventOf } from "./transitions.js";

/** A task's record, created but not yet committed. */
export interface Staged {
  key: string;
  stored: StoredTask;
}

/**
 * Runs between creating a batch's records and committing them (idempotency
 * keys, see idempotency.ts): answers the positions of tasks not to store
 * after all. `undo` is called when the batch does not commit.
 */
export interface BatchHook {
  run(staged: readonly Staged[]): Promise<ReadonlySet<number>>;
  undo(): Promise<void>;
}

/** Stores the tasks all or none; answers one id per task (a key's holder's, where held). */
export async function enqueue(ctx: NatsContext, tasks: readonly NewTask[]): Promise<string[]> {
  if (tasks.length === 0) return [];
  if (tasks.some((task) => task.idempotencyKey != null)) {
    return enqueueKeyed(ctx, tasks, storeBatch);
  }

  await storeBatch(ctx, tasks);
  return tasks.map((task) => task.id);
}

/** Stores `tasks` all or none (less those `hook` drops); answers the tasks stored. */
export async function storeBatch(
  ctx: NatsContext,
  tasks: readonly NewTask[],
  hook?: BatchHook,
): Promise<NewTask[]> {
  rejectRepeatedIds(tasks);

  const now = ctx.clock.now();
  const batch = nuid.next();
  let staged: Staged[] = tasks.map((task) => ({
    key: taskKey(task.id),
    stored: newStoredTask(task, now, batch),
  }));
  checkMarkerSize(ctx, staged);

  let revisions = await createRecords(ctx, staged, now);
  if (hook) {
    let dropped: ReadonlySet<number>;
    try {
      dropped = await hook.run(staged);
    } catch (error) {
      await Promise.allSettled([deleteRecords(ctx, revisions), hook.undo()]);
      throw error;
    }
    // Records of dropped tasks were never visible: deleting them is all it takes.
    await deleteRecords(
      ctx,
      revisions.filter((_, i) => dropped.has(i)),
    );
    staged = staged.filter((_, i) => !dropped.has(i));
    revisions = revisions.filter((_, i) => !dropped.has(i));
    if (staged.length === 0) return [];
  }

  const entries = staged.map(
    ({ key, stored }, i) => entryOf(key, stored, revisions[i] as number) as IndexEntry,
  );
  try {
    await ctx.js.put(ctx.names.indexBucket, `${MARKER_PREFIX}${batch}`, encodeMarker(entries), 0);
  } catch (error) {
    await Promise.allSettled([deleteRecords(ctx, revisions), hook?.undo()]);
    throw new StorageError("the enqueue could not be committed; nothing was stored", {
      cause: error,
    });
  }
  remember(ctx.committed, batch);

  await announce(ctx, staged, now);
  return staged.map(({ stored }) => stored.task);
}

/** The enqueued events, then the ready signals (so no claim elsewhere logs its start first). */
async function announce(ctx: NatsContext, staged: readonly Staged[], now: number): Promise<void> {
  try {
    await appendEvents(
      ctx,
      staged.map(({ stored }) => eventOf(stored.task, "enqueued", now)),
    );
  } catch (error) {
    throw new StorageError("the tasks were stored, but some of their enqueued events were not", {
      cause: error,
    });
  } finally {
    ctx.signals.send(readySignals(staged.map(({ stored }) => stored.task.queue)));
  }
}

function rejectRepeatedIds(tasks: readonly NewTask[]): void {
  const ids = new Set<string>();
  for (const task of tasks) {
    if (ids.has(task.id)) throw new DuplicateTaskError(task.id);
    ids.add(task.id);
  }
}

/** The commit marker is one message, so the batch must fit the server's message size. */
function checkMarkerSize(ctx: NatsContext, staged: readonly Staged[]): void {
  const limit = ctx.nc.info?.max_payload ?? 1_048_576;
  const sample = staged.map(({ key, stored }) => entryOf(key, stored, 1e12) as IndexEntry);
  const size = Buffer.byteLength(encodeMarker(sample));
  if (size > limit - 1_024) {
    throw new InvalidArgumentError(
      `a batch of ${staged.length} tasks needs a ${size}-byte commit message, over the ` +
        `NATS server's max_payload of ${limit}; enqueue it in smaller batches`,
    );
  }
}

/** Creates every record; answers their revisions, or undoes what it made and throws. */
async function createRecords(
  ctx: NatsContext,
  staged: readonly Staged[],
  now: number,
): Promise<number[]> {
  for (let round = 0; ; round += 1) {
    const results = await Promise.allSettled(
      staged.map(({ key, stored }) =>
        ctx.js.put(ctx.names.tasksBucket, key, encodeStored(stored), 0),
      ),
    );
    const made = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    if (made.length === staged.length) return made;

    await deleteRecords(ctx, made);
    const conflicts = staged.filter((_, i) => {
      const result = results[i];
      return result?.status === "rejected" && result.reason instanceof WriteConflict;
    });
    const other = results.find(
      (r) => r.status === "rejected" && !(r.reason instanceof WriteConflict),
    );
    if (other?.status === "rejected") {
      throw new StorageError("the enqueue failed; nothing was stored", { cause: other.reason });
    }

    if (round > 0 || !(await clearAbandoned(ctx, conflicts, now))) {
      throw new DuplicateTaskError(conflicts[0]?.stored.task.id ?? "");
    }
  }
}

/** Deletes records an interrupted enqueue left behind; false when any conflict is a real task. */
async function clearAbandoned(
  ctx: NatsContext,
  conflicts: readonly Staged[],
  now: number,
): Promise<boolean> {
  const stale: number[] = [];
  for (const { key } of conflicts) {
    if (await readTask(ctx, key)) return false;

    const raw = await ctx.js.getKey(ctx.names.tasksBucket, key);
    if (!raw) continue;
    const { stored, rev } = decodeStored(raw);
    if ((stored.stagedAt ?? now) + ABANDONED_AFTER_MS > now) return false;
    stale.push(rev);
  }
  await deleteRecords(ctx, stale);
  return true;
}

/** Removes record messages by sequence: exact, and leaving no delete marker behind. */
export async function deleteRecords(
  ctx: NatsContext,
  revisions: readonly number[],
): Promise<number> {
  const stream = bucketStream(ctx.names.tasksBucket);
  const answers = await Promise.all(
    revisions.map((seq) =>
      ctx.js
        .apiOrError<{ success?: boolean }>(`STREAM.MSG.DELETE.${stream}`, { seq, no_erase: true })
        .catch(() => ({ success: false })),
    ),
  );
  return answers.filter((a) => "success" in a && a.success === true).length;
}
