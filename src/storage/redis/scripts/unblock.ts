import { PRELUDE } from "./prelude.js";

/**
 * Moves blocked tasks on to waiting: `scheduled` before their run-at time,
 * else `pending`, joining the sets a waiting task is in. ARGV[4..] the ids;
 * those not blocked are skipped. No event; a ready signal per queue.
 * Answers the ids that moved.
 *
 * A task unblocked here reaches waiting claims through their owners' ready
 * signals and next claims, which weigh flow controls: it is never handed
 * over from here.
 */
export const UNBLOCK = `${PRELUDE}
local moved = {}
for i = 4, #ARGV do
  local t = load(ARGV[i])
  if t and t.state == 'blocked' then
    local state = tonumber(t.runAt) > NOW_N and 'scheduled' or 'pending'
    moveState(t, state)
    redis.call('HSET', t.key, 'state', state)
    redis.call('ZREM', blockedKey(t.queue), t.id)
    if t.expiresAt then redis.call('ZADD', EXPIRY, t.expiresAt, t.id) end
    if state == 'scheduled' then redis.call('ZADD', DELAYED, t.runAt, t.id) else addReady(t) end
    signalReady(t.queue)
    moved[#moved + 1] = t.id
  end
end

return finish(moved)
`;
