import { PRELUDE } from "./prelude.js";

/**
 * Renews leases. ARGV[4] the new lease expiry, then id and token of each
 * lease. Answers { lost ids, ids whose cancellation was asked for }.
 */
export const HEARTBEAT = `${PRELUDE}
local leaseExpiresAt = ARGV[4]
local lost, cancelRequested = {}, {}

for i = 5, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = taskKey(id)
  local current = redis.call('HMGET', key, 'state', 'token', 'cancelRequested')
  if current[1] == 'running' and current[2] == token then
    redis.call('HSET', key, 'leaseExpiresAt', leaseExpiresAt)
    watchLease({ id = id }, leaseExpiresAt)
    if current[3] == '1' then cancelRequested[#cancelRequested + 1] = id end
  else
    lost[#lost + 1] = id
  end
end

writeGroups()
return { lost, cancelRequested }
`;
