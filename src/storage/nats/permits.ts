// Permits for queues with a concurrency or rate limit. The claims of every
// handle on such a queue meet at one record of the state bucket,
// `p.<queue>`, changed by compare-and-set:
//
//   { reserved: { <claim>: { n, at } }, window: { start, count } | null }
//
// A claim first reserves what it may take (the permits), then takes tasks,
// then gives back the reservation, and in the rate window the permits it
// did not use. What a limit compares:
//
// - concurrency: the queue's running tasks as the claim index shows them,
//   plus the permits other claims hold right now. The record is read before
//   the index catches up, so a claim whose reservation is already gone has
//   its tasks' running entries in the index by then: nothing is missed
//   between the two. (Counted twice for a moment is only cautious.)
// - rate: the claims counted in the current window, which starts at a
//   multiple of the interval since the epoch.
//
// A claimer that dies holding permits leaves a reservation behind; it is
// dropped once older than a claim can take, by the machine's own clock.
import { nuid } from "@nats-io/transport-node";
import { StorageError } from "../../errors.js";
import type { NatsContext } from "./context.js";
import { WriteConflict } from "./jetstream.js";
import { nameKey } from "./names.js";
import { readSlot, type Slot, writeSlot } from "./state-bucket.js";
import type { IndexTail } from "./tail.js";

interface Permits {
  /** Permits held by claims under way: how many, and since when (`Date.now()`). */
  reserved: Record<string, { n: number; at: number }>;
  /** The current rate window: its start and the claims counted in it. */
  window: { start: number; count: number } | null;
}

/** What a claim may take from a queue; `id` null when nothing was written (no limits). */
export interface Reservation {
  granted: number;
  id: string | null;
  windowStart: number | null;
  /** The record as this claim wrote it, to give the permits back without reading it again. */
  written: Slot<Permits> | null;
}

const MAX_CONFLICTS = 16;
/** A reservation older than this belongs to a claimer that died. */
const STALE_AFTER_MS = 30_000;

function permitKey(queue: string): string {
  return `p.${nameKey(queue)}`;
}

/** Reserves up to `wanted` permits of `queue`; `granted` 0 when the limits allow none now. */
export async function reserve(
  ctx: NatsContext,
  index: IndexTail,
  queue: string,
  wanted: number,
  now: number,
): Promise<Reservation> {
  const key = permitKey(queue);
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
    const slot = await readSlot<Permits>(ctx, key);
    await index.sync();

    const control = index.view.controls.get(queue);
    if (control?.paused) return { granted: 0, id: null, windowStart: null, written: null };
    if (!control || (control.concurrency === null && control.rateLimit === null)) {
      return { granted: wanted, id: null, windowStart: null, written: null };
    }

    const permits = withoutStale(slot.value);
    let granted = wanted;
    if (control.concurrency !== null) {
      const held = Object.values(permits.reserved).reduce((sum, { n }) => sum + n, 0);
      granted = Math.min(granted, control.concurrency - index.view.runningIn(queue) - held);
    }
    if (control.rateLimit !== null) {
      const { max, intervalMs } = control.rateLimit;
      const start = Math.floor(now / intervalMs) * intervalMs;
      const count = permits.window?.start === start ? permits.window.count : 0;
      granted = Math.min(granted, max - count);
      permits.window = { start, count: count + Math.max(granted, 0) };
    } else {
      permits.window = null;
    }
    if (granted <= 0) return { granted: 0, id: null, windowStart: null, written: null };

    const id = nuid.next();
    permits.reserved[id] = { n: granted, at: Date.now() };
    try {
      const rev = await writeSlot(ctx, key, permits, slot.rev);
      const windowStart = permits.window?.start ?? null;
      return { granted, id, windowStart, written: { value: permits, rev } };
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
    }
  }
  throw new StorageError(`the permits of queue "${queue}" kept changing; try again`);
}

/** Ends a reservation: its permits go, and those not `used` return to the rate window. */
export async function giveBack(
  ctx: NatsContext,
  queue: string,
  reservation: Reservation,
  used: number,
): Promise<void> {
  const { id, windowStart, granted } = reservation;
  if (id === null) return;

  const key = permitKey(queue);
  let slot = reservation.written ?? (await readSlot<Permits>(ctx, key));
  for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
    const current = slot.value;
    // Gone already: dropped as stale by another claim, or the record was reset.
    if (!current?.reserved[id]) return;

    const next: Permits = { reserved: { ...current.reserved }, window: current.window };
    delete next.reserved[id];
    if (next.window && next.window.start === windowStart) {
      next.window = { ...next.window, count: next.window.count - (granted - used) };
    }
    try {
      await writeSlot(ctx, key, next, slot.rev);
      return;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
    }
    slot = await readSlot<Permits>(ctx, key);
  }
  throw new StorageError(`the permits of queue "${queue}" kept changing; try again`);
}

/** A copy of the stored permits without the reservations of claimers that died. */
function withoutStale(permits: Permits | null): Permits {
  const reserved: Permits["reserved"] = {};
  const oldest = Date.now() - STALE_AFTER_MS;
  for (const [id, held] of Object.entries(permits?.reserved ?? {})) {
    if (held.at > oldest) reserved[id] = held;
  }
  return { reserved, window: permits?.window ?? null };
}
