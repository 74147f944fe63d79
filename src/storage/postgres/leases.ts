import type { HeartbeatReply, Lease, Settlement } from "../contract.js";
import type { Query } from "./db.js";
import type { HeartbeatRow } from "./sql/heartbeat.js";
import { hasRetries, type SettleRow, settleParams } from "./sql/settle.js";
import type { Statements } from "./statements.js";

/** `Storage.heartbeat` for a batch that is not empty, renewing to `leaseExpiresAt`. */
export async function heartbeat(
  query: Query,
  statements: Statements,
  leaseExpiresAt: number,
  leases: readonly Lease[],
): Promise<HeartbeatReply> {
  const rows = await query<HeartbeatRow>("heartbeat", statements.heartbeat, [
    leases.map((l) => l.id),
    leases.map((l) => l.token),
    leaseExpiresAt,
  ]);

  const renewed = new Map(rows.map((row) => [`${row.id}\u0000${row.token}`, row]));
  const reply: HeartbeatReply = { lost: [], cancelRequested: [] };
  for (const lease of leases) {
    const row = renewed.get(`${lease.id}\u0000${lease.token}`);
    if (!row) reply.lost.push(lease.id);
    else if (row.cancel_requested && !reply.cancelRequested.includes(lease.id)) {
      reply.cancelRequested.push(lease.id);
    }
  }
  return reply;
}

/** `Storage.settle`. */
export async function settle(
  query: Query,
  statements: Statements,
  now: number,
  settlements: readonly Settlement[],
): Promise<boolean[]> {
  // The same lease twice in one batch: only the first may apply, as if
  // they had been sent one after the other. (One statement cannot change
  // a row twice.)
  const seen = new Set<string>();
  const unique: number[] = [];
  settlements.forEach((s, i) => {
    const key = `${s.id}\u0000${s.token}`;
    if (!seen.has(key)) unique.push(i);
    seen.add(key);
  });
  if (unique.length === 0) return [];

  const batch = unique.map((i) => settlements[i] as Settlement);
  const [row] = await query<SettleRow>(
    "settle",
    hasRetries(batch) ? statements.settle : statements.settleFinal,
    settleParams(batch, now),
  );

  const answer = settlements.map(() => false);
  for (const position of row?.applied ?? []) answer[unique[position - 1] as number] = true;
  return answer;
}
