import { CLAIM_CORE } from "./claim-core.js";
import { OFFERS } from "./offers.js";
import { PRELUDE } from "./prelude.js";

export { PROMOTE_PER_CLAIM } from "./claim-core.js";

/**
 * Leases up to `limit` due tasks. ARGV[4] limit, ARGV[5] owner, ARGV[6] the
 * lease's expiry, ARGV[7] the number of queues followed by the queues in
 * order, then the number of worker types followed by the types, then the
 * lease length, whether the owner may have an offer to withdraw (1 or 0),
 * and when an offer made now would end (0: make none). When nothing is due,
 * the claim leaves an offer (see offers.ts) that enqueues may serve. Answers
 * the claim's meta list (JSON) followed by its stored tasks (see
 * claim-core.ts), and what waits in this handle's inbox, as handovers.
 */
export const CLAIM = `${PRELUDE}${CLAIM_CORE}${OFFERS}
local limit = tonumber(ARGV[4])
local owner = ARGV[5]
local leaseExpiresAt = ARGV[6]
local queueCount = tonumber(ARGV[7])
local queues = { unpack(ARGV, 8, 7 + queueCount) }
local workerCount = tonumber(ARGV[8 + queueCount])
local workers = { unpack(ARGV, 9 + queueCount, 8 + queueCount + workerCount) }
local rest = 9 + queueCount + workerCount
local leaseMs, withdraw, offerUntil = ARGV[rest], ARGV[rest + 1], tonumber(ARGV[rest + 2])

drainInbox()
if withdraw == '1' then withdrawOffer(owner) end
local claim = claimFor(owner, leaseExpiresAt, queues, workers, limit)
if claim.taken == 0 and offerUntil > 0 then
  registerOffer(owner, queues, workers, limit, leaseMs, offerUntil)
end

local answer = { metaJson(claim) }
for i, d in ipairs(claim.stored) do answer[i + 1] = d end
return finish(answer)
`;
