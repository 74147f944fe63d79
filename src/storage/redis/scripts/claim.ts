import { CLAIM_CORE } from "./claim-core.js";
import { OFFERS } from "./offers.js";
import { PRELUDE } from "./prelude.js";
import { SETTLE_CORE } from "./settle.js";

export { PROMOTE_PER_CLAIM } from "./claim-core.js";

/**
 * Lua for a claim request, after the prelude, the claim core and offers.
 * `claimRequest(at)` reads the request from ARGV[at] on: limit, owner, the
 * lease's expiry, the number of queues followed by the queues in order, then
 * the number of worker types followed by the types, then the lease length,
 * whether the owner may have an offer to withdraw (1 or 0), and when an
 * offer made now would end (0: make none). When nothing is due, the claim
 * leaves an offer (see offers.ts) that enqueues may serve. It answers the
 * claim's meta list (JSON) followed by its stored tasks (see
 * claim-core.ts); what waits in this handle's inbox comes back as handovers.
 */
const CLAIM_REQUEST = `
local function claimRequest(at)
  local limit = tonumber(ARGV[at])
  local owner = ARGV[at + 1]
  local leaseExpiresAt = ARGV[at + 2]
  local queueCount = tonumber(ARGV[at + 3])
  local queues = { unpack(ARGV, at + 4, at + 3 + queueCount) }
  local workerCount = tonumber(ARGV[at + 4 + queueCount])
  local workers = { unpack(ARGV, at + 5 + queueCount, at + 4 + queueCount + workerCount) }
  local rest = at + 5 + queueCount + workerCount
  local leaseMs, withdraw, offerUntil = ARGV[rest], ARGV[rest + 1], tonumber(ARGV[rest + 2])

  drainInbox()
  if withdraw == '1' then withdrawOffer(owner) end
  local claim = claimFor(owner, leaseExpiresAt, queues, workers, limit)
  if claim.taken == 0 and offerUntil > 0 then
    registerOffer(owner, queues, workers, limit, leaseMs, offerUntil)
  end

  local answer = { metaJson(claim) }
  for i, d in ipairs(claim.stored) do answer[i + 1] = d end
  return answer
end
`;

/** Leases up to a limit of due tasks: ARGV[4] on is the request `claimRequest` reads. */
export const CLAIM = `${PRELUDE}${CLAIM_CORE}${OFFERS}${CLAIM_REQUEST}
return finish(claimRequest(4))
`;

/**
 * Ends attempts and claims in one step, for a worker whose ended tasks free
 * the slots it refills: one round trip and one script instead of two.
 * ARGV[4] is the settlements (see settle.ts `settleAll`), ARGV[5] on the
 * claim request. The settlements go first, so the claim sees the slots they
 * freed under a concurrency limit. Answers the settle's list followed by the
 * claim's answer.
 */
export const SETTLE_AND_CLAIM = `${PRELUDE}${SETTLE_CORE}${CLAIM_CORE}${OFFERS}${CLAIM_REQUEST}
local applied = settleAll(ARGV[4])
local answer = claimRequest(5)
table.insert(answer, 1, applied)
return finish(answer)
`;
