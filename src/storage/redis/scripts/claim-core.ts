import { CONTROLS_CORE } from "./controls.js";

/** Delayed tasks moved to their ready set per claim, so one claim stays short. */
export const PROMOTE_PER_CLAIM = 1_000;

/**
 * Lua for taking tasks, after the prelude: used by the claim script, and by
 * enqueue when it serves a claim that is waiting (see offers.ts).
 * `claimFor(owner, leaseExpiresAt, queues, workers, limit)` leases up to
 * `limit` due tasks and answers the claim: `stored`, the tasks as enqueued
 * (JSON each), and `meta`, pieces that join into one JSON list with, per
 * task, [runAt, attempts, token, leaseLosses, cancelRequested (0 or 1),
 * lastError or null] (see hash.ts `ClaimedEntry`). Joining the small values
 * costs the server little and saves the client six values per task; the
 * stored tasks go out as they are, since joining them into one large string
 * costs the server more than it saves. A queue's flow controls (see
 * controls.ts) bound what it gives.
 */
export const CLAIM_CORE = `${CONTROLS_CORE}
-- Delayed and retrying tasks whose time has come join their ready sets
-- first (whatever their queue), so they compete by priority with the rest.
local function promoteDue()
  local due = redis.call('ZRANGEBYSCORE', DELAYED, '-inf', NOW, 'LIMIT', 0, ${PROMOTE_PER_CLAIM})
  for _, id in ipairs(due) do
    local t = load(id)
    if t and WAITING[t.state] then addReady(t) end
  end
  if #due > 0 then redis.call('ZREM', DELAYED, unpack(due)) end
end

-- Takes the next 'want' members off a queue's ready sets, best first. With
-- one worker type that is a range and its removal: ZPOPMIN would answer
-- each member's score too, written as a double and read back, for nothing.
-- With several, the heads of each set are merged by (priority, member) and
-- the chosen ones removed.
local function takeHeads(queue, workers, want)
  if #workers == 1 then
    local key = readyKey(queue, workers[1])
    local members = redis.call('ZRANGE', key, 0, want - 1)
    if #members > 0 then redis.call('ZREMRANGEBYRANK', key, 0, #members - 1) end
    return members
  end

  local heads = {}
  for _, worker in ipairs(workers) do
    local key = readyKey(queue, worker)
    local range = redis.call('ZRANGE', key, 0, want - 1, 'WITHSCORES')
    for i = 1, #range, 2 do
      heads[#heads + 1] = { key = key, member = range[i], score = tonumber(range[i + 1]) }
    end
  end
  table.sort(heads, function(a, b)
    if a.score ~= b.score then return a.score < b.score end
    return a.member < b.member
  end)
  local members = {}
  for i = 1, math.min(want, #heads) do
    redis.call('ZREM', heads[i].key, heads[i].member)
    members[i] = heads[i].member
  end
  return members
end

-- Adds one claimed task to a claim; attempts and token come as text (see
-- intText). Its meta entry is made in one concatenation: one string, where
-- a piece per value cost a table slot each and the table's growth.
local function addClaimed(claim, d, runAt, attempts, token, leaseLosses, cancelRequested, lastError)
  local n = claim.taken + 1
  claim.stored[n] = d
  claim.meta[n] = '[' .. runAt .. ',' .. attempts .. ',' .. token .. ',' .. (leaseLosses or '0') ..
    (cancelRequested == '1' and ',1,' or ',0,') .. (lastError or 'null') .. ']'
  claim.taken = n
end

-- The claim's meta list as JSON.
local function metaJson(claim) return '[' .. table.concat(claim.meta, ',') .. ']' end

-- The claim's tasks as claimed entries, one JSON list (for handovers): each
-- is its stored task followed by its meta values.
local function entriesJson(claim)
  local parts = {}
  for i, d in ipairs(claim.stored) do parts[i] = '[' .. d .. ',' .. string.sub(claim.meta[i], 2) end
  return '[' .. table.concat(parts, ',') .. ']'
end

-- What one claim took, and what it does once at its end: the states the
-- tasks left (for the counts) and the lease group they all join.
local function newClaim(owner, leaseExpiresAt)
  return { owner = owner, lease = leaseExpiresAt, stored = {}, meta = {}, taken = 0, from = {} }
end

-- Leases one task and appends its entry; false when the member no longer
-- names a waiting task. A ready member whose time-to-live has passed is
-- dropped from its ready set and left waiting in the expiry set: 'maintain'
-- marks it expired. This runs once per task, so its fields are read into
-- locals, not through 'load', and its counts and lease group are kept in
-- the claim (see newClaim).
local function claimOne(claim, queue, id)
  local key = taskKey(id)
  local v = redis.call('HMGET', key, 'state', 'runAt', 'attempts', 'token', 'expiresAt',
    'leaseLosses', 'cancelRequested', 'stem', 'ev', 'd', 'lastError')
  local state, expiresAt = v[1], v[5]
  if not state or not WAITING[state] then return false end
  if expiresAt and tonumber(expiresAt) <= NOW_N then return false end

  local attempts = intText((tonumber(v[3]) or 0) + 1)
  local token = intText((tonumber(v[4]) or 0) + 1)
  local ev = addEventTo(v[8], v[9] or '', 'executing', attempts)
  redis.call('HSET', key, 'ev', ev, 'state', 'running', 'attempts', attempts, 'token', token,
    'leaseOwner', claim.owner, 'leaseExpiresAt', claim.lease, 'startedAt', NOW)
  if expiresAt then redis.call('ZREM', EXPIRY, id) end

  local group = claim.group
  if not group then
    group = groupOf(LEASES, claim.lease)
    claim.group = group
  end
  group[#group + 1] = id
  claim.from[state] = (claim.from[state] or 0) + 1
  addClaimed(claim, v[10], v[2], attempts, token, v[6], v[7], v[11])
  return true
end

-- Queues strictly in the order given: a later one only once earlier ones
-- have nothing due, or their controls let them give nothing more. Each
-- round removes at least one member, so it ends.
local function claimFor(owner, leaseExpiresAt, queues, workers, limit)
  promoteDue()
  local claim = newClaim(owner, leaseExpiresAt)
  for _, queue in ipairs(queues) do
    local before = claim.taken
    local stop = limit
    local control = controlOf(queue)
    if control then stop = before + flow.allowance(queue, control, limit - before) end
    claim.from = {}
    while claim.taken < stop do
      local members = takeHeads(queue, workers, stop - claim.taken)
      if #members == 0 then break end
      for _, member in ipairs(members) do claimOne(claim, queue, memberId(member)) end
    end
    for state, n in pairs(claim.from) do count(queue, state, -n) end
    if claim.taken > before then
      count(queue, 'running', claim.taken - before)
      if control then flow.noteClaims(queue, control, claim.taken - before) end
    end
  end
  return claim
end
`;
