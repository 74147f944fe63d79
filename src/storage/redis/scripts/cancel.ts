import { PRELUDE } from "./prelude.js";

/**
 * Cancels a waiting or blocked task, or flags a running one for its worker.
 * ARGV[4] the id, ARGV[5] the error JSON to store. Answers `cancelled`,
 * `requested`, `finished` or `unknown`.
 */
export const CANCEL = `${PRELUDE}
local t = load(ARGV[4])
if not t then return finish('unknown') end

-- A blocked task waits in none of the waiting sets, only in its own index.
if WAITING[t.state] or t.state == 'blocked' then
  if t.state == 'blocked' then redis.call('ZREM', blockedKey(t.queue), t.id) end
  removeWaiting(t)
  finalize(t, 'cancelled', 'cancelled', errorExtra(ARGV[5]), 'lastError', ARGV[5])
  return finish('cancelled')
end

-- The reason is kept for the task's end should its worker vanish before
-- settling it (see expire-leases).
if t.state == 'running' then
  redis.call('HSET', t.key, 'cancelRequested', '1', 'cancelError', ARGV[5])
  signalCancel(t.id)
  return finish('requested')
end

return finish('finished')
`;
