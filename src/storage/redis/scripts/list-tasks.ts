import { PRELUDE } from "./prelude.js";

/**
 * One step of `listTasks`, in enqueue order. ARGV[4] the queue (empty: every
 * queue), ARGV[5] the state (empty: any), ARGV[6] the name (empty: any),
 * ARGV[7] the sequence to read after (exclusive; `-inf` to start), ARGV[8]
 * matches still to skip, ARGV[9] matches still wanted, ARGV[10] how many
 * tasks to read at most.
 *
 * Reads each queue's enqueue-order index, or the index of a failed,
 * cancelled, expired or blocked state, merged by sequence. Answers { hashes as flat
 * field/value lists, the last sequence read, matches still to skip, 1 when
 * nothing is left to read }; the caller calls again from there.
 */
export const LIST_TASKS = `${PRELUDE}
local queues = ARGV[4] ~= '' and { ARGV[4] } or redis.call('SMEMBERS', QUEUES)
local state, name = ARGV[5], ARGV[6]
local after = ARGV[7] == '-inf' and '-inf' or '(' .. ARGV[7]
local skip, want, chunk = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local indexed = INDEXED[state] or state == 'blocked'

-- The first 'chunk' of each index after the cursor: together they hold the
-- first 'chunk' of the merged order.
local found = {}
local more = false
for _, queue in ipairs(queues) do
  local key = indexed and stateKey(queue, state) or allKey(queue)
  local range = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', 0, chunk)
  for i = 1, #range, 2 do found[#found + 1] = { range[i], tonumber(range[i + 1]) } end
  if #range == 2 * chunk then more = true end
end
table.sort(found, function(a, b) return a[2] < b[2] end)

local function matches(id)
  if name == '' and (state == '' or indexed) then return true end
  local current = redis.call('HMGET', taskKey(id), 'state', 'name')
  if state ~= '' and not indexed and current[1] ~= state then return false end
  return name == '' or current[2] == name
end

local hashes = {}
local last = ARGV[7]
local read = 0
for i = 1, math.min(chunk, #found) do
  if #hashes == want then break end
  local id = found[i][1]
  last = found[i][2]
  read = i
  if matches(id) then
    if skip > 0 then
      skip = skip - 1
    else
      hashes[#hashes + 1] = redis.call('HGETALL', taskKey(id))
    end
  end
end

local exhausted = (not more and read == #found) and 1 or 0
return { hashes, tostring(last), skip, exhausted }
`;
