import { INBOX_TTL_MS } from "./offers.js";

/** What the one-task script answers when the batch script must store the task instead. */
export const USE_BATCH_SCRIPT = "BATCH";

/**
 * Stores one task, with the batch script's arguments (ARGV[5] is 1) and to
 * the same effect, but without the prelude: this is the step between an
 * enqueue and an idle worker's start, and the prelude's setup is most of a
 * one-task script's cost on a server that has gone cold. It covers a task
 * that is scheduled, one that waits in its ready set, and one taken directly
 * by a waiting claim whose ready sets are empty with no delayed task due.
 * Any other case (a claim that must be served through its ready sets, or
 * flow controls set on any queue) answers `USE_BATCH_SCRIPT` having written
 * nothing. It takes no task with an idempotency key or dependencies: the
 * client sends those to the batch script. Answers what the batch script
 * would: an empty list of dropped tasks.
 *
 * Every key, field, event and message here is the batch script's (see
 * prelude.ts and offers.ts); a test stores the same tasks both ways and
 * compares what they leave.
 */
export const ENQUEUE_ONE = `
local P, ORIGIN, NOW, batch = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local NOW_N = tonumber(NOW)
local id, d, stem, queue, worker = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local priority, runAt, expiresAt = ARGV[11], ARGV[12], ARGV[13]
if expiresAt == '' then expiresAt = nil end
local key = P .. ':task:' .. id
local none = {}

local function num(n)
  if n == math.floor(n) and n > -1e15 and n < 1e15 then return string.format('%d', n) end
  return string.format('%.17g', n)
end

if redis.call('EXISTS', key) == 1 then
  if redis.call('HGET', key, 'b') == batch then return { none, none, none, none, none } end
  return redis.error_reply('DUPLICATE ' .. id)
end

-- A waiting claim takes the task only when nothing could come before it.
local state = tonumber(runAt) > NOW_N and 'scheduled' or 'pending'
local offer, encoded
if state == 'pending' then
  encoded = redis.call('ZREVRANGEBYSCORE', P .. ':idle:' .. queue .. ':' .. worker, '+inf',
    '(' .. NOW, 'LIMIT', 0, 1)[1]
end
if encoded then
  offer = cjson.decode(encoded)
  if expiresAt and tonumber(expiresAt) <= NOW_N then return { '${USE_BATCH_SCRIPT}', none, none, none, none } end
  -- Tasks waiting in the claim's ready sets come first; and flow controls
  -- on any queue (see controls.ts) are weighed by the claim's code. One
  -- EXISTS asks both: each call costs this step more than the test it makes.
  local before = { P .. ':controls' }
  for _, q in ipairs(offer.q) do
    for _, w in ipairs(offer.w) do before[#before + 1] = P .. ':ready:' .. q .. ':' .. w end
  end
  if redis.call('EXISTS', unpack(before)) > 0 then
    return { '${USE_BATCH_SCRIPT}', none, none, none, none }
  end
  if #redis.call('ZRANGEBYSCORE', P .. ':delayed', '-inf', NOW, 'LIMIT', 0, 1) > 0 then
    return { '${USE_BATCH_SCRIPT}', none, none, none, none }
  end
end

local seq = num(redis.call('INCR', P .. ':taskseq'))
-- The enqueued event's seq, and the executing one's after it for a handover.
local eventSeq = redis.call('INCRBY', P .. ':eventseq', offer and 2 or 1) - (offer and 1 or 0)
local fields = { 'd', d, 'stem', stem, 'queue', queue, 'worker', worker, 'priority', priority,
  'runAt', runAt, 'seq', seq, 'resultTtlMs', ARGV[14], 'name', ARGV[15], 'b', batch }
if expiresAt then
  fields[#fields + 1] = 'expiresAt'
  fields[#fields + 1] = expiresAt
end
local event = '{"seq":' .. num(eventSeq) .. ',' .. stem .. ',"type":"enqueued","at":' .. NOW ..
  ',"attempt":0}'
local handovers, ready = none, none

if offer then
  local lease = num(NOW_N + tonumber(offer.l))
  local executing = eventSeq + 1
  redis.call('HSET', key, 'ev', num(eventSeq) .. ' ' .. num(executing), 'state', 'running',
    'attempts', '1', 'token', '1', 'leaseOwner', offer.id, 'leaseExpiresAt', lease,
    'startedAt', NOW, unpack(fields))
  event = event .. ',{"seq":' .. num(executing) .. ',' .. stem ..
    ',"type":"executing","at":' .. NOW .. ',"attempt":1}'
  eventSeq = executing
  redis.call('HINCRBY', P .. ':counts', queue .. '\\nrunning', 1)
  redis.call('ZADD', P .. ':leases', lease, cjson.encode({ id }))

  for _, q in ipairs(offer.q) do
    for _, w in ipairs(offer.w) do redis.call('ZREM', P .. ':idle:' .. q .. ':' .. w, encoded) end
  end
  -- Its entry in P:offers stays, as the batch script leaves it (see offers.ts).
  local message = '{"owner":' .. cjson.encode(offer.id) .. ',"lease":' .. lease .. ',"at":' ..
    NOW .. ',"tasks":[[' .. d .. ',' .. runAt .. ',1,1,0,0,null]]}'
  if offer.o == ORIGIN then
    handovers = { message }
  else
    local inbox = P .. ':inbox:' .. offer.o
    redis.call('LPUSH', inbox, message)
    redis.call('PEXPIRE', inbox, ${INBOX_TTL_MS})
  end
else
  redis.call('HSET', key, 'ev', num(eventSeq), 'state', state, unpack(fields))
  redis.call('HINCRBY', P .. ':counts', queue .. '\\n' .. state, 1)
  if expiresAt then redis.call('ZADD', P .. ':expiry', expiresAt, id) end
  if state == 'scheduled' then
    redis.call('ZADD', P .. ':delayed', runAt, id)
  else
    redis.call('ZADD', P .. ':ready:' .. queue .. ':' .. worker, -tonumber(priority),
      string.format('%015d%012d', tonumber(runAt), tonumber(seq)) .. id)
  end
  ready = { queue }
  redis.call('PUBLISH', P .. ':signals', '{"o":' .. cjson.encode(ORIGIN) ..
    ',"type":"ready","queue":' .. cjson.encode(queue) .. '}')
end

redis.call('SADD', P .. ':queues', queue)
redis.call('ZADD', P .. ':all:' .. queue, seq, id)
redis.call('ZADD', P .. ':log', num(eventSeq - (offer and 1 or 0)), '[' .. event .. ']')
return { none, ready, none, none, handovers }
`;
