import type { SqlNames } from "../names.js";
import { notifyReadySql } from "../signals.js";

/*
 * Hands held tasks back untouched: pending again at once, the attempt not
 * counted, no event, and a ready signal so another worker picks them up.
 * The token is left as it is: it only ever grows, so a lease handed out
 * before stays stale.
 *
 * Parameters: $1 ids, $2 tokens.
 */
export function releaseSql(n: SqlNames): string {
  return `
  WITH released AS (
    UPDATE ${n.tasks} t
    SET state = 'pending', attempts = t.attempts - 1, lease_owner = NULL,
      lease_expires_at = NULL
    FROM unnest($1::text[], $2::integer[]) AS i(id, token)
    WHERE t.id = ANY ($1::text[]) AND t.id = i.id AND t.token = i.token AND t.state = 'running'
    RETURNING t.queue
  ),
  signalled AS (${notifyReadySql(n, "released")})
  SELECT count(*) AS signals FROM signalled`;
}
