// The worker's periodic I/O besides claiming: renewing its leases and the
// storage's housekeeping. Failures are logged and tried again next round:
// a missed heartbeat costs nothing until the lease runs out.
import type { OmniQLogger } from "../config/logger.js";
import { toErrorInfo } from "../errors.js";
import type { HeartbeatReply, Lease, Storage } from "../storage/contract.js";
import type { Attempt } from "./attempt.js";
import type { CompleteSettings } from "./options.js";

/** The leases the worker holds its attempts under. */
export function leasesOf(attempts: readonly Attempt[]): Lease[] {
  return attempts.map(({ task }) => ({ id: task.id, token: task.token }));
}

/** Renews `leases`; null when there were none or the heartbeat failed. */
export async function renewLeases(
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
