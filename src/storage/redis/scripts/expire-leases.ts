import { PRELUDE } from "./prelude.js";

/**
 * Step 1 of `maintain`: running tasks whose lease ran out. ARGV[4] how many
 * lease groups to read at most, ARGV[5] the lease losses after which a task
 * fails. Answers { leases expired, groups read }: the caller repeats while a
 * full batch was read.
 */
export const EXPIRE_LEASES = `${PRELUDE}
local limit = tonumber(ARGV[4])
local maxLosses = tonumber(ARGV[5])
local groupsDue = redis.call('ZRANGEBYSCORE', LEASES, '-inf', NOW, 'LIMIT', 0, limit)
local expired = 0
local LEASE_FIELDS = { 'state', 'queue', 'worker', 'priority', 'runAt', 'seq', 'attempts',
  'token', 'expiresAt', 'resultTtlMs', 'leaseLosses', 'cancelRequested', 'stem', 'ev',
  'leaseExpiresAt', 'ik' }

local function lostError(t, losses)
  return cjson.encode({ name = 'WorkerLostError', message = 'the worker holding attempt ' ..
    t.attempts .. ' stopped heartbeating (lease lost ' .. losses .. ' time(s), limit ' ..
    maxLosses .. ')' })
end

-- Back to pending at once, in its old place in the ready set.
local function requeue(t, errorJson)
  moveState(t, 'pending')
  addEvent(t, 'retry', t.attempts, errorExtra(errorJson) .. ',"runAt":' .. NOW)
  save(t, 'state', 'pending', 'leaseLosses', num(t.leaseLosses))
  if t.expiresAt then redis.call('ZADD', EXPIRY, t.expiresAt, t.id) end
  addReady(t)
  signalReady(t.queue)
end

local function loseLease(t)
  expired = expired + 1
  t.leaseLosses = t.leaseLosses + 1

  if t.cancelRequested == '1' then
    local cancelled = redis.call('HGET', t.key, 'cancelError') or
      cjson.encode({ name = 'TaskCancelledError', message = 'cancelled while running' })
    finalize(t, 'cancelled', 'cancelled', errorExtra(cancelled), 'lastError', cancelled,
      'leaseLosses', num(t.leaseLosses))
  elseif t.leaseLosses >= maxLosses then
    local lost = lostError(t, t.leaseLosses)
    finalize(t, 'failed', 'error', errorExtra(lost), 'lastError', lost,
      'leaseLosses', num(t.leaseLosses))
  else
    requeue(t, lostError(t, t.leaseLosses))
  end
end

-- A group names tasks to look at now; only those still running on a lease
-- that has run out (not renewed by a heartbeat since) lose it.
for _, group in ipairs(groupsDue) do
  for _, id in ipairs(cjson.decode(group)) do
    local t = load(id, LEASE_FIELDS)
    if t and t.state == 'running' and tonumber(t.leaseExpiresAt) <= NOW_N then loseLease(t) end
  end
end
if #groupsDue > 0 then redis.call('ZREM', LEASES, unpack(groupsDue)) end

return finish({ expired, #groupsDue })
`;
