import { PRELUDE } from "./prelude.js";

/**
 * Step 2 of `maintain`: waiting tasks whose time-to-live passed become
 * `expired`. ARGV[4] how many to take at most. Answers { tasks expired,
 * entries read }.
 */
export const EXPIRE_WAITING = `${PRELUDE}
local ids = redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[4]))
local expired = 0

for _, id in ipairs(ids) do
  local t = load(id)
  if t and WAITING[t.state] then
    expired = expired + 1
    removeWaiting(t)
    finalize(t, 'expired', 'expired', nil)
  else
    redis.call('ZREM', EXPIRY, id)
  end
end

return finish({ expired, #ids })
`;
