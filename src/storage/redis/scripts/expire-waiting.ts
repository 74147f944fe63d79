import { CLAIM_CORE } from "./claim-core.js";
import { OFFERS } from "./offers.js";
import { PRELUDE } from "./prelude.js";

/**
 * Step 2 of `maintain`: waiting tasks whose time-to-live passed become
 * `expired`, and offers past their end are withdrawn (those of handles that
 * went away without closing). ARGV[4] how many tasks to take at most.
 * Answers { tasks expired, entries read }.
 */
export const EXPIRE_WAITING = `${PRELUDE}${CLAIM_CORE}${OFFERS}
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

local offers = redis.call('HGETALL', OFFERS)
for i = 2, #offers, 2 do
  local offer = cjson.decode(offers[i])
  if tonumber(offer.u) <= NOW_N then dropOffer(offer, offers[i]) end
end

return finish({ expired, #ids })
`;
