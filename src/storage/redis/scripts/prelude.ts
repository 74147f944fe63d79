/**
 * Lua shared by every omniq script: key names, the task hash, the ready-set
 * ordering, counts and indexes, the event log and the signals. Each script's
 * source is this prelude followed by its own body, so one script stays one
 * atomic step.
 *
 * Every script takes the same first three arguments: ARGV[1] the key prefix,
 * ARGV[2] the id of the handle that runs it (so that handle can skip its own
 * signals when they come back over pub/sub; it ends in ":noevents" for a
 * handle opened with `recordEvents: false`, whose scripts store no events),
 * ARGV[3] the clock's "now" in ms.
 * Time is never read from the server: tests move a manual clock.
 *
 * Keys, all under the prefix P:
 *   P:task:<id>            the task hash (below)
 *   P:ready:<queue>:<type> waiting tasks that are due, by priority then member
 *   P:delayed              waiting tasks not yet due, by run-at
 *   P:leases               JSON arrays of ids to check for a lost lease, by when
 *   P:expiry               waiting tasks with a time-to-live, by expiry
 *   P:done                 JSON arrays of finished ids, by when their results expire
 *   P:all:<queue>          every task of a queue, by enqueue sequence
 *   P:state:<queue>:<s>    failed, cancelled, expired or blocked tasks, by
 *                          sequence
 *   P:counts               "<queue>\n<state>" -> number of tasks
 *   P:queues               every queue name ever used
 *   P:log                  events, in JSON arrays scored by their first seq
 *   P:events:<id>          seqs of a deleted task's events, until they expire
 *                          (and those of a schedule's events)
 *   P:taskseq, P:eventseq  the sequence counters
 *   P:batch:<id>           what an enqueue batch that dropped tasks for their
 *                          idempotency keys answered, should it be sent again
 *                          (real-time expiry)
 *   P:keys                 idempotency key -> the id of the task holding it
 *   P:controls             queue -> its flow controls as JSON (see controls.ts)
 *   P:rates                queue -> "<window start> <claims in it>", for rate limits
 *   P:schedules            schedule id -> "<version> <data>"
 *   P:offers, P:idle:<queue>:<worker>   claims waiting for tasks (see offers.ts)
 *   P:inbox:<origin>       tasks handed to one handle, not yet taken
 *   P:signals              the pub/sub channel
 *
 * The task hash (see hash.ts): `d` the task as enqueued (a JSON array),
 * `stem` the JSON fields every event of the task repeats, the fields scripts
 * need on their own (queue, worker, name, priority, runAt, seq, expiresAt,
 * resultTtlMs), the changing ones (state, attempts, token, leaseLosses,
 * cancelRequested and the cancelling error, leaseOwner, leaseExpiresAt,
 * startedAt, finishedAt, lastError, result), `ik` the idempotency key while
 * the task has one, and `ev`, the seqs of the task's events. A counter that
 * is 0 may be absent; lease fields mean something only while the task runs.
 * A `blocked` task (it has dependencies) is in none of the waiting sets
 * until `unblock` moves it on.
 */
