import type { ClaimedTask } from "../../task/record.js";
import type { ClaimRequest, Settlement } from "../contract.js";
import { type Handovers, OFFER_MS } from "../shared/handovers.js";
import type { ScriptArg } from "./connection.js";
import { type ClaimedMeta, claimedRecord, type StoredTask } from "./hash.js";
import { outcomeEntry } from "./signals.js";

/** A claim's answer from the scripts: its meta list (JSON), then its stored tasks. */
export type ClaimReply = [meta: string, ...stored: string[]];

/** True when a request could take anything at all. */
export function asksForWork(request: ClaimRequest): boolean {
  return request.limit > 0 && request.queues.length > 0 && request.workers.length > 0;
}

/** The arguments of a claim request, as scripts/claim.ts `claimRequest` reads them. */
export function claimArgs(request: ClaimRequest, now: number, handovers: Handovers): ScriptArg[] {
  return [
    request.limit,
    request.owner,
    now + request.leaseMs,
    request.queues.length,
    ...request.queues,
    request.workers.length,
    ...request.workers,
    request.leaseMs,
    handovers.mayBeOffering(request.owner) ? 1 : 0,
    now + OFFER_MS,
  ];
}

/**
 * The arguments of scripts/settle.ts: the settlements as one JSON list, and
 * the entries of their `finished` message already joined. Kept apart, the
 * entries are not escaped into the list and decoded again by the script.
 */
export function settlementsArgs(settlements: readonly Settlement[]): [string, string] {
  const entries: string[] = [];
  const list = settlements.map((s) => {
    const entry = outcomeEntry(s);
    if (entry !== "") entries.push(entry);
    if (s.outcome === "completed") return [s.id, s.token, s.outcome, s.result, ""];
    const retryAt = s.outcome === "failed" && s.retryAt !== null ? s.retryAt : "";
    return [s.id, s.token, s.outcome, JSON.stringify(s.error), retryAt];
  });
  return [JSON.stringify(list), entries.join(",")];
}

/**
 * What a claim made at `now` answers: the tasks it leased, behind any that
 * were handed to the owner meanwhile (those are older, so they go first),
 * up to the request's limit; the rest stay kept for the next claim.
 */
export function claimedTasks(
  [meta, ...stored]: ClaimReply,
  request: ClaimRequest,
  now: number,
  handovers: Handovers,
): ClaimedTask[] {
  const lease = now + request.leaseMs;
  const claimed = (JSON.parse(meta) as ClaimedMeta[]).map((values, i) =>
    claimedRecord(
      [JSON.parse(stored[i] ?? "null") as StoredTask, ...values],
      request.owner,
      now,
      lease,
    ),
  );
  handovers.claimed(request.owner, claimed.length);
  if (!handovers.has(request.owner)) return claimed;
  handovers.keep(request.owner, claimed);
  return handovers.take(request.owner, request.limit);
}
