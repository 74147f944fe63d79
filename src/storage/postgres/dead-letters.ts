import type { PurgeFilter, RequeueOutcome } from "../contract.js";
import { checkPurgeStates } from "../shared/purge.js";
import type { Query } from "./db.js";
import type { Statements } from "./statements.js";

/*
 * The methods of `PostgresStorage` that move tasks outside a run: unblock,
 * requeue, purge. Each is one statement; see sql/unblock.ts,
 * sql/requeue.ts and sql/purge.ts.
 */

const DEFAULT_PURGE_LIMIT = 1_000;

/** A requeue that lost a race asks again this many times before answering from what it sees. */
const REQUEUE_ROUNDS = 3;

/** `Storage.unblock`: the ids that moved, in the order given. */
export async function unblock(
  query: Query,
  statements: Statements,
  now: number,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const [row] = await query<{ moved: string[] }>("unblock", statements.unblock, [now, [...ids]]);
  return row?.moved ?? [];
}

/** `Storage.requeue`. */
export async function requeue(
  query: Query,
  statements: Statements,
  now: number,
  id: string,
): Promise<RequeueOutcome> {
  for (let round = 1; ; round++) {
    const [row] = await query<{ outcome: RequeueOutcome | "raced" }>(
      "requeue",
      statements.requeue,
      [now, id],
    );
    const outcome = row?.outcome ?? "unknown";
    if (outcome !== "raced") return outcome;
    // Another statement moved the row away meanwhile: it is live again or gone.
    if (round >= REQUEUE_ROUNDS) return "live";
  }
}

/** `Storage.purge`: how many were deleted. Throws `InvalidArgumentError` for a state not final. */
export async function purge(
  query: Query,
  statements: Statements,
  filter: PurgeFilter,
): Promise<number> {
  checkPurgeStates(filter.states);
  const limit = filter.limit ?? DEFAULT_PURGE_LIMIT;
  if (limit <= 0) return 0;

  const [row] = await query<{ deleted: number }>("purge", statements.purgeTasks, [
    [...new Set(filter.states)],
    filter.queue ?? null,
    // finished_at is whole ms: `< ceil(t)` is exactly `< t`.
    filter.finishedBefore === undefined ? null : Math.ceil(filter.finishedBefore),
    Math.floor(limit),
  ]);
  return row?.deleted ?? 0;
}
