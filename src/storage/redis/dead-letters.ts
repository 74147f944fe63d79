import type { TaskState } from "../../task/state.js";
import type { PurgeFilter, RequeueOutcome } from "../contract.js";
import { checkPurgeStates } from "../shared/purge.js";
import type { ScriptContext } from "./context.js";
import { requeuedStored } from "./hash.js";

/** Index entries one purge script reads at most, so none blocks the server for long. */
const PURGE_CHUNK = 500;

/** @default of `PurgeFilter.limit`. */
const PURGE_LIMIT = 1_000;

/**
 * Requeues a failed, cancelled or expired task (see scripts/requeue.ts). A
 * task whose stored array holds a time-to-live or key takes a second call
 * with that array rewritten here; should another requeue come between, the
 * script answers from the task as it then is.
 */
export async function requeue(ctx: ScriptContext, id: string): Promise<RequeueOutcome> {
  let read = "";
  let rewritten = "";
  for (;;) {
    const [outcome, d] = (await ctx.write("omniqRequeue", [
      ...ctx.base(),
      id,
      read,
      rewritten,
    ])) as [RequeueOutcome | "rewrite", string?];
    if (outcome !== "rewrite") return outcome;
    read = d ?? "";
    rewritten = requeuedStored(read);
  }
}

/**
 * Deletes finished tasks by filter: for each queue and state, its index read
 * in steps of `PURGE_CHUNK` entries, each step one script, until `limit`
 * tasks are deleted or nothing is left.
 */
export async function purge(ctx: ScriptContext, filter: PurgeFilter): Promise<number> {
  checkPurgeStates(filter.states);
  const limit = filter.limit ?? PURGE_LIMIT;
  const queues =
    filter.queue === undefined ? await ctx.client.smembers(`${ctx.prefix}:queues`) : [filter.queue];
  const before = filter.finishedBefore ?? "";

  let deleted = 0;
  for (const queue of queues) {
    for (const state of new Set<TaskState>(filter.states)) {
      let after = "-inf";
      while (deleted < limit) {
        const [n, last, exhausted] = (await ctx.write("omniqPurgeFinished", [
          ...ctx.base(),
          queue,
          state,
          before,
          after,
          limit - deleted,
          PURGE_CHUNK,
        ])) as [number, string, number];
        deleted += n;
        after = last;
        if (exhausted === 1) break;
      }
    }
  }
  return deleted;
}
