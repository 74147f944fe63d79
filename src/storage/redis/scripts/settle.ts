import { PRELUDE } from "./prelude.js";

/** Values per settlement in the settle script's arguments. */
export const SETTLE_WIDTH = 6;

/**
 * Ends attempts. ARGV[4..] hold, per settlement: id, token, outcome
 * (`completed`, `failed` or `cancelled`), the encoded result or error JSON,
 * the retry time (empty: none), and the entry its finished message carries
 * (see signals.ts; empty: none). Answers 1 or 0 per settlement: applied or
 * not (the task no longer runs under that token).
 */
export const SETTLE = `${PRELUDE}
local applied = {}
-- What every outcome needs; a retry reads the rest of what it needs later.
local SETTLE_FIELDS = { 'state', 'token', 'queue', 'attempts', 'stem', 'ev', 'resultTtlMs' }
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

local function settleOne(id, token, outcome, value, retryAt, entry)
  local t = load(id, SETTLE_FIELDS)
  if not t or t.state ~= 'running' or t.token ~= tonumber(token) then return 0 end
  if entry ~= '' then finishedOutcomes[#finishedOutcomes + 1] = entry end

  if outcome == 'completed' then
    finalize(t, 'completed', 'completed', nil, 'result', value)
  elseif outcome == 'failed' and retryAt ~= '' then
    retry(t, value, retryAt)
  elseif outcome == 'failed' then
    loadMore(t, SEQ_FIELD)
    finalize(t, 'failed', 'error', errorExtra(value), 'lastError', value)
  else
    loadMore(t, SEQ_FIELD)
    finalize(t, 'cancelled', 'cancelled', errorExtra(value), 'lastError', value)
  end
  return 1
end

for i = 4, #ARGV, ${SETTLE_WIDTH} do
  applied[#applied + 1] = settleOne(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
    ARGV[i + 5])
end

return finish(applied)
`;
