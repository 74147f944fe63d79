// Reads and writes of the state bucket (idempotency keys, permits,
// schedules): small JSON records, each changed by compare-and-set on the
// revision it was read at. A key deleted before reads as absent, with the
// revision of its delete marker, which is what the next create must expect.
import type { NatsContext } from "./context.js";
import { readJson } from "./jetstream.js";
import { bucketStream, keySubject } from "./names.js";

/** A record of the state bucket with the revision to compare against; `value` null when absent. */
export interface Slot<T> {
  value: T | null;
  /** The key's last revision, 0 when it never had one. */
  rev: number;
}

export async function readSlot<T>(ctx: NatsContext, key: string): Promise<Slot<T>> {
  const bucket = ctx.names.stateBucket;
  const message = await ctx.js.get(bucketStream(bucket), { last_by_subj: keySubject(bucket, key) });
  if (!message) return { value: null, rev: 0 };
  if (message.operation) return { value: null, rev: message.seq };
  return { value: readJson<T>(message), rev: message.seq };
}

/** Writes `value` if the key is still at `rev`; throws WriteConflict when it is not. */
export function writeSlot(
  ctx: NatsContext,
  key: string,
  value: unknown,
  rev: number,
): Promise<number> {
  return ctx.js.put(ctx.names.stateBucket, key, JSON.stringify(value), rev);
}

/** Deletes the key if it is still at `rev`; throws WriteConflict when it is not. */
export function removeSlot(ctx: NatsContext, key: string, rev: number): Promise<number> {
  return ctx.js.remove(ctx.names.stateBucket, key, rev);
}

/** Waits `ms` milliseconds. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
