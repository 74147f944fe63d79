import { CLAIM_CORE } from "./claim-core.js";
import { ENQUEUE_KEYS } from "./enqueue-keys.js";
import { OFFERS } from "./offers.js";
import { PRELUDE } from "./prelude.js";

/**
 * Values per task in the enqueue script's arguments: id, the task as JSON,
 * the event stem, queue, worker, priority, runAt, expiresAt (empty: none),
 * resultTtlMs and name.
 */
export const ENQUEUE_WIDTH = 10;

/**
 * Stores a batch of tasks, all or none. ARGV[4] is a batch id unique to the
 * call, ARGV[5] the number of tasks, then `ENQUEUE_WIDTH` values per task,
 * then, when some tasks have an idempotency key or dependencies, their
 * extras (see enqueue-keys.ts). Fails with `DUPLICATE <id>` before writing
 * anything when an id is taken. A task whose key is held is not stored;
 * answers a flat list of [index, holder id] for those (empty when none).
 * A task with dependencies is stored `blocked`: in no ready or delayed set,
 * and out of reach of the waiting claims below.
 *
 * Tasks that are ready go to claims waiting for them (see offers.ts). When
 * such a claim's queues have nothing else ready, no delayed task is due and
 * none of them has flow controls, the best of this batch are stored already
 * leased to it, without a trip through the ready set; otherwise the claim's
 * own code serves it after the batch is stored.
 */
