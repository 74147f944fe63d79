// The worker's periodic I/O besides claiming: renewing its leases (and
// ending the attempts whose lease was lost or whose task is to cancel) and
// the storage's housekeeping. Failures are logged and tried again next
// round: a missed heartbeat costs nothing until the lease runs out.
import type { OmniQLogger } from "../config/logger.js";
import { toErrorInfo } from "../errors.js";
import type { HeartbeatReply, Lease, Storage } from "../storage/contract.js";
import type { Attempt, Interruption } from "./attempt.js";
import type { CompleteSettings } from "./options.js";
import type { Slots } from "./slots.js";

/** What keeping its leases needs of the worker that holds them. */
export interface LeaseHolder {
  /** The tasks held; a lost lease frees its slot. */
  readonly slots: Slots;
  readonly storage: Storage;
  readonly log: OmniQLogger;
  /** Ends an attempt early: its signal fires (see `Worker.interrupt`). */
  interrupt(attempt: Attempt, why: Interruption, reason: string): void;
}

/**
 * One heartbeat: renews the leases of the tasks held, then ends the attempts
 * whose lease was lost (another worker may run them now) or whose task was
 * asked to cancel.
 */
export async function heartbeat(holder: LeaseHolder, leaseMs: number): Promise<void> {
  const { slots, storage, log } = holder;
  const reply = await renewLeases(storage, leasesOf([...slots.held.values()]), leaseMs, log);
  if (reply === null) return;

  for (const id of reply.lost) loseLease(holder, id);
  for (const id of reply.cancelRequested) cancelHeld(holder, id);
}

/** Ends the attempt of a held task that was asked to cancel; nothing if it is not held. */
export function cancelHeld(holder: LeaseHolder, id: string): void {
  const attempt = holder.slots.held.get(id);
  if (attempt) holder.interrupt(attempt, "cancel", "cancelled while running");
}

function loseLease(holder: LeaseHolder, id: string): void {
  const attempt = holder.slots.held.get(id);
  if (!attempt) return;
  holder.log.warn({ task: id }, "lease lost: another worker may run this task");
  holder.interrupt(attempt, "lost", "the worker lost its lease on this task");
  holder.slots.release(id);
}

/** The leases the worker holds its attempts under. */
export function leasesOf(attempts: readonly Attempt[]): Lease[] {
  return attempts.map(({ task }) => ({ id: task.id, token: task.token }));
}

/** Renews `leases`; null when there were none or the heartbeat failed. */
async function renewLeases(
  storage: Storage,
  leases: readonly Lease[],
  leaseMs: number,
  log: OmniQLogger,
): Promise<HeartbeatReply | null> {
  if (leases.length === 0) return null;
  try {
    return await storage.heartbeat(leases, leaseMs);
  } catch (error) {
    log.warn({ err: toErrorInfo(error) }, "heartbeat failed; will retry");
    return null;
  }
}

/** One round of the storage's housekeeping (see `Storage.maintain`). */
export async function housekeep(
  storage: Storage,
  settings: CompleteSettings,
  log: OmniQLogger,
): Promise<void> {
  try {
    await storage.maintain({
      maxLeaseLosses: settings.maxLeaseLosses,
      eventTtlMs: settings.eventTtlMs,
    });
  } catch (error) {
    log.warn({ err: toErrorInfo(error) }, "housekeeping failed; will retry");
  }
}

/**
 * Runs `fn` every `ms`, skipping a round while the previous one still runs,
 * without keeping the process alive. Answers the timer, for `clearInterval`.
 */
export function repeat(ms: number, fn: () => Promise<void>): NodeJS.Timeout {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void fn().finally(() => {
      busy = false;
    });
  }, ms);
  timer.unref();
  return timer;
}
