/**
 * Waiting claims ("offers"), after the prelude and the claim core. A claim
 * that finds nothing leaves an offer for a short while: its owner, origin,
 * limit, lease length, queues and worker types. An enqueue that makes tasks
 * ready for an offer leases them to its owner at once, in the same script,
 * and hands them over: as a message pushed on the offering handle's inbox
 * list, where that handle waits in a blocking pop, or in the answer when the
 * enqueuing handle is that handle. The owner's next claim then returns them
 * without a round trip. An offer is served once and withdrawn by its
 * owner's next claim.
 *
 * Keys: P:offers (owner -> its latest offer as JSON, 'u' its end; an entry
 * outlives a served offer until the owner's next claim, its handle's close
 * or housekeeping after 'u' removes it), P:idle:<queue>:
 * <worker> (the offers waiting for that queue and type, the same JSON as
 * members, scored by their end), and P:inbox:<origin> (handover messages
 * not yet taken). An inbox nobody empties (its handle died) expires on its
 * own; the tasks in it return when their leases run out.
 */
/** Real ms after its last push that an inbox nobody empties (its handle died) is dropped. */
export const INBOX_TTL_MS = 600_000;

export const OFFERS = `
local OFFERS = P .. ':offers'
local function idleKey(queue, worker) return P .. ':idle:' .. queue .. ':' .. worker end
local function inboxKey(origin) return P .. ':inbox:' .. origin end

-- Offers served per enqueue at most, so one enqueue stays short.
local MAX_OFFERS_SERVED = 16

-- Takes an offer out of the idle sets, where enqueues look for one. Its
-- entry in OFFERS may stay: it only tells the owner's next claim what to
-- withdraw, and withdrawing what is gone already changes nothing.
local function unlistOffer(offer, encoded)
  for _, queue in ipairs(offer.q) do
    for _, worker in ipairs(offer.w) do redis.call('ZREM', idleKey(queue, worker), encoded) end
  end
end

-- Takes an offer out of every set it waits in.
local function dropOffer(offer, encoded)
  unlistOffer(offer, encoded)
  redis.call('HDEL', OFFERS, offer.id)
end

local function withdrawOffer(owner)
  local encoded = redis.call('HGET', OFFERS, owner)
  if encoded then dropOffer(cjson.decode(encoded), encoded) end
end

-- Puts an offer (as JSON) in every set it waits in.
local function placeOffer(offer, encoded)
  redis.call('HSET', OFFERS, offer.id, encoded)
  for _, queue in ipairs(offer.q) do
    for _, worker in ipairs(offer.w) do redis.call('ZADD', idleKey(queue, worker), offer.u, encoded) end
  end
end

local function registerOffer(owner, queues, workers, limit, leaseMs, untilMs)
  withdrawOffer(owner)
  local offer = { id = owner, o = ORIGIN, n = limit, l = leaseMs, q = queues, w = workers,
    u = untilMs }
  placeOffer(offer, cjson.encode(offer))
end

-- The live offer that waits longest for a queue and worker type (the one
-- renewed last), taken out of every set it waits in; nil when none waits.
local function takeOffer(queue, worker)
  local encoded = redis.call('ZREVRANGEBYSCORE', idleKey(queue, worker), '+inf', '(' .. NOW,
    'LIMIT', 0, 1)[1]
  if not encoded then return nil end
  local offer = cjson.decode(encoded)
  unlistOffer(offer, encoded)
  offer.n = tonumber(offer.n)
  offer.leaseExpiresAt = num(NOW_N + tonumber(offer.l))
  offer.encoded = encoded
  return offer
end

-- An offer taken that got nothing waits again, as it was.
local function restoreOffer(offer) placeOffer(offer, offer.encoded) end

-- Sends what a claim leased to an offer's owner.
local function sendHandover(offer, claim)
  local message = '{"owner":' .. cjson.encode(offer.id) .. ',"lease":' .. offer.leaseExpiresAt ..
    ',"at":' .. NOW .. ',"tasks":' .. entriesJson(claim) .. '}'
  if offer.o == ORIGIN then
    handovers[#handovers + 1] = message
  else
    local inbox = inboxKey(offer.o)
    redis.call('LPUSH', inbox, message)
    redis.call('PEXPIRE', inbox, ${INBOX_TTL_MS})
  end
end

-- Moves what waits in this handle's inbox into the answer, oldest first: its
-- blocking pop may be stuck or gone, and nothing should wait on it.
local function drainInbox()
  local inbox = inboxKey(ORIGIN)
  local waiting = redis.call('LRANGE', inbox, 0, -1)
  if #waiting == 0 then return end
  redis.call('DEL', inbox)
  for i = #waiting, 1, -1 do handovers[#handovers + 1] = waiting[i] end
end

-- Leases what an offer asks for through the claim's own code and sends it;
-- answers false when there was nothing (the offer then waits again).
local function serveOffer(offer)
  local claim = claimFor(offer.id, offer.leaseExpiresAt, offer.q, offer.w, offer.n)
  if claim.taken == 0 then
    restoreOffer(offer)
    return false
  end
  sendHandover(offer, claim)
  return true
end

-- Serves the live offers waiting for a queue and worker type while its ready
-- set has tasks; answers true when that set is empty.
local function serveOffers(queue, worker)
  local ready = readyKey(queue, worker)
  for _ = 1, MAX_OFFERS_SERVED do
    if redis.call('EXISTS', ready) == 0 then return true end
    local offer = takeOffer(queue, worker)
    if not offer or not serveOffer(offer) then return false end
  end
  return redis.call('EXISTS', ready) == 0
end
`;
