// Heartbeat and release: changes a worker makes to tasks it holds. Both
// start from the record this handle wrote last (kept in `held`), so a
// heartbeat is one compare-and-set and one index write; when someone else
// changed the record meanwhile (a cancel request, an expired lease), the
// compare-and-set fails and the record is read afresh.
import type { HeartbeatReply, Lease } from "../contract.js";
import { hold, mutate, type NatsContext, writeEntry } from "./context.js";
import { taskKey } from "./names.js";
import type { Versioned } from "./records.js";
import { readySignals } from "./signals.js";
import { heartbeatChange, releaseChange } from "./transitions.js";

/** Whether `current` is still running under `lease`. */
export function holds(current: Versioned, lease: Lease): boolean {
  const task = current.stored.task;
  return task.state === "running" && task.token === lease.token;
}

export async function heartbeat(
  ctx: NatsContext,
  leases: readonly Lease[],
  leaseMs: number,
): Promise<HeartbeatReply> {
  const now = ctx.clock.now();
  const outcomes = await Promise.all(
    leases.map(async (lease) => {
      const key = taskKey(lease.id);
      const done = await mutate(
        ctx,
        key,
        (current) =>
          holds(current, lease) ? { next: heartbeatChange(current, leaseMs, now) } : null,
        ctx.held.get(lease.id),
      );
      if (!done) {
        ctx.held.delete(lease.id);
        return "lost";
      }

      hold(ctx, done.after);
      await writeEntry(ctx, key, done.after);
      return done.after.stored.task.cancelRequested ? "cancel" : "held";
    }),
  );

  return {
    lost: leases.filter((_, i) => outcomes[i] === "lost").map((lease) => lease.id),
    cancelRequested: leases.filter((_, i) => outcomes[i] === "cancel").map((lease) => lease.id),
  };
}

export async function release(ctx: NatsContext, leases: readonly Lease[]): Promise<void> {
  const queues = await Promise.all(
    leases.map(async (lease) => {
      const key = taskKey(lease.id);
      const done = await mutate(
        ctx,
        key,
        (current) => (holds(current, lease) ? { next: releaseChange(current) } : null),
        ctx.held.get(lease.id),
      );
      ctx.held.delete(lease.id);
      if (!done) return null;

      await writeEntry(ctx, key, done.after);
      return done.after.stored.task.queue;
    }),
  );
  ctx.signals.send(readySignals(queues.filter((q): q is string => q !== null)));
}
