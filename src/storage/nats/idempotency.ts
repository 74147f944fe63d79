// Idempotency keys. Each key is one entry of the state bucket, `k.<key>`,
// naming the task that took it. An entry is not the truth about the key, the
// task it names is: the key is held only while that task exists, is not
// final and still carries the key (requeue clears it). So correctness never
// depends on releasing a key: an entry left behind by a finished, deleted
// or abandoned task is simply taken over.
//
// Taking a key is a compare-and-set on its entry (create, or replace the
// revision found stale), made after the batch's records are created and
// before its commit (enqueue.ts): of two enqueues racing for one key, over
// any handles, exactly one writes the entry; the other finds the winner's
// task, waits for its batch to commit or fail, and answers its id. Two
// batches that each took a key the other wants would wait for each other,
// so a batch waits only for batches whose id sorts before its own, and
// yields to the others: it undoes itself and starts again.
//
// Entries of tasks deleted (purged, or their result time-to-live passed) are
// deleted with them, so the bucket does not keep every key ever used.
import { StorageError } from "../../errors.js";
import type { NewTask } from "../../task/record.js";
import { isFinal } from "../../task/state.js";
import { type NatsContext, readTaskById } from "./context.js";
import type { BatchHook, Staged } from "./enqueue.js";
import { WriteConflict } from "./jetstream.js";
import { nameKey, taskKey } from "./names.js";
import { ABANDONED_AFTER_MS, decodeStored } from "./records.js";
import { pause, readSlot, removeSlot, writeSlot } from "./state-bucket.js";

interface KeyEntry {
  id: string;
}

/**
 * Who holds a key: a task that keeps it, nobody (the entry's revision to
 * replace), or not known until the enqueue of batch `pending` ends.
 */
type Holding = { live: string } | { free: number } | { pending: string };

/** A batch met a key taken by a batch it must not wait for. */
class Yield extends Error {
  override name = "Yield";
}

type StoreBatch = (
  ctx: NatsContext,
  tasks: readonly NewTask[],
  hook?: BatchHook,
) => Promise<NewTask[]>;

const MAX_CONFLICTS = 8;
const MAX_YIELDS = 8;
/** How long to wait for another enqueue holding a key to commit or fail. */
const PENDING_WAIT_MS = 5_000;

function entryKey(key: string): string {
  return `k.${nameKey(key)}`;
}

/** Enqueue of a batch where some tasks carry keys: one id per task, its own or the holder's. */
export async function enqueueKeyed(
  ctx: NatsContext,
  tasks: readonly NewTask[],
  store: StoreBatch,
): Promise<string[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await attemptKeyed(ctx, tasks, store);
    } catch (error) {
      if (!(error instanceof Yield) || attempt >= MAX_YIELDS) throw error;
      // The batch it yielded to commits or fails meanwhile; a little jitter keeps retries apart.
      await pause(attempt * 5 + Math.floor(Math.random() * 10));
    }
  }
}

async function attemptKeyed(
  ctx: NatsContext,
  tasks: readonly NewTask[],
  store: StoreBatch,
): Promise<string[]> {
  // The first task of the batch with a key speaks for the later ones.
  const firsts = new Map<string, NewTask>();
  for (const task of tasks) {
    const key = task.idempotencyKey;
    if (key != null && !firsts.has(key)) firsts.set(key, task);
  }

  // Keys held already are known before any record is made: most repeats cost one read.
  const holders = new Map<string, string>();
  const free = new Map<string, number>();
  await Promise.all(
    [...firsts.keys()].map(async (key) => {
      const holding = await settledHolding(ctx, key);
      if ("live" in holding) holders.set(key, holding.live);
      else free.set(key, holding.free);
    }),
  );

  const candidates = tasks.filter((task) => {
    const key = task.idempotencyKey;
    return key == null || (!holders.has(key) && firsts.get(key) === task);
  });
  if (candidates.length > 0) await store(ctx, candidates, keyHook(ctx, free, holders));

  return tasks.map((task) => {
    const key = task.idempotencyKey;
    if (key == null) return task.id;
    return holders.get(key) ?? (firsts.get(key) as NewTask).id;
  });
}

