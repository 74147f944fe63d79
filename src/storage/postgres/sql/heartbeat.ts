import type { SqlNames } from "../names.js";

/*
 * Extends every lease still held, in one statement. A lease is held when its
 * task runs under the same token; the rest are lost, which the caller works
 * out from what comes back. The cancellation flag comes back with each
 * renewed lease, so a worker learns of it at its next heartbeat even if it
 * missed the cancel signal.
 *
 * Parameters: $1 ids, $2 tokens, $3 the new lease expiry.
 */
export function heartbeatSql(n: SqlNames): string {
  return `
  UPDATE ${n.tasks} t
  SET lease_expires_at = $3
  FROM unnest($1::text[], $2::integer[]) AS i(id, token)
  WHERE t.id = ANY ($1::text[]) AND t.id = i.id AND t.token = i.token AND t.state = 'running'
  RETURNING t.id, t.token, t.cancel_requested`;
}

export interface HeartbeatRow {
  id: string;
  token: number;
  cancel_requested: boolean;
}
