// The operations that move tasks outside the claim and settle cycle:
// `unblock` (dependencies met), `requeue` (a dead letter back to pending)
// and `purge` (finished tasks deleted). Each changes a record by
// compare-and-set, as everything else here does, and then its index entry.
import type { TaskRecord } from "../../task/record.js";
import { REQUEUEABLE_STATES } from "../../task/state.js";
import type { PurgeFilter, RequeueOutcome } from "../contract.js";
import { checkPurgeStates } from "../shared/purge.js";
import { mutate, type NatsContext, writeEntry } from "./context.js";
import { deleteRecords } from "./enqueue.js";
import { appendEvents } from "./events.js";
import { releaseKeys } from "./idempotency.js";
import { allTasks } from "./inspect.js";
import { taskKey } from "./names.js";
import { readySignals } from "./signals.js";
import { requeueChange, unblockChange } from "./transitions.js";

const DEFAULT_PURGE_LIMIT = 1_000;

/** Moves blocked tasks on to waiting; answers the ids that moved. */
export async function unblock(ctx: NatsContext, ids: readonly string[]): Promise<string[]> {
  const now = ctx.clock.now();
  const moved = await Promise.all(
    [...new Set(ids)].map(async (id) => {
      const key = taskKey(id);
      const done = await mutate(ctx, key, (current) =>
        current.stored.task.state === "blocked" ? { next: unblockChange(current, now) } : null,
      );
      if (!done) return null;
      await writeEntry(ctx, key, done.after);
      return done.after.stored.task;
    }),
  );

  const tasks = moved.filter((task) => task !== null);
  ctx.signals.send(readySignals(tasks.map((task) => task.queue)));
  return tasks.map((task) => task.id);
}

/** Puts a dead letter back to pending, due now, as the contract says. */
export async function requeue(ctx: NatsContext, id: string): Promise<RequeueOutcome> {
  const key = taskKey(id);
  const now = ctx.clock.now();

  // What the last record read said, for the answer when nothing changed.
  const seen: { outcome: RequeueOutcome } = { outcome: "unknown" };
  const done = await mutate(ctx, key, (current) => {
    const { state } = current.stored.task;
    if (REQUEUEABLE_STATES.includes(state)) {
      seen.outcome = "requeued";
      return requeueChange(current, now);
    }
    seen.outcome = state === "completed" ? "completed" : "live";
    return null;
  });
  if (!done) return seen.outcome;

  await Promise.all([writeEntry(ctx, key, done.after), appendEvents(ctx, done.change.events)]);
  ctx.signals.send(readySignals([done.after.stored.task.queue]));
  return "requeued";
}

/** Deletes finished tasks matching `filter`, with their results; answers how many. */
export async function purge(ctx: NatsContext, filter: PurgeFilter): Promise<number> {
  checkPurgeStates(filter.states);
  const limit = filter.limit ?? DEFAULT_PURGE_LIMIT;
  if (limit <= 0) return 0;

  const { queue, finishedBefore } = filter;
  const doomed = (await allTasks(ctx))
    .filter(({ stored: { task } }) => {
      if (!filter.states.includes(task.state)) return false;
      if (queue !== undefined && task.queue !== queue) return false;
      return finishedBefore === undefined || (task.finishedAt ?? Infinity) < finishedBefore;
    })
    .slice(0, limit);

  // By exact revision, as result deletion does: a record changed since the scan is left alone.
  const deleted = await deleteRecords(
    ctx,
    doomed.map(({ rev }) => rev),
  );
  await releaseKeys(ctx, keysOf(doomed.map(({ stored }) => stored.task)));
  return deleted;
}

/** The idempotency keys the given tasks carry, with their ids. */
function keysOf(tasks: readonly TaskRecord[]): { key: string; id: string }[] {
  return tasks.flatMap(({ id, idempotencyKey: key }) => (key === null ? [] : [{ key, id }]));
}
