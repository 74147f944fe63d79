import { PRELUDE } from "./prelude.js";

/**
 * Hands held tasks back: pending again at once, the attempt not counted, no
 * event. ARGV[4..] are id and token of each lease.
 */
export const RELEASE = `${PRELUDE}
for i = 4, #ARGV, 2 do
  local t = load(ARGV[i])
  if t and t.state == 'running' and t.token == tonumber(ARGV[i + 1]) then
    moveState(t, 'pending')
    save(t, 'state', 'pending', 'attempts', num(t.attempts - 1))
    if t.expiresAt then redis.call('ZADD', EXPIRY, t.expiresAt, t.id) end
    -- Its old ready member (same run-at and sequence) puts it back in its place.
    addReady(t)
    signalReady(t.queue)
  end
end

return finish(0)
`;
