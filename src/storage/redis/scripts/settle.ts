import { PRELUDE } from "./prelude.js";

/**
 * Ends attempts. ARGV[4] is a JSON list with, per settlement: id, token,
 * outcome (`completed`, `failed` or `cancelled`), the encoded result or
 * error JSON, and the retry time ("" for none). One argument, decoded in
 * one call, costs both sides less than five per settlement. ARGV[5] holds
 * the entries the finished message carries (see signals.ts), joined by the
 * caller; it may name a task whose settlement does not apply, which no
 * reader looks up, since only the ids listed as finished are read. Answers
 * 1 or 0 per settlement: applied or not (the task no longer runs under
 * that token).
 */
export const SETTLE = `${PRELUDE}
local applied = {}
-- What every outcome needs; a retry reads the rest of what it needs later.
local SETTLE_FIELDS = { 'state', 'token', 'queue', 'attempts', 'stem', 'ev', 'resultTtlMs', 'ik' }
local RETRY_FIELDS = { 'worker', 'priority', 'expiresAt', 'seq' }
-- Failed and cancelled tasks join an index by their enqueue sequence.
local SEQ_FIELD = { 'seq' }

-- A failure with a retry time waits again, in the delayed set or, when the
-- time has already come, straight in its ready set.
local function retry(t, errorJson, retryAt)
  loadMore(t, RETRY_FIELDS)
  moveState(t, 'retrying')
  addEvent(t, 'error', t.attempts, errorExtra(errorJson))
  addEvent(t, 'retry', t.attempts, ',"runAt":' .. retryAt)
  save(t, 'state', 'retrying', 'runAt', retryAt, 'lastError', errorJson)
  if t.expiresAt then redis.call('ZADD', EXPIRY, t.expiresAt, t.id) end

  t.runAt = retryAt
  if tonumber(retryAt) <= NOW_N then
    addReady(t)
    signalReady(t.queue)
  else
    redis.call('ZADD', DELAYED, retryAt, t.id)
  end
end

-- Completions are most of what a settle does: their counts and deletion
-- groups are gathered here and written once, per queue and per ttl.
local completedIn, deleteGroups = {}, {}

local function complete(key, id, v, value)
  local ev = addEventTo(v[5], v[6] or '', 'completed', v[4] or '0')
  redis.call('HSET', key, 'ev', ev, 'state', 'completed', 'finishedAt', NOW, 'result', value)
  releaseKey(id, v[8])

  local queue, ttl = v[3], v[7]
  completedIn[queue] = (completedIn[queue] or 0) + 1
  local group = deleteGroups[ttl]
  if not group then
    group = groupOf(DONE, num(NOW_N + tonumber(ttl)))
    deleteGroups[ttl] = group
  end
  group[#group + 1] = id
  signalFinished(id)
end

-- The fields are read into locals, not through 'load': this runs once per
-- settlement. Other outcomes than a completion build the task 'load' would.
local function settleOne(id, token, outcome, value, retryAt)
  local key = taskKey(id)
  local v = redis.call('HMGET', key, unpack(SETTLE_FIELDS))
  if v[1] ~= 'running' or tonumber(v[2]) ~= tonumber(token) then return 0 end
  if outcome == 'completed' then
    complete(key, id, v, value)
    return 1
  end

  local t = { id = id, key = key, state = v[1], token = tonumber(v[2]), queue = v[3],
    attempts = tonumber(v[4]) or 0, stem = v[5], ev = v[6] or '', resultTtlMs = v[7], ik = v[8] }
  if outcome == 'failed' and retryAt ~= '' then
    retry(t, value, num(retryAt))
  elseif outcome == 'failed' then
    loadMore(t, SEQ_FIELD)
    finalize(t, 'failed', 'error', errorExtra(value), 'lastError', value)
  else
    loadMore(t, SEQ_FIELD)
    finalize(t, 'cancelled', 'cancelled', errorExtra(value), 'lastError', value)
  end
  return 1
end

for _, s in ipairs(cjson.decode(ARGV[4])) do
  applied[#applied + 1] = settleOne(s[1], s[2], s[3], s[4], s[5])
end
if ARGV[5] ~= '' then finishedOutcomes[1] = ARGV[5] end
for queue, n in pairs(completedIn) do
  count(queue, 'running', -n)
  count(queue, 'completed', n)
end

return finish(applied)
`;
