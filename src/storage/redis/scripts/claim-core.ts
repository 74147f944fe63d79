/** Delayed tasks moved to their ready set per claim, so one claim stays short. */
export const PROMOTE_PER_CLAIM = 1_000;

/**
 * Lua for taking tasks, after the prelude: used by the claim script, and by
 * enqueue when it serves a claim that is waiting (see offers.ts).
 * `claimFor(owner, leaseExpiresAt, queues, workers, limit)` leases up to
 * `limit` due tasks and answers them as pieces of JSON that join into a
 * list of claimed entries, one per task: [the task as enqueued, runAt,
 * attempts, token, leaseLosses, cancelRequested (0 or 1), lastError or null]
 * (see hash.ts `ClaimedEntry`). One string for the whole answer costs both
 * sides far less than seven values per task.
 */
export const CLAIM_CORE = `
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
-- one worker type that is a single ZPOPMIN; with several, the heads of each
-- set are merged by (priority, member) and the chosen ones removed.
local function takeHeads(queue, workers, want)
  if #workers == 1 then
    local popped = redis.call('ZPOPMIN', readyKey(queue, workers[1]), want)
    local members = {}
    for i = 1, #popped, 2 do members[#members + 1] = popped[i] end
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

-- Appends one claimed entry's JSON to 'pieces' (see CLAIM_CORE's doc); the
-- stored task and its last error are JSON already and go in as they are.
local function addClaimed(pieces, d, runAt, attempts, token, leaseLosses, cancelRequested, lastError)
  local n = #pieces
  pieces[n + 1] = n == 0 and '[' or ',['
  pieces[n + 2] = d
  pieces[n + 3] = ','
  pieces[n + 4] = runAt
  pieces[n + 5] = ','
  pieces[n + 6] = num(attempts)
  pieces[n + 7] = ','
  pieces[n + 8] = num(token)
  pieces[n + 9] = ','
  pieces[n + 10] = leaseLosses or '0'
  pieces[n + 11] = cancelRequested == '1' and ',1,' or ',0,'
  pieces[n + 12] = lastError or 'null'
  pieces[n + 13] = ']'
end

-- Leases one task to 'owner' and appends its entry to 'claimed'; false when
-- the member no longer names a waiting task. A ready member whose
-- time-to-live has passed is dropped from its ready set and left waiting in
-- the expiry set: 'maintain' marks it expired. The fields are read into
-- locals rather than through 'load': this runs once per task.
local function claimOne(queue, id, owner, leaseExpiresAt, claimed)
  local key = taskKey(id)
  local v = redis.call('HMGET', key, 'state', 'runAt', 'attempts', 'token', 'expiresAt',
    'leaseLosses', 'cancelRequested', 'stem', 'ev', 'd', 'lastError')
  local state, expiresAt = v[1], v[5]
  if not state or not WAITING[state] then return false end
  if expiresAt and tonumber(expiresAt) <= NOW_N then return false end

  local t = { id = id, key = key, queue = queue, state = state, stem = v[8], ev = v[9] or '' }
  local attempts = (tonumber(v[3]) or 0) + 1
  local token = (tonumber(v[4]) or 0) + 1
  moveState(t, 'running')
  addEvent(t, 'executing', attempts)
  save(t, 'state', 'running', 'attempts', num(attempts), 'token', num(token), 'leaseOwner', owner,
    'leaseExpiresAt', leaseExpiresAt, 'startedAt', NOW)
  watchLease(t, leaseExpiresAt)
  if expiresAt then redis.call('ZREM', EXPIRY, id) end

  addClaimed(claimed, v[10], v[2], attempts, token, v[6], v[7], v[11])
  return true
end

-- Queues strictly in the order given: a later one only once earlier ones
-- have nothing due. Each round removes at least one member, so it ends.
local function claimFor(owner, leaseExpiresAt, queues, workers, limit)
  promoteDue()
  local claimed, taken = {}, 0
  for _, queue in ipairs(queues) do
    while taken < limit do
      local members = takeHeads(queue, workers, limit - taken)
      if #members == 0 then break end
      for _, member in ipairs(members) do
        if claimOne(queue, memberId(member), owner, leaseExpiresAt, claimed) then
          taken = taken + 1
        end
      end
    end
  end
  return claimed, taken
end
`;
