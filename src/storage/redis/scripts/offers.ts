/**
 * Waiting claims ("offers"), after the prelude and the claim core. A claim
 * that finds nothing leaves an offer for a short while: its owner, origin,
 * limit, lease length, queues and worker types. An enqueue that makes tasks
 * ready for an offer leases them to its owner at once, in the same script,
 * and hands them over: to the offering handle over its own channel
 * `P:to:<origin>`, or in the answer when the enqueuing handle is that handle.
 * The owner's next claim then returns them without a round trip. An offer
 * is served once and withdrawn by its owner's next claim.
 *
 * Keys: P:offers (owner -> the offer as JSON, with `u` its end), and
 * P:idle:<queue>:<worker> (owners waiting for that queue and type, scored by
 * the offer's end).
 */
export const OFFERS = `
local OFFERS = P .. ':offers'
local function idleKey(queue, worker) return P .. ':idle:' .. queue .. ':' .. worker end

-- Offers served per enqueue at most, so one enqueue stays short.
local MAX_OFFERS_SERVED = 16

local function withdrawOffer(owner, encoded)
  encoded = encoded or redis.call('HGET', OFFERS, owner)
  if not encoded then return end
  local offer = cjson.decode(encoded)
  for _, queue in ipairs(offer.q) do
    for _, worker in ipairs(offer.w) do redis.call('ZREM', idleKey(queue, worker), owner) end
  end
  redis.call('HDEL', OFFERS, owner)
end

local function registerOffer(owner, queues, workers, limit, leaseMs, untilMs)
  local offer = { o = ORIGIN, n = limit, l = leaseMs, q = queues, w = workers, u = untilMs }
  redis.call('HSET', OFFERS, owner, cjson.encode(offer))
  for _, queue in ipairs(queues) do
    for _, worker in ipairs(workers) do redis.call('ZADD', idleKey(queue, worker), untilMs, owner) end
  end
end

-- Leases what the offer asks for to its owner and hands it over; answers
-- how many tasks it took.
local function handOver(owner, offer)
  local leaseExpiresAt = num(NOW_N + tonumber(offer.l))
  local claimed, taken = claimFor(owner, leaseExpiresAt, offer.q, offer.w, tonumber(offer.n))
  if taken == 0 then return 0 end

  local message = '{"owner":' .. cjson.encode(owner) .. ',"lease":' .. leaseExpiresAt ..
    ',"at":' .. NOW .. ',"tasks":' .. cjson.encode(claimed) .. '}'
  if offer.o == ORIGIN then
    handovers[#handovers + 1] = message
  else
    redis.call('PUBLISH', P .. ':to:' .. offer.o, message)
  end
  return taken
end

-- Serves the live offers waiting for a queue and worker type while its ready
-- set has tasks; answers true when it emptied that set.
local function serveOffers(queue, worker)
  local idle, ready = idleKey(queue, worker), readyKey(queue, worker)
  redis.call('ZREMRANGEBYSCORE', idle, '-inf', NOW)
  for _ = 1, MAX_OFFERS_SERVED do
    local owner = redis.call('ZREVRANGE', idle, 0, 0)[1]
    if not owner then return false end
    local encoded = redis.call('HGET', OFFERS, owner)
    if encoded then
      withdrawOffer(owner, encoded)
      handOver(owner, cjson.decode(encoded))
    else
      redis.call('ZREM', idle, owner)
    end
    if redis.call('EXISTS', ready) == 0 then return true end
  end
  return false
end
`;