export const ENQUEUE = `${PRELUDE}${CLAIM_CORE}${OFFERS}${ENQUEUE_KEYS}
local batch = ARGV[4]
local n = tonumber(ARGV[5])
local width = ${ENQUEUE_WIDTH}
local extras = readExtras(ARGV[6 + n * width])
local function idOf(i) return ARGV[6 + i * width] end

-- The client sends a command again when its reply was lost in a reconnect;
-- a batch already stored (its first stored task carries the batch id) must
-- then answer as if it had just been stored, not fail on its own ids. A
-- batch that dropped tasks kept its answer: its first task may be one.
if extras then
  local answer = resentAnswer(batch)
  if answer then return finish(answer) end
  if redis.call('HGET', taskKey(idOf(0)), 'b') == batch then return finish({}) end
end
local held, dropped = {}, {}
if extras then held, dropped = heldKeys(extras, idOf, n) end

-- Every id is checked before the first write: a script cannot roll back.
local seen = {}
for i = 0, n - 1 do
  local id = idOf(i)
  if not held[i] then
    if seen[id] or redis.call('EXISTS', taskKey(id)) == 1 then
      if i == 0 and redis.call('HGET', taskKey(id), 'b') == batch then return finish({}) end
      return redis.error_reply('DUPLICATE ' .. id)
    end
    seen[id] = true
  end
end

local stored = n - #dropped / 2
local firstSeq = redis.call('INCRBY', TASK_SEQ, stored) - stored + 1
local tasks, queueOrder, scheduledIn, blockedIn, readyPairs = {}, {}, {}, {}, {}
local byQueue, pairSeen = {}, {}
for i = 0, n - 1 do
  local b = 6 + i * width
  local extra = extras and extras[i]
  if not held[i] then
    local t = { id = ARGV[b], key = taskKey(ARGV[b]), d = ARGV[b + 1], stem = ARGV[b + 2],
      queue = ARGV[b + 3], worker = ARGV[b + 4], priority = ARGV[b + 5], runAt = ARGV[b + 6],
      expiresAt = ARGV[b + 7], resultTtlMs = ARGV[b + 8], name = ARGV[b + 9],
      seq = num(firstSeq + #tasks), ev = '', ik = extra and extra.key }
    t.state = tonumber(t.runAt) > NOW_N and 'scheduled' or 'pending'
    if extra and extra.blocked then t.state = 'blocked' end
    if t.expiresAt == '' then t.expiresAt = nil end
    tasks[#tasks + 1] = t

    if not byQueue[t.queue] then
      byQueue[t.queue] = {}
      queueOrder[#queueOrder + 1] = t.queue
    end
    if t.state == 'scheduled' then
      scheduledIn[t.queue] = true
    elseif t.state == 'blocked' then
      blockedIn[t.queue] = true
    elseif t.state == 'pending' then
      local workers = pairSeen[t.queue] or {}
      pairSeen[t.queue] = workers
      if not workers[t.worker] then
        workers[t.worker] = true
        readyPairs[#readyPairs + 1] = { t.queue, t.worker }
      end
    end
  end
end

-- An offer takes this batch's tasks directly when nothing else could come
-- before them (its ready sets are empty and no delayed task is due) and no
-- flow control of its queues must be weighed.
local dueChecked, anyDue = false, false
local function takesDirectly(offer)
  for _, queue in ipairs(offer.q) do
    if controlOf(queue) then return false end
  end
  if not dueChecked then
    dueChecked = true
    anyDue = #redis.call('ZRANGEBYSCORE', DELAYED, '-inf', NOW, 'LIMIT', 0, 1) > 0
  end
  if anyDue then return false end
  for _, queue in ipairs(offer.q) do
    for _, worker in ipairs(offer.w) do
      if redis.call('EXISTS', readyKey(queue, worker)) == 1 then return false end
    end
  end
  return true
end

-- The best of this batch for an offer, in its queue order, then priority,
-- then enqueue order; marked as leased to it.
local function pickFor(offer)
  local rank, allowed = {}, {}
  for i, queue in ipairs(offer.q) do rank[queue] = i end
  for _, worker in ipairs(offer.w) do allowed[worker] = true end
  local fit = {}
  for _, t in ipairs(tasks) do
    if t.state == 'pending' and not t.offer and rank[t.queue] and allowed[t.worker] and
      not (t.expiresAt and tonumber(t.expiresAt) <= NOW_N) then
      fit[#fit + 1] = t
    end
  end
  table.sort(fit, function(a, b)
    if rank[a.queue] ~= rank[b.queue] then return rank[a.queue] < rank[b.queue] end
    local pa, pb = tonumber(a.priority), tonumber(b.priority)
    if pa ~= pb then return pa > pb end
    return tonumber(a.seq) < tonumber(b.seq)
  end)
  for i = 1, math.min(offer.n, #fit) do
    fit[i].offer = offer
    offer.picked[i] = fit[i]
  end
end

-- The first live offer of each pair either takes tasks directly or waits to
-- be served once the batch is stored.
local direct, later = {}, {}
for _, pair in ipairs(readyPairs) do
  local offer = takeOffer(pair[1], pair[2])
  if offer and takesDirectly(offer) then
    offer.picked = {}
    pickFor(offer)
    direct[#direct + 1] = offer
  elseif offer then
    later[#later + 1] = offer
  end
end

-- Stored leased to its offer, as a claim would have left it.
local function storeLeased(t, fields)
  local offer = t.offer
  moveState(t, 'running')
  addEvent(t, 'executing', 1)
  save(t, 'state', 'running', 'attempts', '1', 'token', '1', 'leaseOwner', offer.id,
    'leaseExpiresAt', offer.leaseExpiresAt, 'startedAt', NOW, unpack(fields))
  watchLease(t, offer.leaseExpiresAt)
end

for i, t in ipairs(tasks) do
  count(t.queue, t.state, 1)
  addEvent(t, 'enqueued', 0)
  local fields = { 'd', t.d, 'stem', t.stem, 'queue', t.queue, 'worker', t.worker,
    'priority', t.priority, 'runAt', t.runAt, 'seq', t.seq, 'resultTtlMs', t.resultTtlMs,
    'name', t.name }
  if i == 1 then
    fields[#fields + 1] = 'b'
    fields[#fields + 1] = batch
  end
  if t.expiresAt then
    fields[#fields + 1] = 'expiresAt'
    fields[#fields + 1] = t.expiresAt
  end
  if t.ik then
    fields[#fields + 1] = 'ik'
    fields[#fields + 1] = t.ik
    redis.call('HSET', KEYS_HELD, t.ik, t.id)
  end

  if t.offer then
    storeLeased(t, fields)
  else
    save(t, 'state', t.state, unpack(fields))
    -- A blocked task joins its sets when unblocked (see unblock.ts).
    if t.state == 'blocked' then
      redis.call('ZADD', blockedKey(t.queue), t.seq, t.id)
    else
      if t.expiresAt then redis.call('ZADD', EXPIRY, t.expiresAt, t.id) end
      if t.state == 'scheduled' then redis.call('ZADD', DELAYED, t.runAt, t.id) else addReady(t) end
    end
  end

  -- Enqueue order per queue, for listings: written once per queue below.
  local members = byQueue[t.queue]
  members[#members + 1] = t.seq
  members[#members + 1] = t.id
end

for _, queue in ipairs(queueOrder) do
  redis.call('SADD', QUEUES, queue)
  local members = byQueue[queue]
  for i = 1, #members, 2000 do
    redis.call('ZADD', allKey(queue), unpack(members, i, math.min(i + 1999, #members)))
  end
end

-- Handovers: the direct ones, then the offers served through their ready
-- sets, then any other offers while ready tasks are left. A queue whose new
-- tasks all went to offers needs no ready signal; one with blocked tasks
-- gets one, which tells workers elsewhere to look for blocked tasks.
for _, offer in ipairs(direct) do
  local claim = newClaim(offer.id, offer.leaseExpiresAt)
  for _, t in ipairs(offer.picked) do addClaimed(claim, t.d, t.runAt, 1, 1) end
  if claim.taken > 0 then sendHandover(offer, claim) else restoreOffer(offer) end
end
for _, offer in ipairs(later) do serveOffer(offer) end
local handedAll = {}
for _, pair in ipairs(readyPairs) do
  local emptied = serveOffers(pair[1], pair[2])
  if handedAll[pair[1]] == nil or not emptied then handedAll[pair[1]] = emptied end
end
for _, queue in ipairs(queueOrder) do
  if scheduledIn[queue] or blockedIn[queue] or not handedAll[queue] then
    signalReady(queue)
  end
end

keepAnswer(batch, dropped)
return finish(dropped)
`;