export const PRELUDE = String.raw`
local P = ARGV[1]
local ORIGIN = ARGV[2]
local NOW = ARGV[3]
local NOW_N = tonumber(NOW)

local DELAYED = P .. ':delayed'
local LEASES = P .. ':leases'
local EXPIRY = P .. ':expiry'
local DONE = P .. ':done'
local QUEUES = P .. ':queues'
local COUNTS = P .. ':counts'
local LOG = P .. ':log'
local EVENT_SEQ = P .. ':eventseq'
local TASK_SEQ = P .. ':taskseq'
local SIGNALS = P .. ':signals'
local KEYS_HELD = P .. ':keys'

local function taskKey(id) return P .. ':task:' .. id end
local function orphanEventsKey(id) return P .. ':events:' .. id end
local function readyKey(queue, worker) return P .. ':ready:' .. queue .. ':' .. worker end
local function allKey(queue) return P .. ':all:' .. queue end
local function stateKey(queue, state) return P .. ':state:' .. queue .. ':' .. state end

local WAITING = { scheduled = true, pending = true, retrying = true }
-- Final states other than completed have an index of their own, so that
-- listing failed tasks never reads through every completed one.
local INDEXED = { failed = true, cancelled = true, expired = true }
-- Blocked tasks have an index too, for the dependency resolver every worker
-- runs: a task joins it when enqueued and leaves it when unblocked or
-- cancelled, the only ways out of 'blocked'.
local function blockedKey(queue) return stateKey(queue, 'blocked') end

local FIELDS = { 'state', 'queue', 'worker', 'priority', 'runAt', 'seq', 'attempts', 'token',
  'expiresAt', 'resultTtlMs', 'leaseLosses', 'cancelRequested', 'stem', 'ev', 'ik' }

-- Reads fields of a task (FIELDS unless a script names fewer or more) in one
-- HMGET; nil when there is no task. Counters and the event list get their
-- defaults: a zero counter may be absent from the hash.
local function load(id, fields)
  fields = fields or FIELDS
  local key = taskKey(id)
  local values = redis.call('HMGET', key, unpack(fields))
  if not values[1] then return nil end
  local t = { id = id, key = key }
  for i, field in ipairs(fields) do t[field] = values[i] end
  t.attempts = tonumber(t.attempts) or 0
  t.token = tonumber(t.token) or 0
  t.leaseLosses = tonumber(t.leaseLosses) or 0
  t.ev = t.ev or ''
  return t
end

-- Adds more fields to a loaded task, for the rarer paths of a script.
local function loadMore(t, fields)
  local values = redis.call('HMGET', t.key, unpack(fields))
  for i, field in ipairs(fields) do t[field] = values[i] end
end

-- A number as text for a command or JSON: whole numbers through the integer
-- formatter, which is exact and cheaper than Lua's float conversion.
local function num(n)
  if n == math.floor(n) and n > -1e15 and n < 1e15 then return string.format('%d', n) end
  return string.format('%.17g', n)
end

-- A whole number as text, made once per script for each value. A Lua number
-- given to redis.call or table.concat is written with a float format, which
-- costs many times more; attempts and tokens take few distinct values.
local intTexts = {}
local function intText(n)
  local text = intTexts[n]
  if not text then
    text = string.format('%d', n)
    intTexts[n] = text
  end
  return text
end

-- Within one priority (the score, negated so higher comes first) members sort
-- by bytes: zero-padded run-at, then the enqueue sequence, then the id. A
-- single float score cannot hold all three without losing precision.
local function readyMember(t)
  return string.format('%015d%012d', tonumber(t.runAt), tonumber(t.seq)) .. t.id
end

-- The id inside a ready member, after the 27 digits of run-at and sequence.
local function memberId(member) return string.sub(member, 28) end

local function addReady(t)
  redis.call('ZADD', readyKey(t.queue, t.worker), -tonumber(t.priority), readyMember(t))
end

-- Takes a waiting task out of whichever set it waits in.
local function removeWaiting(t)
  redis.call('ZREM', readyKey(t.queue, t.worker), readyMember(t))
  redis.call('ZREM', DELAYED, t.id)
  if t.expiresAt then redis.call('ZREM', EXPIRY, t.id) end
end

-- Counts per queue and state, gathered and written once at the end. Each
-- field's name is made once per script, not once per task.
local countDeltas, countFields, fieldNames = {}, {}, {}

local function count(queue, state, delta)
  local names = fieldNames[queue]
  if not names then
    names = {}
    fieldNames[queue] = names
  end
  local field = names[state]
  if not field then
    field = queue .. '\n' .. state
    names[state] = field
    countDeltas[field] = 0
    countFields[#countFields + 1] = field
  end
  countDeltas[field] = countDeltas[field] + delta
end

local function moveState(t, to)
  count(t.queue, t.state, -1)
  count(t.queue, to, 1)
  if INDEXED[to] then redis.call('ZADD', stateKey(t.queue, to), t.seq, t.id) end
  t.state = to
end

-- Signals: gathered while the script runs, published at its end and returned
-- to the caller, which delivers them to its own listeners at once.
local readyQueues, readyList, finishedIds, cancelIds = {}, {}, {}, {}

local function signalReady(queue)
  if readyQueues[queue] then return end
  readyQueues[queue] = true
  readyList[#readyList + 1] = queue
end

local function signalFinished(id) finishedIds[#finishedIds + 1] = id end
-- '"id":{outcome}' entries (JSON made by the caller) for the finished message,
-- so that waiters elsewhere need not read the task.
local finishedOutcomes = {}
local function signalCancel(id) cancelIds[#cancelIds + 1] = id end
-- Tasks leased to a waiting claim of the handle running this script (see
-- offers.ts), one message each: answered instead of published.
local handovers = {}

-- Events: numbered from one read of the counter and written together at the
-- end, not one by one: each member of the log is a JSON array of up to
-- EVENTS_PER_MEMBER events, scored by the seq of its first. All events of a
-- script share its "now", so housekeeping can drop a whole member at once.
-- The task's own 'ev' list gets the seq; the caller saves 'ev' with its next
-- HSET.
local EVENTS_PER_MEMBER = 500
local eventSeq = nil
local eventCount = 0
-- The events' text as pieces, PIECES_PER_EVENT each, joined once per log
-- member: cheaper than making a string per event.
local PIECES_PER_EVENT = 8
local eventPieces = {}
-- The text between an event's stem and its attempt, the same for every event
-- of one kind in a script.
local eventMiddles = {}

local RECORD_EVENTS = string.sub(ORIGIN, -9) ~= ':noevents'

-- Records an event of the task whose stem and event list are given, and
-- answers the list with the event's seq added.
local function addEventTo(stem, ev, kind, attempt, extra)
  if not RECORD_EVENTS then return ev end
  if not eventSeq then eventSeq = tonumber(redis.call('GET', EVENT_SEQ)) or 0 end
  eventSeq = eventSeq + 1
  local seq = num(eventSeq)
  local middle = eventMiddles[kind]
  if not middle then
    middle = ',"type":"' .. kind .. '","at":' .. NOW .. ',"attempt":'
    eventMiddles[kind] = middle
  end

  local at = eventCount * PIECES_PER_EVENT
  eventPieces[at + 1] = eventCount % EVENTS_PER_MEMBER == 0 and '{"seq":' or ',{"seq":'
  eventPieces[at + 2] = seq
  eventPieces[at + 3] = ','
  eventPieces[at + 4] = stem
  eventPieces[at + 5] = middle
  -- table.concat writes a whole number below 1e14 exactly; attempts are.
  eventPieces[at + 6] = attempt
  eventPieces[at + 7] = extra or ''
  eventPieces[at + 8] = '}'
  eventCount = eventCount + 1
  if ev == '' then return seq end
  return ev .. ' ' .. seq
end

local function addEvent(t, kind, attempt, extra)
  t.ev = addEventTo(t.stem, t.ev, kind, attempt, extra)
end

local function writeEvents()
  if not eventSeq then return end
  redis.call('SET', EVENT_SEQ, num(eventSeq))
  local first = eventSeq - eventCount + 1
  local perMember = EVENTS_PER_MEMBER * PIECES_PER_EVENT
  for i = 0, eventCount - 1, EVENTS_PER_MEMBER do
    local from = i * PIECES_PER_EVENT + 1
    local to = math.min(from + perMember - 1, #eventPieces)
    local member = '[' .. table.concat(eventPieces, '', from, to) .. ']'
    redis.call('ZADD', LOG, num(first + i), member)
  end
end

local function errorExtra(errorJson) return ',"error":' .. errorJson end

-- Writes fields of a task together with its event list.
local function save(t, ...)
  redis.call('HSET', t.key, 'ev', t.ev, ...)
end

-- Every message starts with the sender's origin, so that a handle skips its
-- own without parsing them; the value is JSON already, and 'tail' more of it.
local messageHead = '{"o":' .. cjson.encode(ORIGIN) .. ',"type":"'
local function publish(kind, field, valueJson, tail)
  redis.call('PUBLISH', SIGNALS, messageHead .. kind .. '","' .. field .. '":' .. valueJson ..
    (tail or '') .. '}')
end

-- The lease and deletion indexes hold groups, not single tasks: one member
-- per script and time, a JSON array of ids. A task is in its claim's group
-- (and a heartbeat's); housekeeping reads a group when its time comes and
-- checks each task's own hash, so a task that moved on needs no removal.
local groups = { [LEASES] = {}, [DONE] = {} }
local groupTimes = { [LEASES] = {}, [DONE] = {} }

-- The group of 'key' for time 'at', made on first use; callers that add
-- many ids at one time keep it rather than look it up for each.
local function groupOf(key, at)
  local group = groups[key][at]
  if not group then
    group = {}
    groups[key][at] = group
    groupTimes[key][#groupTimes[key] + 1] = at
  end
  return group
end

local function addToGroup(key, at, id)
  local group = groupOf(key, at)
  group[#group + 1] = id
end

local function watchLease(t, leaseExpiresAt) addToGroup(LEASES, leaseExpiresAt, t.id) end
-- When a result's time-to-live ends, worked out once per script for each ttl.
local deleteTimes = {}
local function deleteLater(t)
  local at = deleteTimes[t.resultTtlMs]
  if not at then
    at = num(NOW_N + tonumber(t.resultTtlMs))
    deleteTimes[t.resultTtlMs] = at
  end
  addToGroup(DONE, at, t.id)
end

local function writeGroups()
  for key, times in pairs(groupTimes) do
    for _, at in ipairs(times) do redis.call('ZADD', key, at, cjson.encode(groups[key][at])) end
  end
end

-- Ends every writing script: stores its events and counts, sends its signals,
-- and answers { result, ready queues, finished ids, cancel ids, handovers }.
local function finish(result)
  writeEvents()
  writeGroups()
  for _, field in ipairs(countFields) do
    local delta = countDeltas[field]
    if delta ~= 0 then redis.call('HINCRBY', COUNTS, field, num(delta)) end
  end
  for _, queue in ipairs(readyList) do publish('ready', 'queue', cjson.encode(queue)) end
  if #finishedIds > 0 then
    local outcomes = #finishedOutcomes > 0 and
      ',"outcomes":{' .. table.concat(finishedOutcomes, ',') .. '}' or nil
    publish('finished', 'ids', cjson.encode(finishedIds), outcomes)
  end
  for _, id in ipairs(cancelIds) do publish('cancel', 'id', cjson.encode(id)) end
  return { result, readyList, finishedIds, cancelIds, handovers }
end

-- Frees the idempotency key a task held, once it is final: the next
-- enqueue with that key stores its task. Checked against the holder, so a
-- key taken by another task since is left alone.
local function releaseKey(id, key)
  if key and redis.call('HGET', KEYS_HELD, key) == id then redis.call('HDEL', KEYS_HELD, key) end
end

-- A task reaches a final state, with its event: kept until its result
-- time-to-live passes. Extra arguments are more fields to save.
local function finalize(t, state, kind, extra, ...)
  moveState(t, state)
  addEvent(t, kind, t.attempts, extra)
  save(t, 'state', state, 'finishedAt', NOW, ...)
  releaseKey(t.id, t.ik)
  deleteLater(t)
  signalFinished(t.id)
end
`;
