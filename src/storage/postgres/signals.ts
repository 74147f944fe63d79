import type { StorageSignal } from "../contract.js";
import type { SqlNames } from "./names.js";

/*
 * Signals travel as NOTIFY payloads on the store's channel, sent by the
 * statement that makes the change. PostgreSQL delivers them at commit, to
 * every listening connection (this process's too), so a task enqueued in a
 * transaction that rolls back wakes nobody.
 *
 * Payload: one letter, then the rest.
 *   r<queue>         a task is ready in <queue>
 *   f<JSON string[]> these tasks reached a final state
 *   c<id>            cancellation of a running task was asked for
 *   h<JSON>          a task handed to one handle's waiting claim (see
 *                    sql/handover.ts); not a signal, the listener passes
 *                    it to its handle
 */

// A NOTIFY payload must stay under 8,000 bytes; ids are sent in groups of
// about this many bytes (each id counted with room for quotes and a comma).
const FINISHED_CHUNK_BYTES = 3_000;

/** SQL that sends one ready signal per distinct `queue` of the rows of `relation`. */
export function notifyReadySql(n: SqlNames, relation: string): string {
  return `SELECT pg_notify(${n.channelLiteral}, 'r' || queue)
    FROM (SELECT DISTINCT queue FROM ${relation}) ready_queues`;
}

/**
 * SQL that sends the `id`s of the rows of `relation` as finished signals, in chunks that fit
 * NOTIFY.
 */
export function notifyFinishedSql(n: SqlNames, relation: string): string {
  return `SELECT pg_notify(${n.channelLiteral}, 'f' || json_agg(id)::text)
    FROM (
      SELECT id, sum(octet_length(id) + 4) OVER (ORDER BY id) / ${FINISHED_CHUNK_BYTES} AS chunk
      FROM ${relation}
    ) finished_ids
    GROUP BY chunk`;
}

/** SQL that sends a cancel signal for each `id` of the rows of `relation`. */
export function notifyCancelSql(n: SqlNames, relation: string): string {
  return `SELECT pg_notify(${n.channelLiteral}, 'c' || id) FROM ${relation}`;
}

/** Reads a NOTIFY payload back; null for one this version does not know. */
export function decodeSignal(payload: string): StorageSignal | null {
  const kind = payload[0];
  const rest = payload.slice(1);

  if (kind === "r") return { type: "ready", queue: rest };
  if (kind === "c") return { type: "cancel", id: rest };
  if (kind === "f") {
    const ids: unknown = JSON.parse(rest);
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) return null;
    return { type: "finished", ids };
  }
  return null;
}