/** Takes the keys of the staged tasks; a task whose key another task took meanwhile is dropped. */
function keyHook(
  ctx: NatsContext,
  free: ReadonlyMap<string, number>,
  holders: Map<string, string>,
): BatchHook {
  const taken: { key: string; rev: number }[] = [];
  return {
    async run(staged: readonly Staged[]): Promise<ReadonlySet<number>> {
      const dropped = new Set<number>();
      await Promise.all(
        staged.map(async ({ stored }, i) => {
          const { id, idempotencyKey: key } = stored.task;
          if (key === null) return;
          const batch = stored.batch as string;
          const outcome = await takeKey(ctx, key, id, batch, free.get(key) ?? 0);
          if ("rev" in outcome) taken.push({ key, rev: outcome.rev });
          else {
            holders.set(key, outcome.holder);
            dropped.add(i);
          }
        }),
      );
      return dropped;
    },
    async undo(): Promise<void> {
      // Not needed for correctness (the entries name tasks that never committed), only tidy.
      await Promise.allSettled(taken.map(({ key, rev }) => removeSlot(ctx, entryKey(key), rev)));
    },
  };
}

/** Writes the key's entry for task `id` over revision `rev`; or answers who holds it instead. */
async function takeKey(
  ctx: NatsContext,
  key: string,
  id: string,
  batch: string,
  rev: number,
): Promise<{ rev: number } | { holder: string }> {
  let expected = rev;
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
    try {
      const entry: KeyEntry = { id };
      return { rev: await writeSlot(ctx, entryKey(key), entry, expected) };
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
    }
    const holding = await settledHolding(ctx, key, batch);
    if ("live" in holding) return { holder: holding.live };
    expected = holding.free;
  }
  throw new StorageError(`the idempotency key "${key}" kept changing; try again`);
}

/**
 * The key's holding once no enqueue that took it is still in progress.
 * `batch` is the caller's own, when it holds keys already: it then waits
 * only for batches ordered before it, and throws Yield for the others.
 */
async function settledHolding(
  ctx: NatsContext,
  key: string,
  batch?: string,
): Promise<{ live: string } | { free: number }> {
  const started = Date.now();
  for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
    const holding = await holdingOf(ctx, key);
    if (!("pending" in holding)) return holding;
    if (batch !== undefined && holding.pending > batch) throw new Yield(key);
    if (Date.now() - started > PENDING_WAIT_MS) {
      throw new StorageError(
        `the idempotency key "${key}" is held by an enqueue still in progress; try again`,
      );
    }
    await pause(wait);
  }
}

async function holdingOf(ctx: NatsContext, key: string): Promise<Holding> {
  const slot = await readSlot<KeyEntry>(ctx, entryKey(key));
  if (!slot.value) return { free: slot.rev };

  const { id } = slot.value;
  const holder = await readTaskById(ctx, id);
  if (holder) {
    const { state, idempotencyKey } = holder.stored.task;
    return !isFinal(state) && idempotencyKey === key ? { live: id } : { free: slot.rev };
  }

  // Not visible: deleted, or created by an enqueue that has not committed (yet, or ever).
  const raw = await ctx.js.getKey(ctx.names.tasksBucket, taskKey(id));
  if (!raw) return { free: slot.rev };
  const { stored } = decodeStored(raw);
  const young = (stored.stagedAt ?? 0) + ABANDONED_AFTER_MS > ctx.clock.now();
  return stored.batch !== undefined && young && stored.task.idempotencyKey === key
    ? { pending: stored.batch }
    : { free: slot.rev };
}

/** Deletes the entries of keys whose holders were just deleted, unless taken again meanwhile. */
export async function releaseKeys(
  ctx: NatsContext,
  released: readonly { key: string; id: string }[],
): Promise<void> {
  await Promise.allSettled(
    released.map(async ({ key, id }) => {
      const slot = await readSlot<KeyEntry>(ctx, entryKey(key));
      if (slot.value?.id !== id) return;
      const holding = await holdingOf(ctx, key);
      // A conflict means the key was taken since: that entry stays.
      if ("free" in holding) await removeSlot(ctx, entryKey(key), slot.rev);
    }),
  );
}
