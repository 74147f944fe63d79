// The OmniQ facade's flow controls (pause, resume, limits) and dead-letter
// operations (purge), checked here so that backends receive valid values.
import { InvalidArgumentError } from "../errors.js";
import type { QueueControl, Storage } from "../storage/contract.js";
import { checkPurgeStates } from "../storage/shared/purge.js";
import { FINAL_STATES, type TaskState } from "../task/state.js";
import { type Duration, toMs } from "../util/duration.js";

/** Limits of a queue that hold across every worker; null removes one. */
export interface QueueLimits {
  /** At most this many of the queue's tasks running at once. */
  concurrency?: number | null;
  /** At most `max` tasks started per `interval` (fixed windows). */
  rateLimit?: { max: number; interval: Duration } | null;
}

/** What `purge` deletes. */
export interface PurgeOptions {
  /** Final states to delete. @default ["completed", "failed", "cancelled", "expired"] */
  states?: TaskState[];
  queue?: string;
  /** Only tasks that finished at least this long ago. */
  olderThan?: Duration;
  /** Told the running total after each batch, to show progress. */
  onProgress?: (deleted: number) => void;
}

const OPEN: QueueControl = { paused: false, concurrency: null, rateLimit: null };

/** Reads a queue's control, changes it, and writes it back. */
export async function updateControl(
  storage: Storage,
  queue: string,
  change: (control: QueueControl) => QueueControl,
): Promise<void> {
  const current = (await storage.queueControls())[queue] ?? OPEN;
  await storage.setQueueControl(queue, change({ ...current }));
}

/** The control with `limits` applied, each checked. */
export function withLimits(control: QueueControl, limits: QueueLimits): QueueControl {
  const next = { ...control };
  if (limits.concurrency !== undefined) {
    const value = limits.concurrency;
    if (value !== null && (!Number.isInteger(value) || value < 1 || value > 1_000_000)) {
      throw new InvalidArgumentError(
        `setQueueLimits concurrency: ${String(value)} is not allowed; use a whole number from 1 to 1000000, or null`,
      );
    }
    next.concurrency = value;
  }
  if (limits.rateLimit !== undefined) {
    next.rateLimit = limits.rateLimit === null ? null : pickRate(limits.rateLimit);
  }
  return next;
}

function pickRate(rate: { max: number; interval: Duration }) {
  if (!Number.isInteger(rate.max) || rate.max < 1 || rate.max > 1_000_000_000) {
    throw new InvalidArgumentError(
      `setQueueLimits rateLimit.max: ${String(rate.max)} is not allowed; use a whole number from 1 up`,
    );
  }
  const intervalMs = toMs(rate.interval, "setQueueLimits rateLimit.interval");
  if (intervalMs < 1) {
    throw new InvalidArgumentError("setQueueLimits rateLimit.interval: must be at least 1 ms");
  }
  return { max: rate.max, intervalMs };
}

/** Deletes finished tasks batch by batch until none is left; answers how many. */
export async function purgeAll(storage: Storage, options: PurgeOptions, now: number) {
  const states = options.states ?? [...FINAL_STATES];
  checkPurgeStates(states);
  const finishedBefore =
    options.olderThan === undefined ? undefined : now - toMs(options.olderThan, "purge olderThan");

  let deleted = 0;
  for (;;) {
    const batch = await storage.purge({ states, queue: options.queue, finishedBefore });
    if (batch === 0) return deleted;
    deleted += batch;
    options.onProgress?.(deleted);
  }
}
