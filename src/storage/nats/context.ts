// What every operation of a NATS store shares, and the record helpers they
// all use: read a task (hiding records of an enqueue that never committed),
// change it by compare-and-set, and bring its claim-index entry in line.
import type { NatsConnection } from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";
import type { Clock } from "../contract.js";
import { ENTRY_PREFIX, encodeEntry, entryOf, MARKER_PREFIX } from "./index-entries.js";
import { type JetStream, WriteConflict } from "./jetstream.js";
import { type StoreNames, taskKey } from "./names.js";
import { decodeStored, encodeStored, orderOf, type StoredTask, type Versioned } from "./records.js";
import type { SignalBus } from "./signals.js";
import type { IndexTail } from "./tail.js";

export interface NatsContext {
  nc: NatsConnection;
  js: JetStream;
  names: StoreNames;
  clock: Clock;
  signals: SignalBus;
  /** False for a store opened with `recordEvents: false`: it writes no events. */
  recordEvents: boolean;
  /** This handle's claim index, started on first use. */
  index(): Promise<IndexTail>;
  /** Records of the tasks this handle holds, as last written: most changes need no read first. */
  held: Map<string, Versioned>;
  /** Tasks this handle's claims are taking right now, so concurrent claims pass them by. */
  claiming: Set<string>;
  /** Index entries a claim found out of line with their record, for `maintain` to check. */
  suspects: Set<string>;
  /** Enqueue batches known to have committed. */
  committed: Set<string>;
}

const MAX_RETRIES = 8;
const MAX_REMEMBERED = 100_000;

/** Remembers `value` in a set that is emptied when it grows too big (a cache, not a record). */
export function remember(set: Set<string>, value: string): void {
  if (set.size >= MAX_REMEMBERED) set.clear();
  set.add(value);
}

/** Keeps the record this handle wrote for a task it holds. */
export function hold(ctx: NatsContext, versioned: Versioned): void {
  if (ctx.held.size >= MAX_REMEMBERED) ctx.held.clear();
  ctx.held.set(versioned.stored.task.id, versioned);
}

async function isCommitted(ctx: NatsContext, batch: string): Promise<boolean> {
  if (ctx.committed.has(batch)) return true;
  const marker = await ctx.js.getKey(ctx.names.indexBucket, `${MARKER_PREFIX}${batch}`);
  if (marker) remember(ctx.committed, batch);
  return marker !== null;
}

/**
 * The task's record at its latest revision, or null when it does not exist (or never committed).
 */
export async function readTask(ctx: NatsContext, key: string): Promise<Versioned | null> {
  const message = await ctx.js.getKey(ctx.names.tasksBucket, key);
  if (!message) return null;

  const versioned = decodeStored(message);
  const { batch } = versioned.stored;
  if (batch === undefined || (await isCommitted(ctx, batch))) return versioned;

  // The marker goes once every task of its batch has been changed, so a
  // record read just before its change and checked just after is read again.
  const again = await ctx.js.getKey(ctx.names.tasksBucket, key);
  if (!again || again.seq === message.seq) return null;
  return readTask(ctx, key);
}

export function readTaskById(ctx: NatsContext, id: string): Promise<Versioned | null> {
  return readTask(ctx, taskKey(id));
}

/** Writes `next` over the revision `rev` read; throws WriteConflict when it changed since. */
export async function writeTask(
  ctx: NatsContext,
  key: string,
  next: StoredTask,
  rev: number,
): Promise<Versioned> {
  const written = await ctx.js.put(ctx.names.tasksBucket, key, encodeStored(next), rev);
  return { stored: next, rev: written };
}

/** Brings the task's index entry in line with its record: written, or deleted once final. */
export async function writeEntry(ctx: NatsContext, key: string, task: Versioned): Promise<void> {
  const entry = entryOf(key, task.stored, orderOf(task));
  const indexKey = `${ENTRY_PREFIX}${key}`;
  if (entry) await ctx.js.put(ctx.names.indexBucket, indexKey, encodeEntry(entry));
  else await ctx.js.remove(ctx.names.indexBucket, indexKey);
}

/**
 * Changes one task by compare-and-set: `decide` looks at the current record
 * and answers the change to make, or null when none applies. `known` is a
 * record this handle wrote earlier, to save a read; when it turns out stale
 * (the compare-and-set fails, or `decide` declines it), the record is read
 * afresh and `decide` asked again.
 */
export async function mutate<T extends { next: StoredTask }>(
  ctx: NatsContext,
  key: string,
  decide: (current: Versioned) => T | null,
  known?: Versioned,
): Promise<{ change: T; before: Versioned; after: Versioned } | null> {
  let current = known ?? (await readTask(ctx, key));
  let fresh = known === undefined;
  for (let attempt = 0; attempt < MAX_RETRIES; attempt += 1) {
    if (!current) return null;
    const change = decide(current);
    if (!change && fresh) return null;

    if (change) {
      try {
        const after = await writeTask(ctx, key, change.next, current.rev);
        return { change, before: current, after };
      } catch (error) {
        if (!(error instanceof WriteConflict)) throw error;
      }
    }
    current = await readTask(ctx, key);
    fresh = true;
  }
  throw new StorageError(
    `task record ${key} kept changing under ${MAX_RETRIES} attempts to update it`,
  );
}
