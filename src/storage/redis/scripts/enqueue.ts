import { CLAIM_CORE } from "./claim-core.js";
import { OFFERS } from "./offers.js";
import { PRELUDE } from "./prelude.js";

/**
 * Values per task in the enqueue script's arguments: id, the task as JSON,
 * the event stem, queue, worker, priority, runAt, expiresAt (empty: none),
 * resultTtlMs and name.
 */
export const ENQUEUE_WIDTH = 10;

/** How long a batch id is remembered, in real ms: far longer than any reconnect. */
export const BATCH_MEMORY_MS = 3_600_000;

/**
 * Stores a batch of tasks, all or none. ARGV[4] is a batch id unique to the
 * call, ARGV[5] the number of tasks, then `ENQUEUE_WIDTH` values per task.
 * Fails with `DUPLICATE <id>` before writing anything when an id is taken.
 */
export const ENQUEUE = `${PRELUDE}${CLAIM_CORE}${OFFERS}
local batchKey = P .. ':batch:' .. ARGV[4]
local n = tonumber(ARGV[5])
local width = ${ENQUEUE_WIDTH}

-- The client sends a command again when its reply was lost in a reconnect;
-- a batch already stored must then answer as if it had just been stored,
-- not fail on its own ids.
if redis.call('EXISTS', batchKey) == 1 then return finish(n) end

-- Every id is checked before the first write: a script cannot roll back.
local seen = {}
for i = 0, n - 1 do
  local id = ARGV[6 + i * width]
  if seen[id] or redis.call('EXISTS', taskKey(id)) == 1 then
    return redis.error_reply('DUPLICATE ' .. id)
  end
  seen[id] = true
end

local firstSeq = redis.call('INCRBY', TASK_SEQ, n) - n + 1
local byQueue, queueOrder, scheduledIn = {}, {}, {}
-- Queue and worker type of the tasks that are ready now, each pair once.
local readyPairs, pairSeen = {}, {}
for i = 0, n - 1 do
  local b = 6 + i * width
  local t = { id = ARGV[b], key = taskKey(ARGV[b]), stem = ARGV[b + 2], queue = ARGV[b + 3],
    worker = ARGV[b + 4], priority = ARGV[b + 5], runAt = ARGV[b + 6], seq = num(firstSeq + i),
    ev = '' }
  local expiresAt = ARGV[b + 7]
  local state = tonumber(t.runAt) > NOW_N and 'scheduled' or 'pending'

  addEvent(t, 'enqueued', 0)
  save(t, 'd', ARGV[b + 1], 'stem', t.stem, 'queue', t.queue, 'worker', t.worker,
    'priority', t.priority, 'runAt', t.runAt, 'seq', t.seq, 'resultTtlMs', ARGV[b + 8],
    'name', ARGV[b + 9], 'state', state)
  if expiresAt ~= '' then
    redis.call('HSET', t.key, 'expiresAt', expiresAt)
    redis.call('ZADD', EXPIRY, expiresAt, t.id)
  end
  if state == 'scheduled' then
    redis.call('ZADD', DELAYED, t.runAt, t.id)
    scheduledIn[t.queue] = true
  else
    addReady(t)
    local seen = pairSeen[t.queue] or {}
    pairSeen[t.queue] = seen
    if not seen[t.worker] then
      seen[t.worker] = true
      readyPairs[#readyPairs + 1] = { t.queue, t.worker }
    end
  end
  count(t.queue, state, 1)

  -- Enqueue order per queue, for listings: written once per queue below.
  local members = byQueue[t.queue]
  if not members then
    members = {}
    byQueue[t.queue] = members
    queueOrder[#queueOrder + 1] = t.queue
    redis.call('SADD', QUEUES, t.queue)
  end
  members[#members + 1] = t.seq
  members[#members + 1] = t.id
end

for queue, members in pairs(byQueue) do
  for i = 1, #members, 2000 do
    redis.call('ZADD', allKey(queue), unpack(members, i, math.min(i + 1999, #members)))
  end
end

-- Claims waiting for these tasks take them now; a queue whose new tasks all
-- went to them needs no ready signal.
local handedAll = {}
for _, pair in ipairs(readyPairs) do
  local emptied = serveOffers(pair[1], pair[2])
  if handedAll[pair[1]] == nil or not emptied then handedAll[pair[1]] = emptied end
end
for _, queue in ipairs(queueOrder) do
  if scheduledIn[queue] or not handedAll[queue] then signalReady(queue) end
end

redis.call('SET', batchKey, '1', 'PX', ${BATCH_MEMORY_MS})
return finish(n)
`;
