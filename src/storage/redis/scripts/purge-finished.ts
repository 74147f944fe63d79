import { DELETION } from "./deletion.js";
import { PRELUDE } from "./prelude.js";

/**
 * One step of `purge`: deletes finished tasks of one queue and state with
 * their results, reading that state's index (completed tasks have none:
 * the queue's enqueue-order index, checked task by task). ARGV[4] the
 * queue, ARGV[5] the state, ARGV[6] the finish time to delete before (empty:
 * any), ARGV[7] the sequence to read after (exclusive; `-inf` to start),
 * ARGV[8] how many to delete at most, ARGV[9] how many entries to read at
 * most. Answers { tasks deleted, the last sequence read, 1 when nothing is
 * left to read }; the caller calls again from there.
 */
export const PURGE_FINISHED = `${PRELUDE}${DELETION}
local queue, state = ARGV[4], ARGV[5]
local before = ARGV[6] ~= '' and tonumber(ARGV[6]) or nil
local after = ARGV[7] == '-inf' and '-inf' or '(' .. ARGV[7]
local want, chunk = tonumber(ARGV[8]), tonumber(ARGV[9])
local PURGE_FIELDS = { 'state', 'queue', 'ev', 'finishedAt' }

local index = INDEXED[state] and stateKey(queue, state) or allKey(queue)
local range = redis.call('ZRANGEBYSCORE', index, after, '+inf', 'WITHSCORES', 'LIMIT', 0, chunk)
local deleted, last, read = 0, ARGV[7], 0
for i = 1, #range, 2 do
  if deleted == want then break end
  read = i + 1
  last = range[i + 1]
  local t = load(range[i], PURGE_FIELDS)
  if t and t.state == state and t.queue == queue and
    (not before or tonumber(t.finishedAt) < before) then
    deleteTask(t)
    deleted = deleted + 1
  end
end

local exhausted = (#range < 2 * chunk and read == #range) and 1 or 0
return finish({ deleted, last, exhausted })
`;
